"""The session log's line for each engine event: one pure function, as headless text is.

``log_line`` decides what the log says; the screen's handlers do everything else (tree,
status line, countdown, toasts).  Events without an entry add no line, nor does a usage
window reported as allowed (the status line shows it; the CLI reports one often).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rich.text import Text

from agent_tui.auth.redaction import redact
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import review as rev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.quota import QuotaStatus, quota_text
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome, QAStep, QAVerdictKind
from agent_tui.text import counted

NOTICE_STYLES = {"error": "bold red", "warning": "yellow"}


def _session_started(event: ev.SessionStarted, spec_dir: str | None) -> Text:
    what = event.what()
    transcript = event.transcript
    if spec_dir and transcript.startswith(spec_dir + os.sep):
        transcript = transcript[len(spec_dir) + 1 :]
    elif os.path.basename(os.path.dirname(transcript)) == "logs":  # the spec's, before its plan
        transcript = os.path.join("logs", os.path.basename(transcript))
    return Text.assemble(
        (f"── session {event.session}: {event.kind} {what}", "bold cyan"),
        (f"  profile {event.profile}, attempt {event.attempt}", "cyan"),
        (f"  → {transcript}", "dim"),
    )


def _tool_result(event: ev.ToolResult, _spec_dir: str | None) -> Text:
    style = "red" if event.is_error else "dim"
    return Text.assemble(("    ◀ ", style), (event.summary or "(no output)", style))


def _session_ended(event: ev.SessionEnded, _spec_dir: str | None) -> Text:
    """A session that ended without an error says "ended": whether its work is done is
    decided after it (its check, the plan), and said then."""
    if event.outcome == "success":
        return Text(f"── session {event.session} ended, ${event.cost_usd:.4f}", style="cyan")
    kind = f" ({event.error_kind})" if event.error_kind else ""
    return Text(
        f"── session {event.session} {event.outcome}{kind}, ${event.cost_usd:.4f}", "yellow"
    )


def _backoff_started(event: ev.BackoffStarted, _spec_dir: str | None) -> Text:
    if event.resets_at is not None:
        return Text(
            f"  ⏳ waiting {event.wait_text()}: the usage limit resets at {event.reset_text()}",
            style="magenta",
        )
    return Text(
        f"  ⏳ waiting {event.wait_text()}, then retry {event.retry}/{event.max_retries}",
        style="magenta",
    )


def _verification_started(event: tev.VerificationStarted, _spec_dir: str | None) -> Text:
    """``⚖ checking 1.1: …`` in its lane; ``⚖ re-checking 1.1: …`` on the spec's branch (a
    merge's check, the final check), which is no lane's."""
    doing = "re-checking" if event.lane == RECHECK_LANE else "checking"
    line = Text(f"  ⚖ {doing} {event.subtask_id}: {event.command}", style="cyan")
    if event.sandboxed:
        return line.append("  (sandboxed)", style="dim")
    return line.append("  UNSANDBOXED: it runs with your own access", style="bold red")


CHECK_STYLES = {
    CheckOutcome.PASSED: ("✔", "green"),
    CheckOutcome.UNVERIFIED: ("?", "yellow"),
    CheckOutcome.FAILED: ("✘", "bold red"),
    CheckOutcome.TIMED_OUT: ("✘", "bold red"),
    CheckOutcome.INTERRUPTED: ("⏸", "yellow"),
}


def _verification_ended(event: tev.VerificationEnded, _spec_dir: str | None) -> Text:
    icon, style = CHECK_STYLES[event.outcome]
    what = f"re-check of {event.subtask_id}" if event.lane == RECHECK_LANE else event.subtask_id
    line = Text(f"  {icon} {what} {event.outcome}: ", style=style)
    line.append(event.finding())
    if event.refuted:
        shown = event.tail_lines()
        for output in shown:
            line.append(f"\n      │ {output}", style="dim")
        if not shown:
            line.append("\n      (no output)", style="dim")
    return line


def _qa_iteration(event: tev.QAIteration, _spec_dir: str | None) -> Text:
    if event.step == QAStep.REVIEWING:
        what = f"review {event.iteration} of at most {event.max_iterations}"
    elif event.iteration == 0:
        what = "fixing what QA_FIX_REQUEST.md asks"
    else:
        what = f"fixing what review {event.iteration} found"
    return Text(f"── QA: {what}", style="bold magenta")


def _qa_verdict(event: tev.QAVerdict, _spec_dir: str | None) -> Text:
    if event.verdict == QAVerdictKind.NONE:
        return Text(f"  ? QA review {event.iteration} left no verdict", style="yellow")
    style = "bold green" if event.verdict == QAVerdictKind.APPROVED else "bold yellow"
    line = Text(f"  ◆ QA review {event.iteration}: {event.verdict}", style=style)
    for issue in event.issues:
        line.append(f"\n      - {issue}", style="yellow")
    return line


def _paused(event: ev.Paused, _spec_dir: str | None) -> Text:
    """``⏸ interrupted by the user · p resumes``; a pause the user did not ask for says why."""
    if event.by_user:
        return Text(f"  ⏸ {event.reason} · p resumes", style="yellow")
    return Text(f"  ⏸ paused: {event.reason}", style="yellow")


LINES: dict[type[ev.Event], Callable[[Any, str | None], Text | None]] = {
    ev.ContainmentStatus: lambda e, _: Text(
        f"  ◆ {e.summary()}", style="green" if e.sandboxed else "bold red"
    ),
    wev.WorkspaceStatus: lambda e, _: Text(f"  ◆ workspace: {e.summary()}", style="green"),
    wev.SubtaskCommitted: lambda e, _: Text(
        f"  ✔ subtask {e.id} committed: {e.commit[:12]} ({e.files_text()}) · d: diff",
        style="green",
    ),
    wev.TryRolledBack: lambda e, _: Text(
        f"  ↶ the try of {e.subtask_id} rolled back to {e.commit[:12]}; its diff: {e.diff}",
        style="yellow",
    ),
    ev.SessionStarted: _session_started,
    ev.AssistantText: lambda e, _: Text(e.text.strip()),
    ev.ToolUse: lambda e, _: Text.assemble(
        ("  ▶ ", "blue"), (e.name, "bold blue"), " ", (e.summary, "")
    ),
    ev.ToolResult: _tool_result,
    ev.SessionError: lambda e, _: Text(f"  ✘ {e.error_kind}: {e.message}", style="bold red"),
    ev.SessionEnded: _session_ended,
    ev.BackoffStarted: _backoff_started,
    sev.SpendPlanned: lambda e, _: Text(f"  $ {e.text()}", style="cyan" if e.fits else "yellow"),
    sev.BudgetWarning: lambda e, _: Text(f"  $ {e.budget.text()}: past 80 %", style="yellow"),
    sev.BudgetReached: lambda e, _: Text(f"  $ {e.message}", style="bold yellow"),
    ev.QuotaUpdated: lambda e, _: (
        None
        if e.status == QuotaStatus.ALLOWED
        else Text(f"  ◔ usage of {e.profile}: {quota_text(e.quota, e.ts)}", style="yellow")
    ),
    ev.BackoffEnded: lambda e, _: (
        Text("  ⏭ retrying now", style="magenta") if e.reason == "retry_now" else None
    ),
    ev.SubtaskNotCompleted: lambda e, _: Text(f"  ↺ {e.text()}", style="yellow"),
    ev.SubtaskStuck: lambda e, _: Text(
        f"  ⚠ subtask {e.id} is stuck: {e.reason}", style="bold red"
    ),
    ev.SubtaskRetried: lambda e, _: Text(f"  ↻ subtask {e.id} will be tried again", style="cyan"),
    ev.ProfileSwitched: lambda e, _: Text(
        f"  ⇄ profile {e.from_} → {e.to} ({e.reason})", style="cyan"
    ),
    ev.Paused: _paused,
    ev.Resumed: lambda e, _: Text("  ▶ resumed", style="yellow"),
    ev.NoteQueued: lambda e, _: Text(f"  ✉ note for the next session: {e.text}", style="cyan"),
    ev.NoteSent: lambda e, _: Text(
        f"  ✉ this session's prompt carries your note: {e.text}", style="cyan"
    ),
    ev.Notice: lambda e, _: Text(f"  ! {e.message}", style=NOTICE_STYLES.get(e.level, "dim")),
    ev.PlanWarning: lambda e, _: Text(f"  ! plan: {e.message}", style="bold yellow"),
    rev.PlanReview: lambda e, _: Text(
        f"  ◆ the plan is written ({counted(e.subtasks, 'subtask')}): "
        + ("waiting for your review" if e.waiting else "read it, then run again to code it"),
        style="bold cyan",
    ),
    rev.PlanApproved: lambda e, _: Text("  ✔ plan approved: coding starts", style="bold green"),
    tev.VerificationStarted: _verification_started,
    tev.VerificationEnded: _verification_ended,
    tev.QAIteration: _qa_iteration,
    tev.QAVerdict: _qa_verdict,
    tev.QAEscalated: lambda e, _: Text(
        f"  ⚠ QA escalated: {e.reason} (see {os.path.basename(e.path)})", style="bold red"
    ),
    ev.LoopFinished: lambda e, _: Text(
        f"── finished: {e.outcome} — {redact(e.message)}", style="bold"
    ),
}


def _merge_ended(event: lev.MergeEnded, _spec_dir: str | None) -> Text:
    if event.outcome == lev.MergeOutcome.MERGED:
        commit = (event.commit or "")[:12]
        return Text(f"  ⤵ {event.subtask_id} merged as {commit}", style="green")
    why = f": {event.message}" if event.message else ""
    return Text(f"  ⤵ {event.subtask_id} not merged ({event.outcome}){why}", style="yellow")


LINES.update(
    {
        lev.LanesPlanned: lambda e, _: (
            Text(f"  ≡ {e.lanes} lanes: {e.reason}", style="magenta") if e.lanes > 1 else None
        ),
        lev.LaneBusy: lambda e, _: Text(f"  ≡ lane {e.lane} takes {e.taken()}", "magenta"),
        lev.MergeQueued: lambda e, _: Text(
            f"  ⤵ {e.subtask_id} waits to be merged ({e.waiting} waiting)", style="cyan"
        ),
        lev.MergeStarted: lambda e, _: Text(
            f"  ⤵ merging {e.subtask_id}{e.merged_with()}, {e.rechecks()}",
            style="cyan",
        ),
        lev.MergeEnded: _merge_ended,
    }
)


def log_line(event: ev.Event, spec_dir: str | None = None) -> Text | None:
    """The log's line for ``event`` (paths under ``spec_dir`` shown relative), or None."""
    line = LINES.get(type(event))
    return None if line is None else line(event, spec_dir)
