"""The coder stage: one attempt at a subtask in a lane, and what its outcome means.

Each call is about one ``Attempt``: lanes run theirs side by side through this one stage.
With one lane a subtask whose check passed is committed on the spec's own branch; with
several, on its lane's branch, and the merge queue brings it onto the spec's branch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from agent_tui.engine.agents.protocol import Ending, SessionOutcome
from agent_tui.engine.agents.runaway import runaway_prompt
from agent_tui.engine.agents.transcript import last_session
from agent_tui.engine.checks.verify import (
    CommandCheck,
    VerifyResult,
    check_of,
    failed_check_prompt,
)
from agent_tui.engine.control.result import RunOutcome, end
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.failures.policy import Action, Role
from agent_tui.engine.progress.checkpoints import Checkpoints, WorkspaceFailed
from agent_tui.engine.progress.tracker import Refresh
from agent_tui.engine.prompts import render
from agent_tui.engine.schedule.attempt import Attempt, Claim
from agent_tui.engine.schedule.lanes import Lane
from agent_tui.engine.stages.base import Stage
from agent_tui.plan import Subtask, find_subtask, phase_of


class CoderStage(Stage):
    on_check_passed = None
    """With several lanes: what takes a subtask whose check passed in its lane (the merge
    queue); None: it is completed and committed where it was worked on."""
    recheck_lane: Lane | None = None
    """With several lanes: where the merge queue checks a subtask again."""

    def attempt(self, subtask: Subtask, lane: Lane, on: tuple[str, str] | None = None) -> Attempt:
        """A try at ``subtask`` in ``lane``, which it now holds (``release`` frees it);
        ``on``: the subtask, and its commit, whose work waiting to be merged it starts on."""
        tries = self.history.attempt_count(subtask.id) + 1
        attempt = Attempt(Role.CODER, lane, subtask, tries=tries)
        if on is not None:
            attempt.on, attempt.on_commit = on
        self.parts.attempts[subtask.id] = lane.attempt = lane.last = attempt
        return attempt

    async def cut_stacked_on(self, subtask_id: str, commit: str, why: str) -> None:
        """``subtask_id``'s work (its ``commit``) went back (``why``), so a try started on it
        cannot be merged: its session ends now rather than at its end (no try spent; its
        subtask starts again once ``subtask_id`` is merged), and one not begun does not."""
        for attempt in list(self.parts.attempts.values()):
            on = (attempt.on, attempt.on_commit)
            if on != (subtask_id, commit) or attempt.outcome is not None or attempt.cut:
                continue
            attempt.cut = f"stopped: it built on {subtask_id}'s work, which did not merge"
            message = (
                f"lane {attempt.lane.id}: {attempt.subtask_id}'s session is stopped; it built "
                f"on {subtask_id}'s work, which went back ({why})"
            )
            await self.emit(ev.Notice(level="info", message=message))
            if attempt.session is not None:
                self.control.background(attempt.session.terminate())

    async def _cut_back(self, attempt: Attempt) -> None:
        """A try that was cut (``cut_stacked_on``) and did not complete its subtask leaves it
        pending, not in progress: it cannot go on before the work it built on is merged."""
        plan, subtask_id = self.tracker.plan, attempt.subtask_id or ""
        current = find_subtask(plan, subtask_id) if plan else None
        if attempt.cut is None or current is None or current.status != "in_progress":
            return
        await self.set_status(subtask_id, "pending")
        await self.emit_status(subtask_id, "pending", self.history.attempt_count(subtask_id))

    def release(self, attempt: Attempt) -> None:
        self.parts.attempts.pop(attempt.subtask_id or "", None)
        attempt.lane.attempt = None

    async def work_on(self, subtask: Subtask, lane: Lane) -> Attempt:
        """One try at ``subtask`` in ``lane``, to its end."""
        attempt = self.attempt(subtask, lane)
        try:
            await self.work(attempt)
        finally:
            self.release(attempt)
        return attempt

    async def work(self, attempt: Attempt) -> None:
        """The try to its end: its session, its check, its commit or its place in the merge
        queue, and the policy for its errors (waits included)."""
        subtask, lane = attempt.subtask, attempt.lane
        assert subtask is not None
        await self.set_status(subtask.id, "in_progress")
        await self.emit_status(subtask.id, "in_progress", attempt.tries)
        await self.try_failed(subtask.id, lane.site)  # what an interrupted or killed try left
        await self.start_lane(lane, attempt.on_commit)
        up = partial(self._warm_checks, subtask, lane)
        outcome = await self.session(attempt, self._prompt(attempt), up)
        if outcome is None:
            attempt.claim = Claim.DECIDED
            await self._cut_back(attempt)
            return
        await self.sync_plan(lane)
        plan = self.tracker.plan
        check = await self._confirm(attempt, find_subtask(plan, subtask.id) if plan else None)
        attempt.check = check
        attempt.claim = Claim.DECIDED
        completed = check is not None and check.counts_as_completed
        current = find_subtask(self.tracker.plan, subtask.id) if self.tracker.plan else None
        await self.record(
            partial(
                self.history.record_attempt,
                profile=lane.rotation.current,
                cost_usd=outcome.cost_usd,
            ),
            subtask.id,
            attempt.number,
            *_attempt(outcome, completed, check),
            session=attempt.number,
        )
        attempt.recorded = True
        queued = False
        if completed:  # its check passed: the work is kept, however the session ended
            queued = await self.subtask_done(subtask, lane.site)
        status = "completed" if completed else current.status if current else "pending"
        if queued:
            status = "in_progress"
        await self._settle(attempt, outcome, status, completed=completed)
        if not completed:
            await self._cut_back(attempt)

    async def _settle(
        self, attempt: Attempt, outcome: SessionOutcome, status: str, *, completed: bool
    ) -> None:
        """What the session's end means for its subtask, now ``status`` in the plan: a try
        that did not complete it is rolled back, and a session's error is dealt with."""
        subtask = attempt.subtask
        assert subtask is not None
        site = attempt.lane.site
        attempts = self.history.attempt_count(subtask.id)
        if outcome.outcome == Ending.INTERRUPTED:
            await self.emit_status(subtask.id, status, attempts)
        elif outcome.ok:
            self.retry_of(attempt).on_success()
            if not completed:
                await self.try_failed(subtask.id, site, attempt.number)
            await self.emit_status(subtask.id, status, attempts)
            if not completed:
                tried = self.history.attempt_count(subtask.id, interrupted=False)
                await self._not_completed(subtask.id, attempt.number, tried)
                await self.stuck_if_out_of_tries(subtask.id)
        else:
            await self.emit_status(subtask.id, status if completed else "in_progress", attempts)
            if not completed:
                await self.try_failed(subtask.id, site, attempt.number)
            await self._after_failure(attempt, outcome, completed=completed)

    def _warm_checks(self, subtask: Subtask, lane: Lane) -> None:
        """The session has started: what runs ``subtask``'s check in its lane, and in the
        merge queue, may start now, while the model works, rather than hold up the check."""
        for where in (lane, self.recheck_lane):
            if where is not None:
                self.parts.verifier.warm(subtask, self.check_site(where))

    def own_worktree(self, lane: Lane) -> bool:
        """``lane`` works in a worktree of its own, not in the spec's."""
        return lane.site is not self.checkpoints and lane.site.isolated

    async def start_lane(self, lane: Lane, on: str | None = None) -> None:
        """A lane of its own starts each try from the spec branch's tip as it is now (or
        from ``on``, the commit of work waiting to be merged that the try builds on)."""
        if not self.own_worktree(lane):
            return
        try:
            await lane.site.start_from(on or await self.checkpoints.tip())
        except WorkspaceFailed as exc:
            self.workspace_failed(exc)

    async def final_check(
        self,
        lane: Lane | None = None,
        passed_on: Mapping[str, tuple[str, CommandCheck | str]] | None = None,
        beside: Sequence[Lane] = (),
    ) -> bool:
        """Every completed subtask's check once more, on the spec's own tree as the run
        leaves it: later work (a retry, another subtask) can break what an earlier check
        passed.  A check that fails reopens its subtask, its next prompt says why, and a try
        is spent; True when one did.  ``lane``: the spec's tree as the merges' checks see it
        (None: the spec's lane, as with one lane); ``passed_on``: the merge queue's last
        pass of each check, and the commit it passed on (one that passed on the final
        commit itself, as its merge's, is not run again); ``beside``: free lanes of their
        own, which run checks too, side by side, once their worktree is the final commit's
        (what a free lane holds was its last try's, merged or rolled back already), those
        whose checks start at once."""
        plan = self.tracker.plan
        assert plan is not None
        checked = [
            s
            for s in plan.subtasks()
            if s.status == "completed" and not isinstance(check_of(s.verification), str)
        ]
        if not checked or not self.config.verification:
            return False
        tip = await self.checkpoints.tip() if passed_on and self.checkpoints.isolated else None
        fresh = [
            s.id
            for s in checked
            if passed_on and passed_on.get(s.id) == (tip, check_of(s.verification))
        ]
        checked = [s for s in checked if s.id not in fresh]
        which = (
            "1 completed subtask's check runs"
            if len(checked) == 1
            else (f"{len(checked)} completed subtasks' checks run")
        )
        message = f"final check: {which} again on the final tree"
        helpers = self._helpers(beside, len(checked) - 1)
        if helpers:
            tip = tip or await self.checkpoints.tip()
            ids = ", ".join(str(h.id) for h in helpers)
            lanes = f"lane{'s' * (len(helpers) > 1)} {ids}"
            message += f", {len(helpers) + 1} at a time: in the spec's worktree and {lanes}"
        if fresh:
            names, it = ", ".join(fresh), "it" if len(fresh) == 1 else "they"
            message = (
                f"{message} ({names} passed on it as {it} merged)"
                if checked
                else f"final check: {names} passed on the final tree as {it} merged"
            )
        await self.emit(ev.Notice(level="info", message=message))
        results = await self._checks_side_by_side(
            checked, lane or self.parts.spec_lane, helpers, tip
        )
        reopened = False
        for subtask in checked:
            check = results.get(subtask.id)
            if check is not None and check.outcome in (CheckOutcome.FAILED, CheckOutcome.TIMED_OUT):
                reopened = True
                await self._reopen(subtask, check)
        if len(results) < len(checked) or any(
            r.outcome == CheckOutcome.INTERRUPTED for r in results.values()
        ):
            self.end_if_stopped()
            return True  # stopped by the user: the run pauses, and checks again after
        return reopened

    def _helpers(self, beside: Sequence[Lane], most: int) -> list[Lane]:
        """Up to ``most`` of ``beside`` that can run final checks: free, with a worktree of
        their own, their checks starting at once."""
        fit = [
            lane
            for lane in beside
            if not lane.busy and self.own_worktree(lane) and self.ready_to_check(lane)
        ]
        return fit[: max(most, 0)]

    def ready_to_check(self, lane: Lane) -> bool:
        """A check in ``lane`` starts at once: its check session is up (a lane that never
        checked anything, as in a chain, would first start a CLI: a cost that trivial checks
        do not repay)."""
        return self.parts.verifier.ready(self.check_site(lane))

    async def _checks_side_by_side(
        self, subtasks: list[Subtask], spec: Lane, helpers: list[Lane], tip: str | None
    ) -> dict[str, VerifyResult]:
        """``subtasks``' checks, in order, each run by the first of ``spec`` and ``helpers``
        to be free (a helper once its worktree is ``tip``'s); by subtask id, the ones run
        before one was interrupted (no other starts after it)."""
        todo = list(subtasks)
        results: dict[str, VerifyResult] = {}

        async def work(lane: Lane) -> None:
            if lane is not spec:
                assert tip is not None
                try:
                    await lane.site.start_from(tip)
                except WorkspaceFailed as exc:
                    message = f"lane {lane.id} runs no check of the final check ({exc})"
                    await self.emit(ev.Notice(level="warning", message=message))
                    return
                lane.last = None  # its last try, merged or rolled back: nothing to undo
            while todo:
                subtask = todo.pop(0)
                try:
                    results[subtask.id] = check = await self.check(subtask, lane)
                except BaseException:  # the run ends: no other check starts
                    todo.clear()
                    raise
                if check.outcome == CheckOutcome.INTERRUPTED:
                    todo.clear()

        done = await asyncio.gather(*(work(w) for w in [spec, *helpers]), return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        return results

    async def _reopen(self, subtask: Subtask, check: VerifyResult) -> None:
        attempts = self.history.attempts(subtask.id)
        session = next((a["session"] for a in reversed(attempts) if a.get("session")), 0)
        record = {**check.record(), "subtask_id": subtask.id}
        await self.record(
            self.history.record_attempt,
            subtask.id, session, "recheck_failed", None, check.reason, record,
            session=session,
        )  # fmt: skip
        await self.set_status(subtask.id, "pending")
        message = f"{subtask.id}'s check fails on the final tree ({check.reason}): it is reopened"
        await self.emit(ev.Notice(level="warning", message=message))
        await self.emit_status(subtask.id, "pending", self.history.attempt_count(subtask.id))
        await self.stuck_if_out_of_tries(subtask.id)

    async def stuck_if_out_of_tries(self, subtask_id: str) -> None:
        tried = self.history.attempt_count(subtask_id, interrupted=False)
        if tried >= self.config.max_attempts:
            await self.mark_stuck(subtask_id, f"not completed after {tried} sessions")

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
        """Show what the plan's re-read found; a completion a session wrote for a subtask no
        attempt is working on is put back: only agent-tui's own check completes a subtask,
        and that runs for the subtask its session was for."""
        working = {i for i, a in self.parts.attempts.items() if a.working}
        claims = [
            i for i, s in refresh.statuses if s == "completed" and working and i not in working
        ]
        # A working subtask's own claim is shown as still in progress: its check decides.
        rest = [
            (i, "in_progress" if s == "completed" and i in working else s)
            for i, s in refresh.statuses
            if i not in claims
        ]
        await super().show(replace(refresh, statuses=rest))
        for subtask_id in claims:
            await self.set_status(subtask_id, refresh.previous.get(subtask_id, "pending"))
            during = ", ".join(sorted(working))
            message = (
                f"{subtask_id} was marked completed while the session for {during} ran; "
                "only its own session's check completes it, so it stays to be worked on"
            )
            await self.emit(ev.Notice(level="warning", message=message))
        if claims and refresh.view is not None:  # that view counted the claims: say it again
            await self.emit(self.tracker.view())

    async def subtask_done(self, subtask: Subtask, site: Checkpoints) -> bool:
        """The subtask is completed: its work becomes one commit, on the spec's branch (with
        several lanes, on its lane's, and the merge queue takes it: True).  A check of the
        work belongs before this; a check that fails makes it a failed try.

        A token-looking string in the work stops it: the user fixes it in the worktree and
        resumes (headless: the run ends, and the next run commits before anything else)."""
        if not site.isolated:
            return False
        await self.record(self.history.set_pending_commit, subtask.id)
        while True:
            try:
                problem = await site.commit(subtask.id, subtask.description)
            except WorkspaceFailed as exc:
                self.workspace_failed(exc)
            if problem is None:
                break
            await self.needs_user(problem)
            self.end_if_stopped()
        handed_on = False
        if self._queues(site):
            handed_on = await self.on_check_passed(subtask, site)
        await self.record(self.history.set_pending_commit, None)
        return handed_on

    def _queues(self, site: Checkpoints) -> bool:
        """Whether work done in ``site`` reaches the spec's branch through the merge queue
        (a lane's worktree), or is committed there (the spec's own)."""
        return self.on_check_passed is not None and site.isolated and site is not self.checkpoints

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
            await self.subtask_done(subtask, self.checkpoints)
        elif pending is not None:
            await self.record(self.history.set_pending_commit, None)

    async def try_failed(
        self, subtask_id: str, site: Checkpoints, session: int | None = None
    ) -> None:
        """The try did not complete its subtask: the worktree goes back to the last good
        commit, its patch kept in logs/ (``session`` None: a session of an earlier run).
        A subtask whose commit is still to be made is committed first: its work is done."""
        if self.history.pending_commit() is not None and site is self.checkpoints:
            await self.commit_pending()
        try:
            await site.roll_back(subtask_id, session)
        except WorkspaceFailed as exc:
            self.workspace_failed(exc)
        except OSError as exc:
            self.cannot_write(self.config.logs_dir, exc)

    async def _confirm(self, attempt: Attempt, current: Subtask | None) -> VerifyResult | None:
        """The check of a subtask its session marked completed (None: it did not): the one
        it had before the session, run where the session ran.  The plan says in progress
        while it runs, so a run stopped or lost meanwhile leaves no unchecked completion;
        a check that does not pass puts the subtask back to pending.  One that passes is
        recorded as a commit to make before the plan says completed, so no stop between the
        two leaves a completed subtask whose work the next try rolls back."""
        subtask, lane = attempt.subtask, attempt.lane
        assert subtask is not None
        if current is None or current.status != "completed":
            return None
        if current.verification != subtask.verification:  # the user's (no session's: put back)
            message = (
                f"subtask {subtask.id}'s check changed since this try began (while paused): "
                "this try is checked by the one it began with, the next by the plan's"
            )
            await self.emit(ev.Notice(level="warning", message=message))
        await self.set_status(subtask.id, "in_progress")
        check = await self.check(subtask, lane)
        passed = check.counts_as_completed
        if passed and lane.site.isolated:
            await self.record(self.history.set_pending_commit, subtask.id)
        queued = passed and self._queues(lane.site)
        status = "completed" if passed and not queued else "in_progress" if queued else "pending"
        await self.set_status(subtask.id, status)
        return check

    async def _after_failure(
        self, attempt: Attempt, outcome: SessionOutcome, *, completed: bool
    ) -> None:
        """The policy for the session's error; a subtask it completed is not made stuck."""
        subtask = attempt.subtask
        assert subtask is not None
        action, decision = await self.after_error(attempt, outcome)
        if action not in (Action.GIVE_UP, Action.STOP_STUCK):
            return
        if completed:  # the errors in a row were this subtask's, and it is done
            self.retry_of(attempt).reset()
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

    async def put_back(self, attempt: Attempt) -> None:
        """The run ends with ``attempt``'s subtask unfinished: pending again, not left in
        progress nor completed by a claim its check never decided."""
        plan = self.tracker.plan
        subtask = find_subtask(plan, attempt.subtask_id) if plan and attempt.subtask_id else None
        if subtask is None:
            return
        claimed = subtask.status == "completed" and attempt.working
        if subtask.status == "in_progress" or claimed:
            await self.set_status(subtask.id, "pending")

    async def mark_stuck(self, subtask_id: str, reason: str) -> None:
        self.retries.of(subtask_id).reset()  # its errors in a row: a retry starts afresh
        await self.record(self.history.mark_stuck, subtask_id, reason)
        await self.set_status(subtask_id, "failed")
        await self.emit_status(subtask_id, "failed", self.history.attempt_count(subtask_id))
        await self.emit(ev.SubtaskStuck(id=subtask_id, reason=reason))

    def _worktree_prompt(self, site: Checkpoints) -> str:
        """Where the session works; with lanes, that others work beside it, and the one
        failure that causes (``SANDBOX_SETUP_RACE``, met by the agent's own commands)."""
        if not site.isolated:
            return ""
        beside = "\n" + render("lanes") if len(self.parts.lanes) > 1 else ""
        return render("worktree") + beside

    def _prompt(self, attempt: Attempt) -> str:
        subtask, site = attempt.subtask, attempt.lane.site
        assert self.tracker.plan is not None and subtask is not None
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
            attempt=attempt.tries,
            project_dir=site.project_dir,
            spec_dir=site.spec_dir,
            plan_path=site.plan_path,
            files_to_modify=", ".join(subtask.files_to_modify) or "-",
            files_to_create=", ".join(subtask.files_to_create) or "-",
            verification=verification,
            worktree=self._worktree_prompt(site),
            failed_check=failed_check_prompt(self.history.attempts(subtask.id)),
            runaway=runaway_prompt(self.history.attempts(subtask.id)),
            guidance=render("one_tool_at_a_time") if self.retry_of(attempt).guidance_due else "",
            human_input=self.note_text(attempt.lane),
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
