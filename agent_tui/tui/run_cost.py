"""The status line's cost while sessions run, kept apart from the widgets.

A ``usage`` event comes only as a session ends; in between, each reply brings a
``session_spend`` with the running session's spend so far (an estimate).  So that the
figures move with the work, the run's (and the spec's) are what the sessions that ended
cost plus every running session's estimate (one per lane), and the next ``usage`` makes
them exact again.
"""

from __future__ import annotations

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import spend as sev


class RunCost:
    def __init__(self) -> None:
        self._ended = 0.0
        """The run's sessions that ended: the last ``usage``'s total less the estimates of
        the sessions still running then (the engine counts them in it)."""
        self._spec_ended: float | None = None
        """The same of the spec's total over every run; None until a ``usage`` says it."""
        self._running: dict[int, tuple[int, float]] = {}
        """Lane → the session running in it and that session's estimate so far."""

    def started(self, event: ev.SessionStarted) -> None:
        """A lane's new session has spent nothing yet (its last one has ended)."""
        self._running.pop(event.lane, None)

    def spent(self, event: sev.SessionSpend) -> None:
        self._running[event.lane] = (event.session, event.cost_usd)

    def ended(self, event: ev.Usage) -> None:
        """A session's own figures, and the run's and the spec's as the engine counts them."""
        if self._running.get(event.lane, (None,))[0] == event.session:
            del self._running[event.lane]
        running = self._estimates()
        self._ended = event.total_cost_usd - running
        spec = event.spec_cost_usd
        self._spec_ended = None if spec is None else spec - running

    @property
    def run(self) -> float:
        return self._ended + self._estimates()

    @property
    def spec(self) -> float | None:
        return None if self._spec_ended is None else self._spec_ended + self._estimates()

    def _estimates(self) -> float:
        return sum(cost for _, cost in self._running.values())
