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
from agent_tui.engine import events as ev
from agent_tui.engine.quota import QuotaStatus, quota_text

NOTICE_STYLES = {"error": "bold red", "warning": "yellow"}


def _session_started(event: ev.SessionStarted, spec_dir: str | None) -> Text:
    what = f"subtask {event.subtask_id}" if event.subtask_id else "planning"
    transcript = event.transcript
    if spec_dir and transcript.startswith(spec_dir + os.sep):
        transcript = transcript[len(spec_dir) + 1 :]
    return Text.assemble(
        (f"── session {event.session}: {event.kind} {what}", "bold cyan"),
        (f"  profile {event.profile}, attempt {event.attempt}", "cyan"),
        (f"  → {transcript}", "dim"),
    )


def _tool_result(event: ev.ToolResult, _spec_dir: str | None) -> Text:
    style = "red" if event.is_error else "dim"
    return Text.assemble(("    ◀ ", style), (event.summary or "(no output)", style))


def _session_ended(event: ev.SessionEnded, _spec_dir: str | None) -> Text:
    style = "green" if event.outcome == "success" else "yellow"
    kind = f" ({event.error_kind})" if event.error_kind else ""
    return Text(f"── session {event.session} {event.outcome}{kind}, ${event.cost_usd:.4f}", style)


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


LINES: dict[type[ev.Event], Callable[[Any, str | None], Text | None]] = {
    ev.ContainmentStatus: lambda e, _: Text(
        f"  ◆ {e.summary()}", style="green" if e.sandboxed else "bold red"
    ),
    ev.WorkspaceStatus: lambda e, _: Text(f"  ◆ workspace: {e.summary()}", style="green"),
    ev.SubtaskCommitted: lambda e, _: Text(
        f"  ✔ subtask {e.id} committed: {e.commit[:12]} ({e.files_text()}) · d: diff",
        style="green",
    ),
    ev.TryRolledBack: lambda e, _: Text(
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
    ev.QuotaUpdated: lambda e, _: (
        None
        if e.status == QuotaStatus.ALLOWED
        else Text(f"  ◔ usage of {e.profile}: {quota_text(e.quota, e.ts)}", style="yellow")
    ),
    ev.BackoffEnded: lambda e, _: (
        Text("  ⏭ retrying now", style="magenta") if e.reason == "retry_now" else None
    ),
    ev.SubtaskStuck: lambda e, _: Text(
        f"  ⚠ subtask {e.id} is stuck: {e.reason}", style="bold red"
    ),
    ev.SubtaskRetried: lambda e, _: Text(f"  ↻ subtask {e.id} will be tried again", style="cyan"),
    ev.ProfileSwitched: lambda e, _: Text(
        f"  ⇄ profile {e.from_} → {e.to} ({e.reason})", style="cyan"
    ),
    ev.Paused: lambda e, _: Text(f"  ⏸ paused: {e.reason}", style="yellow"),
    ev.Resumed: lambda e, _: Text("  ▶ resumed", style="yellow"),
    ev.NoteQueued: lambda e, _: Text(f"  ✉ note for the next session: {e.text}", style="cyan"),
    ev.NoteSent: lambda e, _: Text(
        f"  ✉ this session's prompt carries your note: {e.text}", style="cyan"
    ),
    ev.Notice: lambda e, _: Text(f"  ! {e.message}", style=NOTICE_STYLES.get(e.level, "dim")),
    ev.PlanWarning: lambda e, _: Text(f"  ! plan: {e.message}", style="bold yellow"),
    ev.LoopFinished: lambda e, _: Text(
        f"── finished: {e.outcome} — {redact(e.message)}", style="bold"
    ),
}


def log_line(event: ev.Event, spec_dir: str | None = None) -> Text | None:
    """The log's line for ``event`` (paths under ``spec_dir`` shown relative), or None."""
    line = LINES.get(type(event))
    return None if line is None else line(event, spec_dir)
