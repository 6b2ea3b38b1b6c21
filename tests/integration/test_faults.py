"""Fault injection through the sim: each fault ends in a clear outcome, nothing is lost."""

from __future__ import annotations

import errno
import json
import os
import signal

import pytest

from agent_tui.engine.agents import transcript as transcript_module
from agent_tui.engine.events import core as ev
from tests.integration.helpers import coder_steps, plan_doc, script

ONE = plan_doc([("1", [], ["1.1"])])


async def test_a_connection_dropped_mid_stream_is_retried(make_run):
    run = make_run(ONE, [script("1.1", [[{"fault": "drop"}], coder_steps("1.1")])])
    await run.go()
    assert run.exit_code == 0
    ended = run.of(ev.SessionEnded)
    assert [e.outcome for e in ended] == ["error", "success"]
    assert ended[0].error_kind == "other"
    assert [b.kind for b in run.of(ev.BackoffStarted)] == ["other"]


async def test_a_malformed_event_stream_is_an_error_not_a_crash(make_run):
    run = make_run(ONE, [script("1.1", [[{"fault": "malformed"}], coder_steps("1.1")])])
    await run.go()
    assert run.exit_code == 0
    assert run.of(ev.SessionEnded)[0].outcome == "error"


async def test_a_cli_killed_mid_session_is_recorded_and_retried(make_run):
    # The agent cannot kill its own CLI from the sandbox (it sees its own pid namespace),
    # so the test does, as soon as the first tool call shows.
    read = [{"text": "Oops.", "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]}]
    run = make_run(ONE, [script("1.1", [read, coder_steps("1.1")])])
    killed: list[int] = []

    groups: set[int] = set()

    def kill_the_cli(events):
        if not killed and any(isinstance(e, ev.ToolUse) for e in events):
            killed.extend(_cli_children())
            groups.update(_groups_below(killed))  # the CLI's own, with its sandbox's relays
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    run.on_event = kill_the_cli
    await run.go()
    assert killed and run.exit_code == 0
    assert groups and not _in_groups(groups)  # nothing of the killed session lives on
    first = run.of(ev.SessionEnded)[0]
    assert first.outcome == "error"
    history = json.loads((run.spec_dir / "memory" / "attempt_history.json").read_text())
    outcomes = [a["outcome"] for a in history["subtasks"]["1.1"]["attempts"]]
    assert outcomes == ["error", "success"]


def _stat(pid: str) -> list[str] | None:
    try:
        return open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    except OSError:
        return None


def _groups_below(parents: list[int]) -> set[int]:
    """The process groups of ``parents``' children (the launcher's CLI leads its own)."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(entry)
        if fields is not None and int(fields[1]) in parents:
            found.add(int(fields[2]))
    return found


def _in_groups(groups: set[int]) -> list[int]:
    alive = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(entry)
        if fields is not None and int(fields[2]) in groups and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def _cli_children() -> list[int]:
    """This process's children that are the bundled Claude Code CLI."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read()  # noqa: SIM115
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == os.getpid() and b"claude" in cmdline:
            found.append(int(entry))
    return found


async def test_repeated_500s_make_the_subtask_stuck_after_three_tries(make_run):
    run = make_run(ONE, [script("1.1", [[{"error": "server_error"}]])])
    await run.go()
    assert run.exit_code == 3
    assert len(run.of(ev.SessionStarted)) == 3
    assert all(e.error_kind == "other" for e in run.of(ev.SessionEnded))
    assert [s.id for s in run.of(ev.SubtaskStuck)] == ["1.1"]
    assert run.statuses()["1.1"] == "failed"


async def test_repeated_529s_stop_headless_with_a_reason_instead_of_marking_stuck(make_run):
    run = make_run(ONE, [script("1.1", [[{"error": "overloaded"}]])])
    await run.go()
    assert run.exit_code == 3
    assert {e.error_kind for e in run.of(ev.SessionEnded)} == {"overloaded"}
    finished = run.of(ev.LoopFinished)[-1]
    assert finished.outcome == "stopped" and "profile 'test'" in finished.message
    assert not run.of(ev.SubtaskStuck)


async def test_a_400_that_is_not_about_concurrency_is_an_ordinary_error(make_run):
    run = make_run(ONE, [script("1.1", [[{"error": "bad_request"}], coder_steps("1.1")])])
    await run.go()
    assert run.exit_code == 0
    assert run.of(ev.SessionEnded)[0].error_kind == "other"
    assert [b.kind for b in run.of(ev.BackoffStarted)] == ["other"]


async def test_a_reply_that_hangs_trips_the_idle_timeout(make_run):
    run = make_run(
        ONE, [script("1.1", [[{"fault": "hang"}], coder_steps("1.1")])], idle_timeout_s=1.5
    )
    await run.go()
    assert run.exit_code == 0
    assert [e.outcome for e in run.of(ev.SessionEnded)] == ["timeout", "success"]


async def test_a_full_disk_on_the_transcript_stops_with_a_clear_error(make_run, monkeypatch):
    run = make_run(ONE, [script("1.1", [coder_steps("1.1")])])
    full = _dev_full()
    monkeypatch.setattr(transcript_module, "open_new", lambda path: os.open(full, os.O_WRONLY))
    await run.go()
    assert run.exit_code == 3
    finished = run.of(ev.LoopFinished)[-1]
    assert "No space left on device" in finished.message
    assert run.statuses()["1.1"] in ("pending", "in_progress")


def _dev_full():
    from pathlib import Path

    path = Path("/dev/full")
    if not path.exists():
        pytest.fail("/dev/full is needed to simulate a full disk")
    return path


def test_enospc_is_what_dev_full_gives():
    with pytest.raises(OSError) as caught, open("/dev/full", "w") as handle:
        handle.write("x")
        handle.flush()
    assert caught.value.errno == errno.ENOSPC
