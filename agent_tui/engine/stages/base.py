"""What every stage of a run shares: one session at a time, the error policy carried out,
and the way to wait for the user.  The planner, the coder and QA are stages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from agent_tui.auth.redaction import redact
from agent_tui.engine.accounts.reset_wait import ResetWait, plan_reset_wait, reset_note
from agent_tui.engine.accounts.rotation import NoUsableProfile, ProfileRotation
from agent_tui.engine.agents.claude.session import SessionOutcome
from agent_tui.engine.agents.transcript import TranscriptError
from agent_tui.engine.checks.verify import Verifier
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.control.control import Control
from agent_tui.engine.control.notes import NoteBox
from agent_tui.engine.control.result import RunOutcome, end
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import QuotaStatus
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.failures.policy import (
    ACCOUNT_ERRORS,
    Action,
    Role,
    decide,
    needs_user_reason,
    uses_retry_budget,
)
from agent_tui.engine.failures.retry import RetryDecision, RetryTracker
from agent_tui.engine.progress.checkpoints import Checkpoints, WorkspaceFailed
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.progress.tracker import PlanTracker, Refresh
from agent_tui.engine.prompts import render
from agent_tui.engine.stages.runner import SessionRunner
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
    notes: NoteBox
    checkpoints: Checkpoints
    verifier: Verifier
    current_subtask: str | None = None
    reset_waited: str | None = None
    """The profile a wait for a usage limit just ended for: its next session runs even if
    the book still says exhausted (``r`` cut the wait short, or the clocks disagree)."""


class Stage:
    def __init__(self, parts: RunParts) -> None:
        self.parts = parts
        self.config = parts.config
        self.control = parts.control
        self.retry = parts.retry
        self.tracker = parts.tracker
        self.history = parts.history
        self.emit = parts.emit
        self.checkpoints = parts.checkpoints

    def end_if_stopped(self) -> None:
        if self.control.stop_reason is not None:
            end(RunOutcome.INTERRUPTED, self.control.stop_reason)

    async def session(
        self, role: Role, subtask_id: str | None, prompt: str, attempt: int
    ) -> SessionOutcome | None:
        """Run one session; None when the run must not count it (no usable profile, paused,
        or a wait for a usage limit: the prompt is made again after it)."""
        await self.parts.rotation.apply_pending()
        if await self.quota_gate():
            return None
        notes = self.parts.notes
        if notes.problem is not None:
            await self.emit(ev.Notice(level="warning", message=notes.problem))
        try:
            await self.checkpoints.push()
            try:
                outcome = await self.parts.runner.run(
                    str(role), subtask_id, prompt, attempt, note=notes.offered
                )
            finally:  # a session that could not be recorded may still have left things
                await self.checkpoints.after_session()
            await self._take_note(outcome)
            return outcome
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
        wait = self.reset_wait() if kind == ErrorKind.RATE_LIMIT else None
        decision = self.retry.on_error(kind) if uses_retry_budget(kind) else None
        action = decide(
            kind,
            role,
            give_up=decision is not None and decision.give_up,
            auto_switch=auto_switch,
            can_switch=target is not None,
            can_wait=wait is not None and wait.allowed,
        )
        if action == Action.SWITCH_PROFILE:
            assert target is not None
            rotation.request(target, str(kind))
        elif action == Action.BACK_OFF:
            assert decision is not None
            await self.control.backoff(decision)
        elif action == Action.WAIT_FOR_RESET:
            assert wait is not None
            await self.wait_for_reset(wait)
        elif action == Action.NEEDS_USER:
            await self.needs_user(self._reason(kind, outcome.message, decision, wait))
        return action, decision

    def _reason(
        self,
        kind: ErrorKind,
        message: str,
        decision: RetryDecision | None,
        wait: ResetWait | None,
    ) -> str:
        rotation = self.parts.rotation
        resets = ""
        if wait is not None:
            resets = reset_note(
                wait,
                rotation.wall(),
                max_wait_s=self.config.max_reset_wait_s,
                waiting=self.config.wait_for_reset,
            )
        return needs_user_reason(
            kind,
            rotation.current,
            message,
            auto_switch=self.config.auto_switch,
            failed=rotation.failed,
            retry_reason=decision.reason if decision else "",
            fix=rotation.login_hint(rotation.current),
            resets=resets,
        )

    def note_text(self) -> str:
        """The prompt's part for the user's note (HUMAN_INPUT.md), if there is one."""
        note = self.parts.notes.offer()
        # Masked: a note pasted with a token in it must not hand the token to the agent.
        return render("human_input", note=redact(note.strip())) if note else ""

    async def _take_note(self, outcome: SessionOutcome) -> None:
        """A session that reached the model has read the note: it is not sent again."""
        if not (outcome.ok or outcome.input_tokens or outcome.tool_calls):
            return
        number = self.parts.runner.last_number
        keep_as = self.config.logs_dir / f"session-{number:03d}.human-input.md"
        try:
            await asyncio.to_thread(self.parts.notes.take, keep_as)
        except OSError as exc:
            await self.emit(ev.Notice(level="warning", message=f"note not set aside: {exc}"))

    # ------------------------------------------------------------ usage windows

    async def quota_gate(self) -> bool:
        """Before a session: leave a profile whose usage window is exhausted (auto_switch),
        or wait for its reset, or pause for the user; and with auto_switch, leave one past
        the warning threshold for one with more headroom.  True: no session now."""
        rotation = self.parts.rotation
        rotation.quota.refresh()  # another run may have met a limit meanwhile
        current = rotation.current
        if rotation.exhausted_until(current) is None or self.parts.reset_waited == current:
            self.parts.reset_waited = None
            await self._leave_a_warned_profile()
            return False
        target = rotation.next_usable() if self.config.auto_switch else None
        if target is not None:
            rotation.request(target, "usage limit")
            await rotation.apply_pending()
            return False
        wait = self.reset_wait()
        if wait is not None and wait.allowed:
            await self.wait_for_reset(wait)
        else:
            await self.needs_user(self._reason(ErrorKind.RATE_LIMIT, "", None, wait))
        return True

    async def _leave_a_warned_profile(self) -> None:
        rotation = self.parts.rotation
        quota = rotation.quota.get(rotation.current)
        if not self.config.auto_switch or quota is None or quota.status != QuotaStatus.WARNING:
            return
        used = quota.utilization
        if used is not None and used < self.config.switch_at_utilization:
            return
        target = rotation.roomiest()
        if target is not None:
            share = f" at {used:.0%}" if used is not None else " near its limit"
            rotation.request(target, f"{quota.label}{share}")
            await rotation.apply_pending()

    def reset_wait(self) -> ResetWait | None:
        """The wait for the first usage window to reset among the profiles the run may use:
        with auto_switch any, else the current one."""
        rotation = self.parts.rotation
        names = rotation.store.names() if self.config.auto_switch else []
        if rotation.current not in names:
            names = [rotation.current, *names]
        return plan_reset_wait(
            rotation.quota,
            names,
            rotation.wall(),
            max_wait_s=self.config.max_reset_wait_s,
            waiting=self.config.wait_for_reset,
            margin_s=self.config.reset_margin_s,
        )

    async def wait_for_reset(self, wait: ResetWait) -> None:
        """Wait until ``wait``'s window opens; the next session runs on that profile."""
        rotation = self.parts.rotation
        await self.control.wait_for_reset(wait.wait_s, wait.resets_at)
        self.parts.reset_waited = wait.profile
        rotation.failed.discard(wait.profile)
        if wait.profile != rotation.current:
            rotation.request(wait.profile, "usage limit reset")

    async def needs_user(self, reason: str) -> None:
        """Something only the user can fix: pause (app) or end the run (headless)."""
        if not self.config.pause_on_problem:
            end(RunOutcome.STOPPED, reason)
        await self.emit(ev.Notice(level="error", message=reason))
        await self.control.needs_user(reason)

    async def sync_plan(self) -> None:
        """Bring back the agent's spec edits, read the plan again if it changed on disk, and
        show what changed."""
        await self.checkpoints.pull()
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

    def workspace_failed(self, error: WorkspaceFailed) -> NoReturn:
        end(RunOutcome.STOPPED, f"{error}: the run stopped", EXIT_STOPPED_SHORT)

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
