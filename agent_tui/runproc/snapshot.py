"""What an app attaching mid-run is sent first, so it shows what one watching all along shows.

Every event goes into a ring of the latest ``RECENT`` (the log's tail, and for a short run
everything), and the events that set what stays on screen are also kept by what they set:
the plan, each subtask's last status, stuck mark and check, the containment, workspace and
lanes, each lane's last session, spend so far, usage, backoff and CLI retry, the budgets
planned, the last pause or resume, profile, usage window, loop state and end.  Sent in the
order they happened, they rebuild the tree, the log tail, the countdown and the status
line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable

from agent_tui.engine.clock import Clock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import review as rev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev

RECENT = 2000
"""Events kept whatever they are: more than a screen of log, little memory."""

Key = Callable[[ev.Event], Hashable]

KEYS: dict[type[ev.Event], Key] = {
    ev.PlanLoaded: lambda e: "plan",
    ev.SubtaskStatus: lambda e: ("status", e.id),
    ev.SubtaskStuck: lambda e: ("stuck", e.id),
    ev.SubtaskRetried: lambda e: ("stuck", e.id),
    tev.VerificationStarted: lambda e: ("check", e.subtask_id),
    tev.VerificationEnded: lambda e: ("check", e.subtask_id),
    tev.QAIteration: lambda e: ("qa", e.iteration, e.step),
    tev.QAVerdict: lambda e: ("qa verdict", e.iteration),
    tev.QAEscalated: lambda e: "qa escalated",
    ev.ContainmentStatus: lambda e: "containment",
    wev.WorkspaceStatus: lambda e: "workspace",
    lev.LanesPlanned: lambda e: "lanes",
    lev.LaneBusy: lambda e: ("lane", e.lane),
    lev.LaneFree: lambda e: ("lane", e.lane),
    lev.MergeQueued: lambda e: ("merge", e.subtask_id),  # each waiting one, not the last
    lev.MergeStarted: lambda e: ("merge", e.subtask_id),
    lev.MergeEnded: lambda e: ("merge", e.subtask_id),
    ev.SessionStarted: lambda e: ("session", e.lane),
    ev.SessionEnded: lambda e: ("ended", e.lane),
    ev.ApiRetry: lambda e: ("api retry", e.lane),
    ev.BackoffStarted: lambda e: ("backoff", e.lane),
    ev.BackoffEnded: lambda e: ("backoff", e.lane),
    ev.Pausing: lambda e: "pause",
    ev.Paused: lambda e: "pause",
    ev.Resumed: lambda e: "pause",
    ev.ProfileSwitched: lambda e: "profile",
    ev.QuotaUpdated: lambda e: ("quota", e.profile),
    ev.Usage: lambda e: ("usage", e.lane),  # each lane's: its session's estimate ends
    sev.SessionSpend: lambda e: ("spend", e.lane),
    sev.SpendPlanned: lambda e: "spend planned",
    ev.LoopStateChanged: lambda e: "state",
    rev.PlanReview: lambda e: "review",
    rev.PlanApproved: lambda e: "review",
    ev.LoopFinished: lambda e: "finished",
}
"""What each event sets on screen: a later event with the same key replaces it."""


class Snapshot:
    def __init__(self, clock: Clock, recent: int = RECENT) -> None:
        self.clock = clock
        self.seq = 0
        """The number of the last event added."""
        self._recent: deque[tuple[int, ev.Event]] = deque(maxlen=recent)
        self._kept: dict[Hashable, tuple[int, ev.Event]] = {}
        self._paused_at: float | None = None
        """When a pause held an open backoff (the loop's clock): its countdown is frozen."""

    def add(self, event: ev.Event) -> int:
        """Keep ``event``; its number in the run's order."""
        self.seq += 1
        self._recent.append((self.seq, event))
        key = KEYS.get(type(event))
        if key is not None:
            self._kept[key(event)] = (self.seq, event)
        if isinstance(event, ev.Paused):
            self._paused_at = self.clock.now()
        elif isinstance(event, ev.Resumed | ev.BackoffStarted):
            self._paused_at = None
        return self.seq

    def events(self) -> list[tuple[int, ev.Event]]:
        """The events to send, numbered, in the order they happened."""
        numbered = dict(self._recent)
        numbered.update(self._kept.values())
        return [(seq, self._as_now(numbered[seq])) for seq in sorted(numbered)]

    def _as_now(self, event: ev.Event) -> ev.Event:
        """An open backoff frozen by a pause, with its deadline moved on by the time paused
        so far: the late app's countdown then freezes where the others' froze."""
        if not isinstance(event, ev.BackoffStarted) or self._paused_at is None:
            return event
        if self._kept.get(("backoff", event.lane), (0, None))[1] is not event:
            return event
        moved = event.deadline + (self.clock.now() - self._paused_at)
        return ev.BackoffStarted(**{**event.as_dict(), "deadline": moved})
