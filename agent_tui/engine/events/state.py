"""The loop's state as one value: what the UI follows instead of the loop's internals."""

from __future__ import annotations

from enum import StrEnum

from agent_tui.engine.events.record import Record


class LoopMode(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    """Sessions run (or the loop is between them)."""
    PAUSING = "pausing"
    """A pause was asked for; it takes effect at the next session boundary."""
    PAUSED = "paused"
    BACKING_OFF = "backing_off"
    """Waiting out a backoff delay; ``retry_now`` cuts it short."""
    STOPPING = "stopping"
    """A stop was asked for: the running session is being interrupted and recorded."""
    FINISHED = "finished"


class LoopState(Record):
    mode: LoopMode = LoopMode.STARTING
    session_running: bool = False
    """At least one session (or a check) runs."""
    interrupting: bool = False
    """Every running session has been asked to stop and is ending."""
    sessions: int = 0
    """How many sessions (or checks) run now: one per busy lane."""

    @property
    def active(self) -> bool:
        """The loop can still be steered (it has not finished or begun to stop)."""
        return self.mode not in (LoopMode.FINISHED, LoopMode.STOPPING)
