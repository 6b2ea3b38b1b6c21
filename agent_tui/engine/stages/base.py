"""What every stage of a run shares: a session for an attempt, the error policy carried out
for it, and the way to wait for the user.  The planner, the coder and QA are stages.

A stage holds no "current" session: each call is handed the ``Attempt`` it is about, so the
coder's lanes run their attempts side by side through the same stage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from agent_tui.auth.redaction import redact
from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.accounts.reset_wait import ResetWait, plan_reset_wait, reset_note
from agent_tui.engine.accounts.rotation import NoUsableProfile
from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.agents.transcript import TranscriptError
from agent_tui.engine.checks.verify import CheckSite, Verifier, VerifyResult
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
    decide,
    needs_user_reason,
    uses_retry_budget,
)
from agent_tui.engine.failures.retry import RetryBook, RetryDecision, RetryTracker
from agent_tui.engine.progress.checkpoints import Checkpoints, WorkspaceFailed
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.progress.tracker import PlanTracker, Refresh
from agent_tui.engine.prompts import render
from agent_tui.engine.schedule.attempt import Attempt
from agent_tui.engine.schedule.lanes import Lane
from agent_tui.engine.stages.budget_gate import budget_gate
from agent_tui.engine.stages.runner import SessionRunner
from agent_tui.exit_codes import EXIT_STOPPED_SHORT
from agent_tui.plan import Subtask


@dataclass
class RunParts:
    """The parts of one run, made and wired by ``CoderLoop``."""

    config: LoopConfig
    control: Control
    runner: SessionRunner
    retries: RetryBook
    tracker: PlanTracker
    history: AttemptHistory
    emit: ev.EventSink
    notes: NoteBox
    checkpoints: Checkpoints
    """The spec's own workspace: the integration branch's worktree (or the project)."""
    verifier: Verifier
    quota: QuotaBook
    spec_lane: Lane
    """The spec's own worktree (or the project): the planner's, QA's and the final
    check's, and the only coder lane when there is one."""
    lanes: list[Lane]
    """The coder's lanes: ``[spec_lane]``, or several with worktrees of their own."""
    attempts: dict[str, Attempt] = field(default_factory=dict)
    """The coder's attempts under way (a session or its check), by subtask."""
    reset_waited: str | None = None
    """The profile a wait for a usage limit just ended for: its next session runs even if
    the book still says exhausted (``r`` cut the wait short, or the clocks disagree)."""


class Stage:
    def __init__(self, parts: RunParts) -> None:
        self.parts = parts
        self.config = parts.config
        self.control = parts.control
        self.retries = parts.retries
        self.tracker = parts.tracker
        self.history = parts.history
        self.emit = parts.emit
        self.checkpoints = parts.checkpoints

    def end_if_stopped(self) -> None:
        if self.control.stop_reason is not None:
            end(RunOutcome.INTERRUPTED, self.control.stop_reason)

    async def session(
        self, attempt: Attempt, prompt: str, up: Callable[[], None] | None = None
    ) -> SessionOutcome | None:
        """Run ``attempt``'s session; None when the run must not count it (no usable profile,
        paused, or a wait for a usage limit: the prompt is made again after it; or the try
        was cut before its session began).  ``up``: called once its CLI has started."""
        lane = attempt.lane
        await lane.rotation.apply_pending()
        if await self.quota_gate(attempt) or await budget_gate(self, attempt):
            return None
        if attempt.cut is not None:  # while it waited: its work could not be merged
            return None
        notes = self.parts.notes
        if notes.problem is not None:
            await self.emit(ev.Notice(level="warning", message=notes.problem))
        try:
            await lane.site.push()
            checks = await self._checks_before(lane)
            try:
                note = notes.offered_to(lane)
                outcome = await self.parts.runner.run(attempt, prompt, note=note, up=up)
            finally:  # a session that could not be recorded may still have left things
                await lane.site.after_session()
                if checks is not None:
                    await self.keep_checks(checks, attempt.number)
            await self._take_note(attempt, outcome)
            return outcome
        except NoUsableProfile as refusal:
            await self.needs_user(str(refusal))
        except TranscriptError as exc:
            await self.needs_user(f"{exc}: no session runs without its transcript")
        return None

    def retry_of(self, attempt: Attempt) -> RetryTracker:
        """The retry tracker of ``attempt``'s work (its subtask's, the planner's, QA's)."""
        return self.retries.of(attempt.subtask_id or self.retry_key)

    retry_key = ""
    """The retry book's key of the stage's sessions that have no subtask."""

    async def after_error(
        self, attempt: Attempt, outcome: SessionOutcome
    ) -> tuple[Action, RetryDecision | None]:
        """Carry out the policy's action for a failed session; return it (and the retry
        tracker's decision, if it was asked) for the stage to finish."""
        lane = attempt.lane
        rotation = lane.rotation
        kind = outcome.error_kind or ErrorKind.OTHER
        auto_switch = self.config.auto_switch
        target = None
        if kind in ACCOUNT_ERRORS and auto_switch:
            rotation.note_failure()
            target = rotation.next_usable()
        wait = self.reset_wait(lane) if kind == ErrorKind.RATE_LIMIT else None
        retry = self.retry_of(attempt)
        decision = retry.on_error(kind) if uses_retry_budget(kind) else None
        action = decide(
            kind,
            attempt.role,
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
            attempt.backed_off = True
            await self.control.backoff(decision, lane.id)
        elif action == Action.WAIT_FOR_RESET:
            assert wait is not None
            attempt.backed_off = True
            await self.wait_for_reset(wait, lane)
        elif action == Action.NEEDS_USER:
            await self.needs_user(self._reason(lane, kind, outcome.message, decision, wait))
        return action, decision

    def _reason(
        self,
        lane: Lane,
        kind: ErrorKind,
        message: str,
        decision: RetryDecision | None,
        wait: ResetWait | None,
    ) -> str:
        rotation = lane.rotation
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

    def note_text(self, holder: Lane) -> str:
        """The prompt's part for the user's note (HUMAN_INPUT.md), if there is one and no
        other lane's session holds it."""
        note = self.parts.notes.offer(holder)
        # Masked: a note pasted with a token in it must not hand the token to the agent.
        return render("human_input", note=redact(note.strip())) if note else ""

    async def _take_note(self, attempt: Attempt, outcome: SessionOutcome) -> None:
        """A session that reached the model has read the note: it is not sent again."""
        notes = self.parts.notes
        if not (outcome.ok or outcome.input_tokens or outcome.tool_calls):
            notes.release(attempt.lane)
            return
        number = attempt.number
        keep_as = self.config.logs_dir / f"session-{number:03d}.human-input.md"
        try:
            await asyncio.to_thread(notes.take, attempt.lane, keep_as)
        except OSError as exc:
            await self.emit(ev.Notice(level="warning", message=f"note not set aside: {exc}"))

    # ------------------------------------------------------------ usage windows

    async def quota_gate(self, attempt: Attempt) -> bool:
        """Before a session: leave a profile whose usage window is exhausted (auto_switch),
        or wait for its reset, or pause for the user; and with auto_switch, leave one past
        the warning threshold for one with more headroom.  True: no session now."""
        lane = attempt.lane
        rotation = lane.rotation
        rotation.quota.refresh()  # another run may have met a limit meanwhile
        current = rotation.current
        if rotation.exhausted_until(current) is None or self.parts.reset_waited == current:
            self.parts.reset_waited = None
            await self._leave_a_warned_profile(lane)
            return False
        target = rotation.next_usable() if self.config.auto_switch else None
        if target is not None:
            rotation.request(target, "usage limit")
            await rotation.apply_pending()
            return False
        wait = self.reset_wait(lane)
        if wait is not None and wait.allowed:
            attempt.backed_off = True
            await self.wait_for_reset(wait, lane)
        else:
            await self.needs_user(self._reason(lane, ErrorKind.RATE_LIMIT, "", None, wait))
        return True

    async def _leave_a_warned_profile(self, lane: Lane) -> None:
        rotation = lane.rotation
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

    def reset_wait(self, lane: Lane) -> ResetWait | None:
        """The wait for the first usage window to reset among the profiles the lane may use:
        with auto_switch any, else its current one."""
        rotation = lane.rotation
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

    async def wait_for_reset(self, wait: ResetWait, lane: Lane) -> None:
        """Wait until ``wait``'s window opens; the lane's next session runs on that profile."""
        rotation = lane.rotation
        await self.control.wait_for_reset(wait.wait_s, wait.resets_at, lane.id)
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

    async def sync_plan(self, lane: Lane | None = None) -> None:
        """Bring back ``lane``'s agent's spec edits (every lane's: None), read the plan again
        if it changed on disk, and show what changed."""
        for each in self.parts.lanes if lane is None else [lane]:
            await each.site.pull()
        await self.refresh_plan()

    async def _checks_before(self, lane: Lane) -> dict[str, object] | None:
        """In place, the checks as a session starts (the plan read again: the user may
        have changed one while paused); None in a worktree, where the agent edits a copy
        whose checks never come back (``SpecMirror.pull``)."""
        if lane.site.isolated:
            return None
        await self.refresh_plan()
        return self.tracker.checks()

    async def keep_checks(self, before: dict[str, object], session: int) -> None:
        """Put back each check that changed during ``session`` (``before``: the tracker's
        ``checks`` as it started), and say which: the agent does not choose what proves
        its work (a check the user means to change is changed while the run is paused)."""
        try:
            refresh, put_back, gone = await self.tracker.put_back_checks(before)
        except OSError as exc:
            self.cannot_write(self.config.plan_path, exc)
        await self.show(refresh)
        for subtask_id in put_back:
            message = (
                f"subtask {subtask_id}'s check changed during session {session}: put back as "
                "it was (change a check while the run is paused)"
            )
            await self.emit(ev.Notice(level="warning", message=message))
        for subtask_id in gone:
            message = (
                f"subtask {subtask_id} left the plan during session {session}, and its check "
                "with it: look at the plan (agent-tui runs only the checks the plan has)"
            )
            await self.emit(ev.Notice(level="warning", message=message))

    async def refresh_plan(self) -> None:
        """Read the plan again if it changed on disk, and show what changed."""
        try:
            refresh = await self.tracker.refresh()
        except OSError as exc:  # setting a corrupt plan aside failed
            self.cannot_write(self.config.plan_path, exc)
        await self.show(refresh)

    async def check(self, subtask: Subtask, lane: Lane) -> VerifyResult:
        """Run ``subtask``'s check where ``lane``'s agent works, contained as it is."""
        site = lane.site
        await site.before_sandbox()  # a check runs under the session's sandbox
        try:
            return await self.parts.verifier.check(subtask, self.check_site(lane))
        finally:
            await site.after_sandbox()

    @staticmethod
    def check_site(lane: Lane) -> CheckSite:
        """Where a check runs in ``lane``, and as whose Bash."""
        return CheckSite(lane.site.project_dir, lane.containment, lane.guard, lane.id)

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
        attempt = self.parts.attempts.get(subtask_id)
        running = attempt is not None and attempt.number > 0 and not attempt.recorded
        return self.history.attempt_count(subtask_id) + (1 if running else 0)
