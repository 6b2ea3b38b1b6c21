"""Headless mode: the loop's events as plain text lines or JSON lines on stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from typing import TextIO

from agent_tui.auth.redaction import redact
from agent_tui.engine import events as ev
from agent_tui.engine.loop import EXIT_INTERRUPTED, CoderLoop
from agent_tui.pipes import READER_GONE, send_stdout_nowhere

LoopFactory = Callable[[ev.EventSink], CoderLoop]


def format_text(event: ev.Event) -> str | None:
    """One human line per event (None for events not worth a line)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(event.ts))
    match event:
        case ev.PlanLoaded():
            body = f"plan      {event.feature}: {event.completed}/{event.total} subtasks completed"
        case ev.ContainmentStatus():
            body = f"sandbox   {event.summary()}"
        case ev.PlanWarning():
            body = f"warning   plan: {event.message}"
        case ev.SessionStarted():
            what = f"subtask {event.subtask_id}" if event.subtask_id else "planning"
            body = (
                f"session   #{event.session} {event.kind} {what} (profile {event.profile}, "
                f"attempt {event.attempt}) → {event.transcript}"
            )
        case ev.AssistantText():
            first, *rest = event.text.strip().splitlines() or [""]
            body = f"agent     {first}" + (f" (+{len(rest)} lines)" if rest else "")
        case ev.ToolUse():
            body = f"tool      {event.name} {event.summary}"
        case ev.ToolResult():
            body = f"{'tool err' if event.is_error else 'result  '}  {event.summary}"
        case ev.ApiRetry():
            body = (
                f"api retry CLI retrying {event.error or event.error_status} in "
                f"{event.delay_s:.1f} s ({event.attempt}/{event.max_retries})"
            )
        case ev.SessionError():
            body = f"error     {event.error_kind}: {event.message}"
        case ev.SessionEnded():
            kind = f" ({event.error_kind})" if event.error_kind else ""
            body = f"ended     #{event.session} {event.outcome}{kind}, ${event.cost_usd:.4f}"
        case ev.BackoffStarted():
            body = (
                f"backoff   {event.kind}: waiting {event.wait_text()} "
                f"(retry {event.retry}/{event.max_retries})"
            )
        case ev.BackoffEnded():
            body = f"backoff   over ({event.reason})"
        case ev.SubtaskStatus():
            body = f"subtask   {event.id} → {event.status}"
        case ev.SubtaskStuck():
            body = f"stuck     {event.id}: {event.reason}"
        case ev.ProfileSwitched():
            body = f"profile   {event.from_} → {event.to} ({event.reason})"
        case ev.Pausing():
            body = "pausing   at the end of this session"
        case ev.Paused():
            body = f"paused    {event.reason}"
        case ev.Resumed():
            body = "resumed"
        case ev.Notice():
            body = f"{event.level:<9} {event.message}"
        case ev.LoopFinished():
            body = f"finished  {event.outcome} (exit {event.exit_code}) {event.message}".rstrip()
        case _:
            return None
    return redact(f"{stamp} {body}")


def format_json(event: ev.Event) -> str:
    return redact(json.dumps(event.to_dict(), ensure_ascii=False, default=str))


async def run_headless(
    make_loop: LoopFactory, events: str = "text", out: TextIO | None = None
) -> int:
    """Run the loop to its end, printing each event; SIGINT, SIGTERM and SIGHUP (the
    terminal closed) stop it, with exit 130.

    So does losing the output's reader (``| head``): the session is interrupted and recorded
    as for a signal, rather than abandoned by an exception from ``write``.  A reader gone by
    the last event, ``loop_finished``, stops nothing: the run has ended with its own code.
    """
    stream = out or sys.stdout
    reader_gone = False

    async def sink(event: ev.Event) -> None:
        nonlocal reader_gone
        line = format_json(event) if events == "jsonl" else format_text(event)
        if isinstance(event, ev.ContainmentStatus) and not event.sandboxed:
            with contextlib.suppress(OSError):  # the notice stays in sight with --events jsonl
                print(f"agent-tui: {event.summary()}", file=sys.stderr)
        if line is None or reader_gone:
            return
        try:
            stream.write(line + "\n")
            stream.flush()
        except OSError:  # a closed pipe, or a hung-up terminal (EIO)
            reader_gone = True
            if stream is sys.stdout:
                send_stdout_nowhere()
            if not isinstance(event, ev.LoopFinished):
                interrupt(READER_GONE)

    loop = make_loop(sink)
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
