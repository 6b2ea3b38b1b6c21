"""The control calls a client may make of the run, each applied once, and the queries the
app's screens need (a subtask's diff and history, the profiles for the picker).

A call is a name and keyword arguments; its answer a JSON value, or one sentence of error.
Once the run has ended only the queries are answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agent_tui.engine.progress.checkpoints import WorkspaceFailed

if TYPE_CHECKING:
    from agent_tui.engine.loop import CoderLoop


class CallRefused(Exception):
    """The call cannot be made: one sentence for the client."""


Handler = Callable[..., Any]

QUERIES = frozenset({"status", "diff", "history", "profiles"})


class Calls:
    def __init__(self, loop: CoderLoop) -> None:
        self.loop = loop
        self.ended = False
        self._table: dict[str, Handler] = {
            "status": lambda: None,
            "pause": loop.pause,
            "resume": loop.resume,
            "interrupt": self._interrupt,
            "retry_now": loop.retry_now,
            "switch_profile": self._switch_profile,
            "note": self._note,
            "retry_stuck": self._retry_stuck,
            "stop": self._stop,
            "approve_plan": loop.approve_plan,
            "discard_plan": loop.discard_plan,
            "diff": self._diff,
            "history": self._history,
            "profiles": self._profiles,
        }

    async def make(self, name: object, args: object) -> Any:
        """Apply call ``name`` with ``args``; ``CallRefused`` says why it was not."""
        handler = self._table.get(name) if isinstance(name, str) else None
        if handler is None:
            raise CallRefused(f"no call named {name!r}")
        if self.ended and name not in QUERIES:
            raise CallRefused("the run has ended")
        if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
            raise CallRefused("a call's arguments are an object")
        try:
            result = handler(**args)
        except TypeError:
            raise CallRefused(f"{name}: wrong arguments") from None
        if isinstance(result, Awaitable):
            result = await result
        return result

    def _interrupt(self, lane: int | None = None) -> None:
        if lane is not None and (not isinstance(lane, int) or isinstance(lane, bool)):
            raise CallRefused("interrupt: lane is a number")
        self.loop.interrupt(lane)

    def _switch_profile(self, name: str) -> None:
        if name not in self.loop.profiles.names():
            raise CallRefused(f"no profile named {name!r}")
        self.loop.switch_profile(name)

    def _note(self, text: str) -> None:
        try:
            self.loop.add_note(_text(text, "note"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CallRefused(str(exc)) from None

    def _retry_stuck(self, subtask_id: str) -> bool:
        return self.loop.retry_subtask(_text(subtask_id, "retry_stuck"))

    def _stop(self, reason: str = "stopped by the user") -> None:
        self.loop.stop(_text(reason, "stop"))

    async def _diff(self, subtask_id: str) -> str:
        try:
            return await asyncio.to_thread(self.loop.subtask_diff, _text(subtask_id, "diff"))
        except WorkspaceFailed as exc:
            raise CallRefused(str(exc)) from None

    def _history(self, subtask_id: str) -> dict[str, Any]:
        history = self.loop.history
        subtask_id = _text(subtask_id, "history")
        return {
            "attempts": history.attempts(subtask_id),
            "stuck_reason": history.stuck_reason(subtask_id),
            "rollbacks": history.rollbacks(subtask_id),
        }

    async def _profiles(self) -> dict[str, Any]:
        """Every profile as the picker shows it: where its credentials come from (masked),
        or what is wrong; its usage window.  Credentials are looked up off the loop."""
        loop = self.loop
        problem = loop.reload_profiles()

        def rows() -> list[dict[str, Any]]:
            return [_row(loop, loop.profiles.get(name)) for name in loop.profiles.names()]

        return {"problem": problem, "profiles": await asyncio.to_thread(rows)}


def _row(loop: CoderLoop, profile: Any) -> dict[str, Any]:
    resolution = loop.profile_resolution(profile)
    credential = resolution.credential
    quota = loop.quota_of(profile.name)
    return {
        "name": profile.name,
        "usable": resolution.usable,
        "source": credential.source if credential is not None else None,
        "masked": credential.masked if credential is not None else None,
        "problem": resolution.problem,
        "quota": quota.as_dict() if quota is not None else None,
    }


def _text(value: object, call: str) -> str:
    if not isinstance(value, str):
        raise CallRefused(f"{call}: expected text")
    return value
