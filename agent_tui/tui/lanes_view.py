"""What the screen shows of parallel lanes, kept apart from the widgets: which subtask each
lane works on, what waits in the merge queue and what is being merged, and which lane the
log follows.

With one lane (the default) nothing here shows: no badge, no status field, no prefix, and
the log shows every event, as before lanes.
"""

from __future__ import annotations

from typing import NamedTuple

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events.trust import RECHECK_LANE

ALL = None
"""``following`` when the log shows every lane, each line prefixed with its lane."""


class LanesView:
    def __init__(self) -> None:
        self.lanes = 1
        self.busy: dict[int, str] = {}
        """Lane → the subtask it works on."""
        self.queued: list[str] = []
        self.merging: list[str] = []
        self.following: int | None = ALL

    @property
    def parallel(self) -> bool:
        return self.lanes > 1

    def apply(self, event: ev.Event) -> set[str]:
        """Take in ``event``; the subtasks whose badge it changed ("" for the status)."""
        if isinstance(event, lev.LanesPlanned):
            self.lanes = max(1, event.lanes)
            if self.following is not ALL and self.following > self.lanes:
                self.following = ALL
            return {""}
        if isinstance(event, lev.LaneBusy):
            before = self.busy.get(event.lane)
            self.busy[event.lane] = event.subtask_id
            return {"", event.subtask_id} | ({before} if before else set())
        if isinstance(event, lev.LaneFree):
            before = self.busy.pop(event.lane, None)
            return {""} | ({before} if before else set())
        if isinstance(event, lev.MergeQueued):
            if event.subtask_id not in self.queued:
                self.queued.append(event.subtask_id)
            return {"", event.subtask_id}
        if isinstance(event, lev.MergeStarted):  # which merge now (a split batch: fewer)
            before = set(self.merging)
            self.merging = list(event.batch or (event.subtask_id,))
            return {"", event.subtask_id} | before
        if isinstance(event, lev.MergeEnded):
            if event.subtask_id in self.queued:
                self.queued.remove(event.subtask_id)
            if event.subtask_id in self.merging:
                self.merging.remove(event.subtask_id)
            return {"", event.subtask_id}
        if isinstance(event, ev.LoopFinished):
            changed = {"", *self.busy.values(), *self.queued, *self.merging}
            self.busy.clear()
            self.queued.clear()
            self.merging.clear()
            return changed
        return set()

    def badge(self, subtask_id: str) -> str:
        """What the tree shows before a subtask's description: where it is among the lanes."""
        if not self.parallel:
            return ""
        if subtask_id in self.merging:
            return "merging"
        if subtask_id in self.queued:
            return f"queued {self.queued.index(subtask_id) + 1}"
        for lane, busy in self.busy.items():
            if busy == subtask_id:
                return f"L{lane}"
        return ""

    def status(self) -> str:
        """The status line's lanes field: lanes busy of all, the queue, the log's lane."""
        if not self.parallel:
            return ""
        parts = [f"{len(self.busy)}/{self.lanes} busy"]
        if self.merging:
            parts.append(f"merging {', '.join(self.merging)}")
        if self.queued:
            parts.append(f"{len(self.queued)} queued")
        parts.append(f"log: {self.followed()}")
        return " · ".join(parts)

    def followed(self) -> str:
        return "all lanes" if self.following is ALL else f"lane {self.following}"

    def follow(self, lane: int | None) -> None:
        """Follow ``lane`` in the log (``ALL``: every lane); one out of range is refused."""
        if lane is not ALL and not 1 <= lane <= self.lanes:
            raise ValueError(f"there is no lane {lane} (lanes 1 to {self.lanes})")
        self.following = lane

    def cycle(self) -> int | None:
        """The next lane to follow: all, then 1, 2, …, then all again."""
        if self.following is ALL:
            self.following = 1 if self.parallel else ALL
        elif self.following >= self.lanes:
            self.following = ALL
        else:
            self.following += 1
        return self.following

    def shows(self, place: LogPlace) -> bool:
        """Whether the log shows a line from ``place`` now: every line when following all
        lanes; else the followed lane's, and those of no lane (the plan, the queue and its
        checks, the loop)."""
        if self.following is ALL or place.lane is None or place.every_lane:
            return True
        return place.lane == self.following

    def prefix(self, place: LogPlace) -> str:
        """``L2 `` before a line of lane 2 when the log shows several lanes."""
        if not self.parallel or self.following is not ALL or place.lane is None:
            return ""
        if place.names_lane:
            return ""  # these lines name their lane themselves
        return f"L{place.lane} "

    def interrupt_target(self) -> int | None:
        """The lane ``i`` interrupts: the followed one, or with all shown, every lane."""
        return self.following


class LogPlace(NamedTuple):
    """Where a log line comes from, all the log needs of its event to show or hide it and
    to prefix it: the app keeps thousands of lines, and their events (a whole tool result
    each) would cost megabytes for three fields."""

    lane: int | None
    """The coder lane; None for the run's own (a check run again on the spec's branch is
    one of these: it is the merge queue's, or the final check)."""
    every_lane: bool = False
    """Shown whichever lane the log follows (the merge queue's line)."""
    names_lane: bool = False
    """The line says its lane itself: no prefix."""


RUN_PLACE = LogPlace(None)
"""The run's own lines (the plan, the loop): shown whichever lane the log follows."""
_PLACES: dict[tuple[int | None, bool, bool], LogPlace] = {(None, False, False): RUN_PLACE}


def log_place(event: ev.Event) -> LogPlace:
    """``event``'s place, one shared object per distinct place."""
    lane = getattr(event, "lane", None)
    key = (
        None if lane == RECHECK_LANE else lane,
        isinstance(event, lev.MergeQueued),
        isinstance(event, (lev.LaneBusy, lev.LaneFree, lev.MergeQueued)),
    )
    place = _PLACES.get(key)
    if place is None:
        place = _PLACES[key] = LogPlace(*key)
    return place
