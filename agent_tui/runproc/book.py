"""The run's own record, kept true to its events: state, progress, lanes, spend, last event.

The record is what ``ls`` reads.  It is written when the run's state changes, and otherwise
at most once a ``FLUSH_S``, so a flood of log events costs no flood of writes.  A
notification that finds no app attached to show it becomes a ``needs-you`` line in the
run's log and the record's ``needs_you``, which ``ls`` shows until an app attaches.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.notifications import Notification, notification_for
from agent_tui.runproc.places import RunPlace
from agent_tui.runproc.record import RunRecord, RunState, process_start

FLUSH_S = 1.0
SUMMARY_CHARS = 120

SUMMARIES: dict[type[ev.Event], Callable[[Any], str]] = {
    ev.SessionStarted: lambda e: f"session {e.session}: {e.what()} ({e.profile})",
    ev.SessionEnded: lambda e: f"session {e.session} ended: {e.outcome}",
    ev.SubtaskStatus: lambda e: f"subtask {e.id} → {e.status}",
    ev.SubtaskStuck: lambda e: f"subtask {e.id} stuck: {e.reason}",
    ev.BackoffStarted: lambda e: (
        f"waiting for the usage limit, resets {e.reset_text()}"
        if e.resets_at is not None
        else f"backing off {e.wait_text()} ({e.kind})"
    ),
    ev.Paused: lambda e: f"paused: {e.reason}",
    ev.Resumed: lambda e: "resumed",
    ev.ProfileSwitched: lambda e: f"profile {e.from_} → {e.to} ({e.reason})",
    tev.VerificationEnded: lambda e: f"check of {e.subtask_id}: {e.outcome}",
    tev.QAVerdict: lambda e: f"QA review {e.iteration}: {e.verdict}",
    lev.MergeEnded: lambda e: f"merge of {e.subtask_id}: {e.outcome}",
    wev.SubtaskCommitted: lambda e: f"committed {e.id}",
    ev.LoopFinished: lambda e: f"finished: {e.outcome}" + (f": {e.message}" if e.message else ""),
}
"""The few words ``ls`` gives the events worth naming as a run's last."""


class RunBook:
    def __init__(self, place: RunPlace, spec_dir: str, project_dir: str) -> None:
        self.place = place
        self.record = RunRecord(
            key=place.key,
            spec=Path(spec_dir).name,
            spec_dir=spec_dir,
            project_dir=project_dir,
            pid=os.getpid(),
            process_start=process_start(os.getpid()),
            socket=str(place.socket),
            log=str(place.log),
        )
        self._statuses: dict[str, str] = {}
        self._stuck: set[str] = set()
        self._waiting: set[int] = set()
        self._busy: set[int] = set()
        self._in_session: set[int] = set()
        """Lanes with a session running: with one lane, no ``lane_busy`` says so."""
        self._settled_usd = 0.0
        self._running_usd: dict[int, float] = {}
        """Each running session's estimate so far, until its ``usage`` settles it."""
        self._paused: ev.Paused | None = None
        self._written_at = 0.0
        self.dirty = True

    def write(self) -> None:
        self.record.write(self.place.record)
        self._written_at = time.monotonic()
        self.dirty = False

    def flush(self) -> None:
        """Write what changed, unless it was written less than ``FLUSH_S`` ago."""
        if self.dirty and time.monotonic() - self._written_at >= FLUSH_S:
            self.write()

    def note(self, event: ev.Event, *, attached: bool) -> None:
        """What ``event`` changes in the record; a state change is written at once."""
        before = self.record.state
        self._follow(event)
        summary = SUMMARIES.get(type(event))
        if summary is not None:
            stamp = time.strftime("%H:%M", time.localtime(event.ts))
            self.record.last_event = f"{stamp} {summary(event)}"[:SUMMARY_CHARS]
        self.record.state = self._state()
        self.dirty = True
        unseen = notification_for(event) if not attached else None
        if unseen is not None:
            self._needs_you(unseen)
        if self.record.state != before or unseen is not None:
            self.write()

    def attached(self) -> None:
        """An app shows the run now: what it needed has been seen."""
        if self.record.needs_you:
            self.record.needs_you = ""
            self.write()

    def _needs_you(self, notification: Notification) -> None:
        self.record.needs_you = f"{notification.title}: {notification.body}"[:SUMMARY_CHARS]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        line = f"{stamp} needs-you {self.record.needs_you}\n"
        with open(self.place.log, "a", encoding="utf-8") as log:
            log.write(line)

    def _follow(self, event: ev.Event) -> None:
        record = self.record
        if isinstance(event, ev.PlanLoaded):
            self._statuses = {s.id: s.status for p in event.phases for s in p.subtasks}
            self._stuck = {s.id for p in event.phases for s in p.subtasks if s.stuck}
            self._count()
        elif isinstance(event, ev.SubtaskStatus):
            self._statuses[event.id] = event.status
            self._count()
        elif isinstance(event, ev.SubtaskStuck):
            self._stuck.add(event.id)
        elif isinstance(event, ev.SubtaskRetried):
            self._stuck.discard(event.id)
        elif isinstance(event, ev.BackoffStarted) and event.resets_at is not None:
            self._waiting.add(event.lane)
        elif isinstance(event, ev.BackoffEnded):
            self._waiting.discard(event.lane)
        elif isinstance(event, ev.Paused):
            self._paused = event
        elif isinstance(event, ev.Resumed):
            self._paused = None
        elif isinstance(event, wev.WorkspaceStatus):
            record.branch = event.branch if event.mode == "worktree" else ""
        elif isinstance(event, lev.LanesPlanned):
            record.lanes = event.lanes
        elif isinstance(event, lev.LaneBusy):
            self._busy.add(event.lane)
        elif isinstance(event, lev.LaneFree):
            self._busy.discard(event.lane)
        elif isinstance(event, ev.LoopFinished):
            record.outcome, record.exit_code = event.outcome, event.exit_code
            record.message = event.message
            self._busy.clear()
            self._in_session.clear()
        else:
            self._follow_sessions(event)
        record.lanes_busy = len(self._busy | self._in_session)

    def _follow_sessions(self, event: ev.Event) -> None:
        """The lanes busy in a session, and the spend so far, running sessions' included
        (what the app's status line shows), each settled by its ``usage``."""
        if isinstance(event, ev.SessionStarted):
            self._in_session.add(event.lane)
        elif isinstance(event, ev.SessionEnded):
            self._in_session.discard(event.lane)
        elif isinstance(event, sev.SessionSpend):
            self._running_usd[event.session] = event.cost_usd
        elif isinstance(event, ev.Usage):
            self._settled_usd = max(self._settled_usd, event.total_cost_usd)
            self._running_usd.pop(event.session, None)
        else:
            return
        self.record.spend_usd = self._settled_usd + sum(self._running_usd.values())

    def _count(self) -> None:
        """Progress, counted when a status changes: not on every log line of a big plan."""
        self.record.done = sum(1 for status in self._statuses.values() if status == "completed")
        self.record.total = len(self._statuses)

    def _state(self) -> RunState:
        if self.record.outcome:
            return RunState.FINISHED
        if self._paused is not None:
            return RunState.NEEDS_YOU if self._paused.needs_user else RunState.PAUSED
        if self._waiting:
            return RunState.WAITING
        if self._stuck:
            return RunState.STUCK
        return RunState.RUNNING
