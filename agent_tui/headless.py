"""Headless mode: the loop's events as plain text lines or JSON lines on stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from agent_tui.auth.redaction import redact
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import review as rev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.lanes import MergeOutcome
from agent_tui.engine.events.quota import QuotaStatus, quota_text
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome, QAStep, QAVerdictKind
from agent_tui.exit_codes import EXIT_INTERRUPTED
from agent_tui.notifications import notification_for, terminal_escape
from agent_tui.text import counted

if TYPE_CHECKING:
    from agent_tui.engine.loop import CoderLoop

LoopFactory = Callable[[ev.EventSink], "CoderLoop"]

READER_GONE = "standard output was closed (its reader went away)"


def send_stdout_nowhere() -> None:
    """Point stdout at the null device: later writes, and Python's flush at exit, which
    would fail again on the broken pipe, go nowhere."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _session_started(e: ev.SessionStarted) -> str:
    return (
        f"session   #{e.session} {e.kind} {e.what()} (profile {e.profile}, "
        f"attempt {e.attempt}) → {e.transcript}"
    )


def _assistant_text(e: ev.AssistantText) -> str:
    first, *rest = e.text.strip().splitlines() or [""]
    return f"agent     {first}" + (f" (+{len(rest)} lines)" if rest else "")


def _session_ended(e: ev.SessionEnded) -> str:
    """Without an error a session has "ended": whether its work is done is said after."""
    if e.outcome == "success":
        return f"ended     #{e.session}, ${e.cost_usd:.4f}"
    kind = f" ({e.error_kind})" if e.error_kind else ""
    return f"ended     #{e.session} {e.outcome}{kind}, ${e.cost_usd:.4f}"


def _backoff_started(e: ev.BackoffStarted) -> str:
    if e.resets_at is not None:
        return f"waiting   {e.wait_text()}: the usage limit resets at {e.reset_text()}"
    return f"backoff   {e.kind}: waiting {e.wait_text()} (retry {e.retry}/{e.max_retries})"


def _first_line(text: str) -> str:
    first, *rest = text.strip().splitlines() or [""]
    return first + (f" (+{len(rest)} lines)" if rest else "")


def _quota_updated(e: ev.QuotaUpdated) -> str | None:
    if e.status == QuotaStatus.ALLOWED:
        return None
    return f"quota     {e.profile}: {quota_text(e.quota, e.ts)}"


def _check_column(lane: int) -> str:
    """``verify`` for a lane's check; ``recheck`` for one run again on the spec's branch (a
    merge's, the final check), which is no lane's."""
    return f"{'recheck' if lane == RECHECK_LANE else 'verify':<10}"


def _verification_started(e: tev.VerificationStarted) -> str:
    how = "sandboxed" if e.sandboxed else "UNSANDBOXED: it runs with your own access"
    return f"{_check_column(e.lane)}{e.subtask_id}: {e.command} ({how}, up to {e.timeout_s:g} s)"


def _verification_ended(e: tev.VerificationEnded) -> str:
    said, column = e.finding(), _check_column(e.lane)
    if e.outcome in (CheckOutcome.PASSED, CheckOutcome.UNVERIFIED, CheckOutcome.INTERRUPTED):
        took = f" ({e.duration_s:.1f} s)" if e.outcome == CheckOutcome.PASSED else ""
        return f"{column}{e.subtask_id} {e.outcome}: {said}{took}"
    shown = "".join(f"\n          │ {line}" for line in e.tail_lines()) or " (no output)"
    return f"{column}{e.subtask_id} FAILED: {said}{shown}"


def _qa_iteration(e: tev.QAIteration) -> str:
    if e.step == QAStep.REVIEWING:
        return f"qa        review {e.iteration} of at most {e.max_iterations}"
    if e.iteration == 0:
        return "qa        fixing what QA_FIX_REQUEST.md asks, before the first review"
    return f"qa        fixing what review {e.iteration} found"


def _qa_verdict(e: tev.QAVerdict) -> str:
    if e.verdict == QAVerdictKind.NONE:
        return f"qa        review {e.iteration} left no verdict"
    count = f"{len(e.issues)} issue{'' if len(e.issues) == 1 else 's'}"
    issues = f" ({count}): {'; '.join(e.issues)}" if e.issues else ""
    return f"qa        review {e.iteration}: {e.verdict}{issues}"


def _merge_ended(e: lev.MergeEnded) -> str:
    if e.outcome == MergeOutcome.MERGED:
        return f"merged    {e.subtask_id} as {(e.commit or '')[:12]}"
    return f"not merged {e.subtask_id} ({e.outcome}): {e.message}".rstrip(": ")


TEXT_LINES: dict[type[ev.Event], Callable[[Any], str | None]] = {
    ev.PlanLoaded: lambda e: (
        f"plan      {e.feature + ': ' if e.feature else ''}"
        f"{e.completed}/{e.total} subtasks completed"
    ),
    ev.ContainmentStatus: lambda e: (
        f"sandbox   {e.summary()}" + (f"; {e.home_text()}" if e.sandboxed else "")
    ),
    wev.WorkspaceStatus: lambda e: f"workspace {e.summary()}",
    wev.SubtaskCommitted: lambda e: f"commit    {e.id}: {e.commit[:12]} ({e.files_text()})",
    wev.TryRolledBack: lambda e: f"rollback  {e.subtask_id}: to {e.commit[:12]}, kept {e.diff}",
    ev.PlanWarning: lambda e: f"warning   plan: {e.message}",
    ev.SessionStarted: _session_started,
    ev.AssistantText: _assistant_text,
    ev.ToolUse: lambda e: f"tool      {e.name} {e.summary}",
    ev.ToolResult: lambda e: f"{'tool err' if e.is_error else 'result  '}  {e.summary}",
    ev.ApiRetry: lambda e: f"api retry CLI retrying {e.what()} in {e.delay_s:.1f} s{e.count()}",
    ev.SessionError: lambda e: f"error     {e.error_kind}: {e.message}",
    ev.SessionEnded: _session_ended,
    ev.Usage: lambda e: f"spend     {sev.usage_text(e)}",
    sev.SpendPlanned: lambda e: f"budget    {e.text()}",
    sev.BudgetWarning: lambda e: f"budget    {e.budget.text()}: past 80 %",
    sev.BudgetReached: lambda e: f"budget    {e.message}",
    ev.BackoffStarted: _backoff_started,
    ev.QuotaUpdated: _quota_updated,
    ev.BackoffEnded: lambda e: f"backoff   over ({e.reason})",
    ev.SubtaskStatus: lambda e: f"subtask   {e.id} → {e.status}",
    ev.SubtaskNotCompleted: lambda e: f"try       {e.text()}",
    ev.SubtaskStuck: lambda e: f"stuck     {e.id}: {e.reason}",
    ev.SubtaskRetried: lambda e: f"retry     {e.id}: tried again",
    ev.ProfileSwitched: lambda e: f"profile   {e.from_} → {e.to} ({e.reason})",
    ev.Pausing: lambda e: "pausing   at the end of this session",
    ev.Paused: lambda e: f"paused    {e.reason}",
    ev.Resumed: lambda e: "resumed",
    ev.NoteQueued: lambda e: f"note      for the next session: {_first_line(e.text)}",
    ev.NoteSent: lambda e: f"note      sent with this session: {_first_line(e.text)}",
    ev.Notice: lambda e: f"{e.level:<9} {e.message}",
    rev.PlanReview: lambda e: f"review    {e.plan_path} ({counted(e.subtasks, 'subtask')})",
    rev.PlanApproved: lambda e: "review    plan approved: coding starts",
    tev.VerificationStarted: _verification_started,
    tev.VerificationEnded: _verification_ended,
    tev.QAIteration: _qa_iteration,
    tev.QAVerdict: _qa_verdict,
    tev.QAEscalated: lambda e: f"escalated {e.reason}: see {e.path}",
    lev.LanesPlanned: lambda e: f"lanes     {e.lanes} ({e.reason})",
    lev.LaneBusy: lambda e: f"lane      {e.lane} takes {e.taken()}",
    lev.MergeQueued: lambda e: f"queued    {e.subtask_id} to be merged ({e.waiting} waiting)",
    lev.MergeStarted: lambda e: f"merging   {e.subtask_id}{e.merged_with()}: {e.rechecks()}",
    lev.MergeEnded: _merge_ended,
    ev.LoopFinished: lambda e: f"finished  {e.outcome} (exit {e.exit_code}) {e.message}".rstrip(),
}
"""The line each event prints in ``--events text``; events not listed print none, nor a
window reported as allowed (the CLI reports one as often as every request)."""


def format_text(event: ev.Event, *, lanes: bool = False) -> str | None:
    """One human line per event (None for events not worth a line); with ``lanes``, a
    session's lines say which lane they come from."""
    line = TEXT_LINES.get(type(event))
    text = line(event) if line is not None else None
    if text is None:
        return None
    stamp = time.strftime("%H:%M:%S", time.localtime(event.ts))
    lane = getattr(event, "lane", None) if lanes and not isinstance(event, lev.LaneBusy) else None
    return redact(f"{stamp} {f'L{lane} ' if lane else ''}{text}")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def format_json(event: ev.Event) -> str:
    return redact(json.dumps(event.to_dict(), ensure_ascii=False, default=str))


async def run_headless(
    make_loop: LoopFactory, events: str = "text", out: TextIO | None = None
) -> int:
    """Run the loop to its end, printing each event; SIGINT, SIGTERM and SIGHUP (the
    terminal closed) stop it, with exit 130.  Printing to a terminal, the events that need
    the user also ring its bell and send a desktop notification (unless turned off).

    So does losing the output's reader (``| head``): the session is interrupted and recorded
    as for a signal, rather than abandoned by an exception from ``write``.  A reader gone by
    the last event, ``loop_finished``, stops nothing: the run has ended with its own code.
    """
    stream = out or sys.stdout
    reader_gone = False
    notify = False
    lanes = False

    async def sink(event: ev.Event) -> None:
        nonlocal reader_gone, lanes
        if isinstance(event, lev.LanesPlanned):
            lanes = event.lanes > 1
        line = format_json(event) if events == "jsonl" else format_text(event, lanes=lanes)
        if isinstance(event, ev.ContainmentStatus) and not event.sandboxed:
            with contextlib.suppress(OSError):  # the notice stays in sight with --events jsonl
                print(f"agent-tui: {event.summary()}", file=sys.stderr)
        if line is None or reader_gone:
            return
        try:
            stream.write(line + "\n")
            if notify and (notification := notification_for(event)) is not None:
                stream.write(terminal_escape(notification, os.environ))
            stream.flush()
        except OSError:  # a closed pipe, or a hung-up terminal (EIO)
            reader_gone = True
            if stream is sys.stdout:
                send_stdout_nowhere()
            if not isinstance(event, ev.LoopFinished):
                interrupt(READER_GONE)

    loop = make_loop(sink)
    # The bell and the escape mean something only to a terminal, not to a file or a pipe.
    notify = _is_terminal(stream) and loop.config.notifications
    interrupted = False

    def interrupt(reason: str) -> None:
        nonlocal interrupted
        interrupted = True
        loop.stop(reason)

    running = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            running.add_signal_handler(signum, interrupt, f"stopped by {signum.name}")
            installed.append(signum)
    try:
        code = await loop.run()
    finally:
        for signum in installed:
            running.remove_signal_handler(signum)
    if reader_gone and interrupted:
        with contextlib.suppress(OSError):  # stderr may be the same dead terminal
            print(
                f"agent-tui: {READER_GONE}: the run stopped, its session recorded",
                file=sys.stderr,
            )
    return EXIT_INTERRUPTED if interrupted else code
