"""What every stage of a run shares: one session at a time, the error policy carried out,
and the way to wait for the user.  The planner and the coder are stages; QA will be one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from agent_tui.engine import events as ev
from agent_tui.engine.control import Control
from agent_tui.engine.errors import ErrorKind
from agent_tui.engine.loop_config import LoopConfig
from agent_tui.engine.plan_tracker import PlanTracker, Refresh
from agent_tui.engine.policy import (
    ACCOUNT_ERRORS,
    Action,
    Role,
    decide,
    needs_user_reason,
    uses_retry_budget,
)
from agent_tui.engine.recovery import AttemptHistory
from agent_tui.engine.result import RunOutcome, end
from agent_tui.engine.retry import RetryDecision, RetryTracker
from agent_tui.engine.rotation import NoUsableProfile, ProfileRotation
from agent_tui.engine.runner import SessionRunner
from agent_tui.engine.session import SessionOutcome
from agent_tui.engine.transcript import TranscriptError
from agent_tui.exit_codes import EXIT_STOPPED_SHORT


@dataclass
class RunParts:
    """The parts of one run, made and wired by ``CoderLoop``."""

    config: LoopConfig
    control: Control
    rotation: ProfileRotation
    runner: SessionRunner
    retry: RetryTracker
    tracker: PlanTracker
    history: AttemptHistory
    emit: ev.EventSink
    current_subtask: str | None = None


class Stage:
    def __init__(self, parts: RunParts) -> None:
        self.parts = parts
        self.config = parts.config
        self.control = parts.control
        self.retry = parts.retry
        self.tracker = parts.tracker
        self.history = parts.history
        self.emit = parts.emit

    def end_if_stopped(self) -> None:
        if self.control.stop_reason is not None:
            end(RunOutcome.INTERRUPTED, self.control.stop_reason)

    async def session(
        self, role: Role, subtask_id: str | None, prompt: str, attempt: int
    ) -> SessionOutcome | None:
        """Run one session; None when the run must not count it (no usable profile, paused)."""
        await self.parts.rotation.apply_pending()
        try:
            return await self.parts.runner.run(str(role), subtask_id, prompt, attempt)
        except NoUsableProfile as refusal:
            await self.needs_user(str(refusal))
        except TranscriptError as exc:
            await self.needs_user(f"{exc}: no session runs without its transcript")
        return None

    async def after_error(
        self, role: Role, outcome: SessionOutcome
    ) -> tuple[Action, RetryDecision | None]:
        """Carry out the policy's action for a failed session; return it (and the retry
        tracker's decision, if it was asked) for the stage to finish."""
        rotation = self.parts.rotation
        kind = outcome.error_kind or ErrorKind.OTHER
        auto_switch = self.config.auto_switch
        target = None
        if kind in ACCOUNT_ERRORS and auto_switch:
            rotation.note_failure()
            target = rotation.next_usable()
        decision = self.retry.on_error(kind) if uses_retry_budget(kind) else None
        action = decide(
            kind,
            role,
            give_up=decision is not None and decision.give_up,
            auto_switch=auto_switch,
            can_switch=target is not None,
        )
        if action == Action.SWITCH_PROFILE:
            assert target is not None
            rotation.request(target, str(kind))
        elif action == Action.BACK_OFF:
            assert decision is not None
            await self.control.backoff(decision)
        elif action == Action.NEEDS_USER:
            reason = needs_user_reason(
                kind,
                rotation.current,
                outcome.message,
                auto_switch=auto_switch,
                failed=rotation.failed,
                retry_reason=decision.reason if decision else "",
            )
            await self.needs_user(reason)
        return action, decision

    async def needs_user(self, reason: str) -> None:
        """Something only the user can fix: pause (app) or end the run (headless)."""
        if not self.config.pause_on_problem:
            end(RunOutcome.STOPPED, reason)
        await self.emit(ev.Notice(level="error", message=reason))
        await self.control.needs_user(reason)

    async def sync_plan(self) -> None:
        """Read the plan again if it changed on disk, and show what changed."""
        try:
            refresh = self.tracker.refresh()
        except OSError as exc:  # setting a corrupt plan aside failed
            self.cannot_write(self.config.plan_path, exc)
        await self.show(refresh)

    async def show(self, refresh: Refresh) -> None:
        if refresh.warning is not None:
            await self.emit(refresh.warning)
        if refresh.view is not None:
            await self.emit(refresh.view)
        for note in refresh.notes:
            await self.emit(ev.Notice(level="info", message=f"plan: {note}"))
        for subtask_id, status in refresh.statuses:
            await self.emit_status(subtask_id, status, self.attempts_so_far(subtask_id))

    async def set_status(self, subtask_id: str, status: str) -> None:
        try:
            refresh = await self.tracker.set_status(subtask_id, status)
        except OSError as exc:
            self.cannot_write(self.config.plan_path, exc)
        await self.show(refresh)

    async def record(self, write: Callable[..., None], *args: Any, session: int = 0) -> None:
        """Write the attempt history off the event loop; if it cannot be written, the run
        stops and says where that session is recorded after all (its transcript)."""
        try:
            await asyncio.to_thread(write, *args)
        except OSError as exc:
            where = ""
            if session:
                where = f"; session {session} is recorded in logs/session-{session:03d}.jsonl"
            self.cannot_write(self.history.path, exc, where)

    def cannot_write(self, path: Path, error: OSError, where: str = "") -> NoReturn:
        reason = error.strerror or str(error)
        end(
            RunOutcome.STOPPED,
            f"cannot write {path} ({reason}): the run stopped{where}",
            EXIT_STOPPED_SHORT,
        )

    async def emit_status(self, subtask_id: str, status: str, attempts: int) -> None:
        event = self.tracker.status_event(subtask_id, status, attempts)
        if event is not None:
            await self.emit(event)

    def attempts_so_far(self, subtask_id: str) -> int:
        """Sessions started for a subtask, counting one still running."""
        running = self.control.session is not None and self.parts.current_subtask == subtask_id
        return self.history.attempt_count(subtask_id) + (1 if running else 0)
