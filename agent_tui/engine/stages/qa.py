"""The QA stage: once every subtask is completed, review, fix, review, until approved.

A reviewer session checks the build against ``spec.md`` and the plan's acceptance
criteria, writes ``qa_report.md`` and sets ``qa_signoff`` in the plan; on a rejection it
writes ``QA_FIX_REQUEST.md`` and a fixer session works from it, then sets the sign-off to
``fixes_applied``.  A ``QA_FIX_REQUEST.md`` already there when QA begins is the user's
feedback (or a request no fixer took up) only if it was there, as it is, before this run's
first session: the fixer goes first.  One that appeared or changed since was written by a
session (a worktree's spec copy is synced back) and is set aside.  Each request a fixer was
given is moved beside its transcript, so none is taken up twice.

In a worktree the sessions work there, as the coder's do, and what each fixer changed is
one commit on the work branch before the next review.

The run ends here: exit 0 only with an approved sign-off the reviewer wrote in this run
(or, with no new work since, one already in the plan); a bound reached (``qa_bounds``)
writes ``QA_ESCALATION.md`` and exits 3.  A session that reopens a subtask hands the run
back to the coder, which comes back here once it is completed again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.control.result import RunOutcome, end
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import CheckOutcome, QAStep, QAVerdictKind
from agent_tui.engine.failures.policy import Action, Role
from agent_tui.engine.failures.retry import QA
from agent_tui.engine.progress.checkpoints import WorkspaceFailed
from agent_tui.engine.prompts import render
from agent_tui.engine.schedule.attempt import Attempt
from agent_tui.engine.stages.base import Stage
from agent_tui.engine.stages.qa_bounds import (
    QABounds,
    issue_text,
    issues_of,
    new_verdict,
    signoff_of,
)
from agent_tui.files import atomic_write_text, read_bounded
from agent_tui.plan import is_complete, progress
from agent_tui.text import every

FIX_REQUEST = "QA_FIX_REQUEST.md"
REPORT = "qa_report.md"
ESCALATION = "QA_ESCALATION.md"
MAX_REQUEST_BYTES = 64 * 1024
MAX_CHECK_LINES = 200
SUBJECT_CHARS = 72


class QAStage(Stage):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.bounds = QABounds(self.config.qa_max_iterations)
        """For the whole run: a subtask QA reopens does not start the counts afresh."""
        self._users_request = self._request_bytes()
        """QA_FIX_REQUEST.md as it was before any session of the run: the user's."""

    @property
    def _fix_request(self) -> Path:
        return self.config.spec_dir / FIX_REQUEST

    async def run(self, *, fresh_work: bool) -> None:
        """Take the completed build to an approval (the run ends), or return when a QA
        session reopened a subtask.  ``fresh_work``: this run completed subtasks, so an
        approval already in the plan is out of date."""
        signoff = signoff_of(self.tracker.plan)
        feedback = await self._begin(signoff)
        approved = signoff is not None and signoff.get("status") == "approved"
        if approved and not fresh_work and not feedback:
            self._approved("QA approved them before this run")
        bounds = self.bounds
        if feedback and not await self._fix(0, by_user=True):
            return
        while True:
            stop = bounds.start_review()
            if stop is not None:
                await self._escalate(stop)
            iteration = bounds.reviews
            verdict = await self._review(iteration)
            if verdict is None and not self._still_complete():
                return
            stop = await self._count(iteration, verdict)
            if stop is not None:
                await self._escalate(stop)
            if verdict == "rejected" and not await self._fix(iteration):
                return

    async def _begin(self, signoff: dict[str, Any] | None) -> bool:
        """Commit a fix an earlier run stopped before committing (a secret in it), then say
        whether the user's feedback is there for the fixer to take up first."""
        if signoff is not None and signoff.get("status") == "fixes_applied":
            await self._commit_fix(signoff.get("qa_session"), issues_of(signoff))
        return await self._users_feedback()

    async def _count(self, iteration: int, verdict: str | None) -> str | None:
        """Show a review's verdict and count it; why the loop must stop, or None.  An
        approval ends the run."""
        bounds = self.bounds
        if verdict is None:
            await self.emit(tev.QAVerdict(iteration=iteration, verdict=QAVerdictKind.NONE))
            return bounds.no_verdict()
        if verdict == "approved":
            bounds.approved()
            await self.emit(tev.QAVerdict(iteration=iteration, verdict=QAVerdictKind.APPROVED))
            self._approved(f"QA approved them in review {iteration}")
        found = issues_of(signoff_of(self.tracker.plan) or {})
        stop = bounds.rejected(found)
        issues = tuple(issue_text(issue) for issue in found)
        await self.emit(
            tev.QAVerdict(iteration=iteration, verdict=QAVerdictKind.REJECTED, issues=issues)
        )
        return stop

    def _approved(self, how: str) -> NoReturn:
        assert self.tracker.plan is not None
        total = progress(self.tracker.plan)[1]
        end(RunOutcome.COMPLETE, f"{every(total, 'subtask')} completed; {how}")

    def _still_complete(self) -> bool:
        plan = self.tracker.plan
        return plan is not None and is_complete(plan)

    async def _review(self, iteration: int) -> str | None:
        """One review; the verdict it left in the plan (None: none, or a subtask reopened)."""
        before = signoff_of(self.tracker.plan)
        await self.emit(self._step(iteration, QAStep.REVIEWING))
        outcome = await self._session(
            Role.QA_REVIEWER, lambda: self._review_prompt(iteration), iteration
        )
        await self.sync_plan()
        if outcome is None or not self._still_complete():
            return None
        after = signoff_of(self.tracker.plan)
        verdict = new_verdict(before, after)
        if verdict is not None and after is not None:
            await self._stamp(after, iteration)
        return verdict

    async def _fix(self, iteration: int, *, by_user: bool = False) -> bool:
        """One fixer session; False when it reopened a subtask (the coder takes over)."""
        request = self._read_request()
        found = [] if by_user else issues_of(signoff_of(self.tracker.plan) or {})
        await self.emit(self._step(iteration, QAStep.FIXING))
        source = "written by the person supervising this build" if by_user else "from the review"
        outcome = await self._session(
            Role.QA_FIXER, lambda: self._fix_prompt(iteration, request, source), iteration
        )
        if outcome is None:
            await self._escalate("the QA fixer's sessions kept failing")
        number = self.parts.runner.last_number
        await self._set_request_aside(f"session-{number:03d}.qa-fix-request.md")
        await self.sync_plan()
        await self._commit_fix(iteration, found)
        if not self._still_complete():
            await self.emit(ev.Notice(level="info", message="QA reopened a subtask: coding again"))
            return False
        after = signoff_of(self.tracker.plan) or {}
        if after.get("status") != "fixes_applied":
            await self.emit(
                ev.Notice(
                    level="warning",
                    message="the QA fixer did not set qa_signoff to fixes_applied; "
                    "the reviewer looks again all the same",
                )
            )
        return True

    def _step(self, iteration: int, step: QAStep) -> tev.QAIteration:
        return tev.QAIteration(
            iteration=iteration, step=step, max_iterations=self.config.qa_max_iterations
        )

    retry_key = QA

    async def _session(
        self, role: Role, prompt: Callable[[], str], iteration: int
    ) -> SessionOutcome | None:
        """A QA session run to its end, through the same backoff, quota and profile rules
        as a coder's; None when the retry policy gave up on it."""
        while True:
            await self.control.between_sessions(self.config.pause_between_s)
            await self.control.pause_gate()
            self.end_if_stopped()
            attempt = Attempt(role, self.parts.spec_lane, tries=iteration)
            outcome = await self.session(attempt, prompt())
            if outcome is None or outcome.outcome == "interrupted":
                continue
            if outcome.ok:
                self.retry_of(attempt).on_success()
                return outcome
            action, _ = await self.after_error(attempt, outcome)
            if action == Action.GIVE_UP:
                return None

    async def _stamp(self, signoff: dict[str, Any], iteration: int) -> None:
        """Fill in what a verdict lacks of its record: which review, and when."""
        wall = datetime.fromtimestamp(self.control.clock.wall(), UTC)
        missing = {
            "qa_session": iteration,
            "timestamp": wall.isoformat(timespec="seconds"),
        }
        for key, value in missing.items():
            if key in signoff:
                continue
            try:
                await self.show(await self.tracker.set_value(["qa_signoff", key], value))
            except OSError as exc:
                self.cannot_write(self.config.plan_path, exc)

    def _read_request(self) -> str:
        """QA_FIX_REQUEST.md as written (never through a link: it could name any file)."""
        return (self._request_bytes() or b"").decode("utf-8", "replace").strip()

    def _request_bytes(self) -> bytes | None:
        """QA_FIX_REQUEST.md's bytes; None when there is none (one that cannot be read is
        there all the same, with no bytes)."""
        try:
            return read_bounded(self._fix_request, MAX_REQUEST_BYTES, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError:
            return b""

    async def _users_feedback(self) -> bool:
        """Whether a QA_FIX_REQUEST.md is there and is the user's: there, as it is, before
        the run's first session.  Any other a session wrote (a coder's, say), and taking it
        for the user's word would let the agent speak for them: it is set aside."""
        found = await asyncio.to_thread(self._request_bytes)
        if found is None:
            return False
        if found == self._users_request:
            self._users_request = None  # taken up once
            return True
        number = self.parts.runner.last_number
        name = f"session-{number:03d}.qa-fix-request.not-the-users.md"
        if await self._set_request_aside(name):
            message = (
                f"{FIX_REQUEST} was written during this run, so it is not taken as your "
                f"feedback: set aside as logs/{name}"
            )
            await self.emit(ev.Notice(level="warning", message=message))
        return False

    async def _set_request_aside(self, name: str) -> bool:
        """Move QA_FIX_REQUEST.md into logs/ as ``name``; whether it was."""
        kept = self.config.logs_dir / name
        try:
            await asyncio.to_thread(os.replace, self._fix_request, kept)
        except FileNotFoundError:
            return False
        except OSError as exc:
            message = f"{FIX_REQUEST} not set aside: {exc}"
            await self.emit(ev.Notice(level="warning", message=message))
            return False
        return True

    async def _commit_fix(self, iteration: Any, found: list[Any]) -> None:
        """What a fixer changed becomes one commit on the work branch (none if it changed
        nothing), so a merge takes it and a later coder try's rollback keeps it.  A secret
        in it waits for the user, as a subtask's commit does."""
        subject = fix_subject(iteration, found)
        body = f"Session: {self.parts.runner.last_number}\nSpec: {self.config.spec_dir.name}"
        while True:
            try:
                problem = await self.checkpoints.commit_qa_fix(subject, body)
            except WorkspaceFailed as exc:
                self.workspace_failed(exc)
            if problem is None:
                return
            await self.needs_user(problem)
            self.end_if_stopped()

    async def _escalate(self, reason: str) -> NoReturn:
        path = self.config.spec_dir / ESCALATION
        try:
            await asyncio.to_thread(atomic_write_text, path, escalation_text(reason, self.bounds))
        except OSError as exc:
            self.cannot_write(path, exc)
        await self.emit(tev.QAEscalated(reason=reason, path=str(path)))
        end(RunOutcome.QA_ESCALATED, f"QA escalated: {reason} (see {ESCALATION})")

    def _paths(self) -> dict[str, Any]:
        """Where the session works: the worktree and its spec copy, as for a coder (the
        copy is synced back to the user's spec dir after each session)."""
        where = self.checkpoints
        return {
            "project_dir": where.project_dir,
            "spec_dir": where.spec_dir,
            "plan_path": where.plan_path,
            "fix_request_path": where.spec_dir / FIX_REQUEST,
            "worktree": render("qa_worktree") if where.isolated else "",
            "human_input": self.note_text(self.parts.spec_lane),
        }

    def _review_prompt(self, iteration: int) -> str:
        return render(
            "qa_reviewer",
            iteration=iteration,
            max_iterations=self.config.qa_max_iterations,
            checks=self._check_lines(),
            criteria=self._criteria(),
            report_path=self.checkpoints.spec_dir / REPORT,
            **self._paths(),
        )

    def _fix_prompt(self, iteration: int, request: str, source: str) -> str:
        found = issues_of(signoff_of(self.tracker.plan) or {})
        issues = "".join(f"- {issue_text(issue)}\n" for issue in found)
        return render(
            "qa_fixer",
            iteration=iteration,
            source=source,
            request=request or f"({FIX_REQUEST} is empty: work from the issues below)",
            issues=f"Issues the reviewer listed:\n{issues}" if issues else "",
            **self._paths(),
        )

    def _check_lines(self) -> str:
        plan = self.tracker.plan
        assert plan is not None
        lines = []
        for subtask in plan.subtasks()[:MAX_CHECK_LINES]:
            check = self.history.last_check(subtask.id) or {}
            passed = check.get("outcome") == CheckOutcome.PASSED
            said = check.get("reason") or "no check was run"
            state = f"passed ({said})" if passed else f"not verified ({said})"
            lines.append(f"- {subtask.id} {subtask.description}: {state}")
        hidden = len(plan.subtasks()) - MAX_CHECK_LINES
        if hidden > 0:
            lines.append(f"- … and {hidden} more subtasks")
        return "\n".join(lines)

    def _criteria(self) -> str:
        extra = (self.tracker.plan.model_extra if self.tracker.plan else None) or {}
        strategy = extra.get("verification_strategy")
        found = strategy.get("acceptance_criteria") if isinstance(strategy, dict) else None
        if isinstance(found, list) and found:
            return "\n".join(f"- {item}" for item in found)
        return "- those of spec.md (the plan lists none of its own)"


def fix_subject(iteration: Any, found: list[Any]) -> str:
    """``qa fix N: <the first issue's title>`` within 72 characters."""
    number = iteration if isinstance(iteration, int) else 0
    title = issue_text(found[0]) if found else f"as {FIX_REQUEST} asked"
    subject = f"qa fix {number}: {title}"
    if len(subject) <= SUBJECT_CHARS:
        return subject
    return subject[: SUBJECT_CHARS - 1].rstrip() + "…"


def escalation_text(reason: str, bounds: QABounds) -> str:
    """QA_ESCALATION.md: why the loop stopped, and what each review found."""
    lines = [
        "# QA escalation",
        "",
        f"agent-tui stopped the QA loop: {reason}.",
        "",
        f"QA reviews: {bounds.reviews} of at most {bounds.max_iterations}.",
        "",
        "## Issues that came back",
        "",
    ]
    recurring = bounds.recurring()
    lines += [f"- {r.text} (reviews {', '.join(map(str, r.iterations))})" for r in recurring]
    if not recurring:
        lines.append("- none")
    lines += ["", "## Reviews", ""]
    lines += [f"{n}. {what}" for n, what in bounds.history] or ["none"]
    lines += [
        "",
        f"A person needs to look: see {REPORT}, fix what it names or write {FIX_REQUEST} "
        "with guidance, and run again with --qa.",
        "",
    ]
    return "\n".join(lines)
