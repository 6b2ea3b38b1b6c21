"""The calls a client makes of the run: each applied once, refused in one sentence when it
cannot be, and only the queries once the run has ended."""

from __future__ import annotations

import pytest

from agent_tui.runproc.calls import CallRefused, Calls


class Profiles:
    def names(self) -> list[str]:
        return ["work", "home"]


class Loop:
    """What ``Calls`` reaches of a ``CoderLoop``, noting each call."""

    def __init__(self) -> None:
        self.made: list[tuple] = []
        self.profiles = Profiles()

    def pause(self) -> None:
        self.made.append(("pause",))

    def resume(self) -> None:
        self.made.append(("resume",))

    def retry_now(self) -> None:
        self.made.append(("retry_now",))

    def interrupt(self, lane=None) -> None:
        self.made.append(("interrupt", lane))

    def switch_profile(self, name: str) -> None:
        self.made.append(("switch_profile", name))

    def add_note(self, text: str) -> None:
        if text == "disk full":
            raise OSError(28, "No space left on device")
        self.made.append(("note", text))

    def retry_subtask(self, subtask_id: str) -> bool:
        return subtask_id == "1.2"

    def stop(self, reason: str) -> None:
        self.made.append(("stop", reason))

    def approve_plan(self) -> bool:
        return True

    def discard_plan(self) -> bool:
        return False

    def subtask_diff(self, subtask_id: str) -> str:
        return f"diff of {subtask_id}"


async def test_each_call_reaches_the_loop_once_with_its_arguments():
    loop = Loop()
    calls = Calls(loop)  # type: ignore[arg-type]
    assert await calls.make("pause", {}) is None
    await calls.make("interrupt", {"lane": 2})
    await calls.make("switch_profile", {"name": "home"})
    await calls.make("note", {"text": "use pathlib"})
    await calls.make("stop", {})
    assert loop.made == [
        ("pause",),
        ("interrupt", 2),
        ("switch_profile", "home"),
        ("note", "use pathlib"),
        ("stop", "stopped by the user"),
    ]
    assert await calls.make("retry_stuck", {"subtask_id": "1.2"}) is True
    assert await calls.make("approve_plan", {}) is True
    assert await calls.make("diff", {"subtask_id": "1.1"}) == "diff of 1.1"


@pytest.mark.parametrize(
    ("name", "args", "said"),
    [
        ("format_disk", {}, "no call named 'format_disk'"),
        (["pause"], {}, "no call named ['pause']"),
        ("pause", ["x"], "a call's arguments are an object"),
        ("pause", {"now": True}, "pause: wrong arguments"),
        ("interrupt", {"lane": "all"}, "interrupt: lane is a number"),
        ("switch_profile", {"name": "ghost"}, "no profile named 'ghost'"),
        ("note", {"text": 5}, "note: expected text"),
        ("note", {"text": "disk full"}, "No space left on device"),
    ],
)
async def test_a_call_that_cannot_be_made_is_refused_in_one_sentence(name, args, said):
    loop = Loop()
    with pytest.raises(CallRefused, match=None) as refused:
        await Calls(loop).make(name, args)  # type: ignore[arg-type]
    assert said in str(refused.value)
    assert loop.made == []


async def test_once_the_run_has_ended_only_the_queries_are_answered():
    loop = Loop()
    calls = Calls(loop)  # type: ignore[arg-type]
    calls.ended = True
    for name in ("pause", "resume", "stop", "note", "approve_plan"):
        with pytest.raises(CallRefused, match="the run has ended"):
            await calls.make(name, {})
    assert await calls.make("diff", {"subtask_id": "2.1"}) == "diff of 2.1"
    assert loop.made == []
