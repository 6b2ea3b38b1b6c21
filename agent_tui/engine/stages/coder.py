"""The coder stage: one session for a subtask, and what its outcome means for the subtask."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from agent_tui.engine.agents.claude.session import SessionOutcome
from agent_tui.engine.agents.transcript import last_session
from agent_tui.engine.checks.verify import VerifyResult, failed_check_prompt
from agent_tui.engine.control.result import RunOutcome, end
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.failures.policy import Action, Role
from agent_tui.engine.progress.checkpoints import WorkspaceFailed
from agent_tui.engine.progress.tracker import Refresh
from agent_tui.engine.prompts import render
from agent_tui.engine.stages.base import RunParts, Stage
from agent_tui.plan import Subtask, find_subtask, phase_of


class CoderStage(Stage):
    def __init__(self, parts: RunParts) -> None:
        super().__init__(parts)
        self.session_for: str | None = None
        """The subtask a coder session works on, from its start to the end of its check:
        while it is set, a completion the plan gains for any other subtask is the agent's."""
        self.unchecked: str | None = None
        """The subtask of a session whose claim its check has not decided yet: a run that
        ends meanwhile does not leave it completed in the plan."""

    async def work_on(self, subtask: Subtask) -> None:
        attempt = self.history.attempt_count(subtask.id) + 1
        await self.set_status(subtask.id, "in_progress")
        self.parts.current_subtask = subtask.id
        await self.emit_status(subtask.id, "in_progress", attempt)
        await self.try_failed(subtask.id)  # what an interrupted or killed session left
        self.session_for = self.unchecked = subtask.id
        try:
            prompt = self._prompt(subtask, attempt)
            outcome = await self.session(Role.CODER, subtask.id, prompt, attempt)
            if outcome is None:
                self.unchecked = None
                return
            await self.sync_plan()
            plan = self.tracker.plan
            check = await self._confirm(subtask, find_subtask(plan, subtask.id) if plan else None)
            self.unchecked = None
        finally:
            self.session_for = None
        completed = check is not None and check.counts_as_completed
        current = find_subtask(self.tracker.plan, subtask.id) if self.tracker.plan else None
        number = self.parts.runner.last_number
        await self.record(
            partial(
                self.history.record_attempt,
                profile=self.parts.rotation.current,
                cost_usd=outcome.cost_usd,
            ),
            subtask.id,
            number,
            *_attempt(outcome, completed, check),
            session=number,
        )
        if completed:  # its check passed: the work is kept, however the session ended
            await self.subtask_done(subtask)
        status = "completed" if completed else current.status if current else "pending"
        await self._settle(subtask, outcome, status, completed=completed, session=number)

    async def _settle(
        self,
        subtask: Subtask,
        outcome: SessionOutcome,
        status: str,
        *,
        completed: bool,
        session: int,
    ) -> None:
        """What the session's end means for its subtask, now ``status`` in the plan: a try
        that did not complete it is rolled back, and a session's error is dealt with."""
        attempts = self.history.attempt_count(subtask.id)
        if outcome.outcome == "interrupted":
            await self.emit_status(subtask.id, status, attempts)
        elif outcome.ok:
            self.retry.on_success()
            if not completed:
                await self.try_failed(subtask.id, session)
            await self.emit_status(subtask.id, status, attempts)
            tried = self.history.attempt_count(subtask.id, interrupted=False)
            if not completed:
                await self._not_completed(subtask.id, session, tried)
            if not completed and tried >= self.config.max_attempts:
                await self.mark_stuck(subtask.id, f"not completed after {tried} sessions")
        else:
            await self.emit_status(subtask.id, status if completed else "in_progress", attempts)
            if not completed:
                await self.try_failed(subtask.id, session)
            await self._after_failure(subtask, outcome, completed=completed)

    async def _not_completed(self, subtask_id: str, session: int, tried: int) -> None:
        """Say that the session's try did not complete its subtask (a check the user
        stopped spent no try, and says so itself)."""
        last = (self.history.attempts(subtask_id) or [{}])[-1]
        word = str(last.get("outcome", ""))
        if word == "interrupted":
            return
        reason = word.removeprefix("check_").replace("_", " ") if word.startswith("check_") else ""
        await self.emit(
            ev.SubtaskNotCompleted(
                id=subtask_id,
                session=session,
                tries=tried,
                max_tries=self.config.max_attempts,
                reason=f"its check {reason}" if reason else "",
            )
        )

    async def show(self, refresh: Refresh) -> None:
        """Show what the plan's re-read found; while a coder session works on one subtask, a
        completion of another is put back: only agent-tui's own check completes a subtask,
        and that runs for the subtask its session was for."""
        working = self.session_for
        claims = [i for i, s in refresh.statuses if s == "completed" and working not in (None, i)]
        # Its own subtask's claim is shown as still in progress: its check decides.
        rest = [
            (i, "in_progress" if (i, s) == (working, "completed") else s)
            for i, s in refresh.statuses
            if i not in claims
        ]
        await super().show(replace(refresh, statuses=rest))
        for subtask_id in claims:
            await self.set_status(subtask_id, refresh.previous.get(subtask_id, "pending"))
            message = (
                f"{subtask_id} was marked completed while the session for {working} ran; "
                "only its own session's check completes it, so it stays to be worked on"
            )
            await self.emit(ev.Notice(level="warning", message=message))
        if claims and refresh.view is not None:  # that view counted the claims: say it again
            await self.emit(self.tracker.view())

    async def subtask_done(self, subtask: Subtask) -> None:
        """The subtask is completed: its work becomes one commit on the work branch.  A
        check of the work belongs before this; a check that fails makes it a failed try.

        A token-looking string in the work stops it: the user fixes it in the worktree and
        resumes (headless: the run ends, and the next run commits before anything else)."""
        if not self.checkpoints.isolated:
            return
        await self.record(self.history.set_pending_commit, subtask.id)
        while True:
            try:
                problem = await self.checkpoints.commit(subtask.id, subtask.description)
            except WorkspaceFailed as exc:
                self.workspace_failed(exc)
            if problem is None:
                break
            await self.needs_user(problem)
            self.end_if_stopped()
        await self.record(self.history.set_pending_commit, None)

    async def resume(self) -> None:
        """What an earlier run left: a completion written by a session whose end was never
        recorded (killed, or the run ended inside it) was never checked, so its subtask is
        worked on again; a commit that run had to make is made."""
        last = last_session(self.config.logs_dir)
        plan = self.tracker.plan
        subtask = find_subtask(plan, last.subtask_id) if plan and last and last.subtask_id else None
        if last is not None and subtask is not None and subtask.status == "completed":
            recorded = any(
                a.get("session") == last.number for a in self.history.attempts(subtask.id)
            )
            if not recorded and self.history.pending_commit() != subtask.id:
                await self.set_status(subtask.id, "pending")
                message = (
                    f"session {last.number} ended before {subtask.id}'s check: what it "
                    "marked completed is worked on and checked again"
                )
                await self.emit(ev.Notice(level="warning", message=message))
        await self.commit_pending()

    async def commit_pending(self) -> None:
        """A subtask completed by a run that stopped before its commit is committed now;
        one no longer completed in the plan has nothing to commit."""
        pending = self.history.pending_commit()
        plan = self.tracker.plan
        subtask = find_subtask(plan, pending) if plan and pending else None
        if subtask is not None and subtask.status == "completed":
            await self.subtask_done(subtask)
        elif pending is not None:
            await self.record(self.history.set_pending_commit, None)

    async def try_failed(self, subtask_id: str, session: int | None = None) -> None:
        """The try did not complete its subtask: the worktree goes back to the last good
        commit, its patch kept in logs/ (``session`` None: a session of an earlier run).
        A subtask whose commit is still to be made is committed first: its work is done."""
        if self.history.pending_commit() is not None:
            await self.commit_pending()
        try:
            await self.checkpoints.roll_back(subtask_id, session)
        except WorkspaceFailed as exc:
            self.workspace_failed(exc)
        except OSError as exc:
            self.cannot_write(self.config.logs_dir, exc)

    async def _confirm(self, subtask: Subtask, current: Subtask | None) -> VerifyResult | None:
        """The check of a subtask its session marked completed (None: it did not): the one
        it had before the session, run where the session ran.  The plan says in progress
        while it runs, so a run stopped or lost meanwhile leaves no unchecked completion;
        a check that does not pass puts the subtask back to pending.  One that passes is
        recorded as a commit to make before the plan says completed, so no stop between the
        two leaves a completed subtask whose work the next try rolls back."""
        if current is None or current.status != "completed":
            return None
        if current.verification != subtask.verification:
            changed = f"subtask {subtask.id}'s verification changed during its session"
            await self.emit(ev.Notice(level="warning", message=f"{changed}: ran the old one"))
        await self.set_status(subtask.id, "in_progress")
        await self.checkpoints.before_sandbox()  # a check runs under the session's sandbox
        try:
            check = await self.parts.verifier.check(subtask, self.parts.runner.cwd)
        finally:
            await self.checkpoints.after_sandbox()
        if check.counts_as_completed and self.checkpoints.isolated:
            await self.record(self.history.set_pending_commit, subtask.id)
        await self.set_status(subtask.id, "completed" if check.counts_as_completed else "pending")
        return check

    async def _after_failure(
        self, subtask: Subtask, outcome: SessionOutcome, *, completed: bool
    ) -> None:
        """The policy for the session's error; a subtask it completed is not made stuck."""
        action, decision = await self.after_error(Role.CODER, outcome)
        if action not in (Action.GIVE_UP, Action.STOP_STUCK):
            return
        if completed:  # the errors in a row were this subtask's, and it is done
            self.retry.reset()
            return
        assert decision is not None
        await self.mark_stuck(subtask.id, decision.reason)
        if action == Action.STOP_STUCK:
            end(RunOutcome.STUCK, f"subtask {subtask.id} is stuck: {decision.reason}")

    async def retry_stuck(self, subtask_id: str) -> None:
        """Try a stuck subtask again: not stuck, tries afresh, pending in the plan."""
        await self.record(self.history.retry, subtask_id)
        await self.set_status(subtask_id, "pending")
        await self.emit(ev.SubtaskRetried(id=subtask_id))
        await self.emit_status(subtask_id, "pending", self.history.attempt_count(subtask_id))

    async def take_back_retried(self) -> None:
        """A stuck subtask the plan says is pending again: the user wants it retried.
        One the plan says is in progress is stuck after all: the plan says so too."""
        plan = self.tracker.plan
        assert plan is not None
        for subtask_id in sorted(self.history.stuck_ids()):
            subtask = find_subtask(plan, subtask_id)
            if subtask is None:
                continue
            if subtask.status == "pending":
                await self.retry_stuck(subtask_id)
            elif subtask.status == "in_progress":
                await self.set_status(subtask_id, "failed")

    async def put_back(self) -> None:
        """The run ends with its subtask unfinished: pending again, not left in progress nor
        completed by a claim its check never decided."""
        subtask_id = self.parts.current_subtask
        plan = self.tracker.plan
        subtask = find_subtask(plan, subtask_id) if plan and subtask_id else None
        claimed = subtask is not None and subtask.status == "completed"
        if subtask is not None and (
            subtask.status == "in_progress" or (claimed and self.unchecked == subtask.id)
        ):
            await self.set_status(subtask.id, "pending")

    async def mark_stuck(self, subtask_id: str, reason: str) -> None:
        self.retry.reset()  # the errors in a row were this subtask's: the next starts afresh
        await self.record(self.history.mark_stuck, subtask_id, reason)
        await self.set_status(subtask_id, "failed")
        await self.emit_status(subtask_id, "failed", self.history.attempt_count(subtask_id))
        await self.emit(ev.SubtaskStuck(id=subtask_id, reason=reason))

    def _prompt(self, subtask: Subtask, attempt: int) -> str:
        assert self.tracker.plan is not None
        phase = phase_of(self.tracker.plan, subtask.id)
        verification = "none"
        if subtask.verification and subtask.verification.command:
            verification = f"run `{subtask.verification.command}`"
            if subtask.verification.expected:
                verification += f", expect {subtask.verification.expected}"
        return render(
            "coder",
            subtask_id=subtask.id,
            description=subtask.description,
            phase_name=phase.name if phase else "",
            attempt=attempt,
            project_dir=self.checkpoints.project_dir,
            spec_dir=self.checkpoints.spec_dir,
            plan_path=self.checkpoints.plan_path,
            files_to_modify=", ".join(subtask.files_to_modify) or "-",
            files_to_create=", ".join(subtask.files_to_create) or "-",
            verification=verification,
            worktree=render("worktree") if self.checkpoints.isolated else "",
            failed_check=failed_check_prompt(self.history.attempts(subtask.id)),
            guidance=render("one_tool_at_a_time") if self.retry.guidance_due else "",
            human_input=self.note_text(),
        )


def _attempt(
    outcome: SessionOutcome, completed: bool, check: VerifyResult | None
) -> tuple[str, str | None, str, dict[str, Any] | None]:
    """The history's record of a session: its outcome, error kind, message and check.  A
    claim its check refuted is a failed try, and the check says why."""
    kind = str(outcome.error_kind) if outcome.error_kind else None
    if check is None:
        word = "incomplete" if outcome.ok and not completed else outcome.outcome
        return word, kind, outcome.message[:500], None
    if not completed:
        stopped = check.outcome == CheckOutcome.INTERRUPTED  # by the user: not a try
        word = "interrupted" if stopped else f"check_{check.outcome}"
        return word, kind, check.reason, check.record()
    return outcome.outcome, kind, outcome.message[:500], check.record()
