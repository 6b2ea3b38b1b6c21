"""The backoff state machine: pure, with the clock injected.

Tool-use concurrency 400s back off 2, 4, 8, 16, 32 s, at most 5 retries in a row; the next
one gives up (the subtask is then stuck).  Any success or any other error resets all retry
state, including the planner's retry context (upstream forgot that one); a concurrency error
keeps that context, which the retried planner needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_tui.engine.clock import Clock
from agent_tui.engine.failures.kinds import ErrorKind


@dataclass(frozen=True)
class RetryPolicy:
    base_delay_s: float = 2.0
    factor: float = 2.0
    max_delay_s: float = 32.0
    max_retries: int = 5
    other_error_delay_s: float = 5.0
    max_other_retries: int = 3
    """Errors of other kinds in a row on one subtask before it is given up."""

    def concurrency_delay(self, retry: int) -> float:
        return min(self.base_delay_s * self.factor ** (retry - 1), self.max_delay_s)


@dataclass(frozen=True)
class RetryDecision:
    kind: ErrorKind
    give_up: bool
    delay_s: float
    retry: int
    max_retries: int
    deadline: float
    reason: str


@dataclass
class RetryTracker:
    policy: RetryPolicy
    clock: Clock
    _concurrency_errors: int = 0
    _other_errors: int = 0
    _guidance_due: bool = False
    planning_errors: list[str] = field(default_factory=list)

    @property
    def concurrency_errors(self) -> int:
        return self._concurrency_errors

    @property
    def guidance_due(self) -> bool:
        """True after a concurrency error: the next prompt says to use one tool at a time."""
        return self._guidance_due

    def note_planning_errors(self, errors: list[str]) -> None:
        self.planning_errors = list(errors)

    def reset(self) -> None:
        self._concurrency_errors = 0
        self._other_errors = 0
        self._guidance_due = False
        self.planning_errors = []

    def on_success(self) -> None:
        self.reset()

    def on_error(self, kind: ErrorKind) -> RetryDecision:
        now = self.clock.now()
        policy = self.policy
        if kind == ErrorKind.TOOL_CONCURRENCY:
            # Its own kind in a row: the other errors' count goes, the planner's retry context
            # stays (the retried planner still needs to hear what was wrong with its plan).
            count, planning_errors = self._concurrency_errors + 1, self.planning_errors
            self.reset()
            self._concurrency_errors, self.planning_errors = count, planning_errors
            self._guidance_due = True
            if count > policy.max_retries:
                reason = f"tool-use concurrency error {count} times in a row"
                return RetryDecision(kind, True, 0.0, count, policy.max_retries, now, reason)
            delay = policy.concurrency_delay(count)
            return RetryDecision(
                kind, False, delay, count, policy.max_retries, now + delay, "tool-use concurrency"
            )
        count = self._other_errors + 1
        self.reset()
        self._other_errors = count
        retries = policy.max_other_retries - 1
        if count > retries:
            reason = f"{kind} error {count} times in a row"
            return RetryDecision(kind, True, 0.0, count, retries, now, reason)
        delay = policy.other_error_delay_s
        return RetryDecision(kind, False, delay, count, retries, now + delay, f"{kind} error")


@dataclass
class RetryBook:
    """A retry tracker per piece of work: each subtask's errors in a row are its own (two
    lanes' errors do not add up), as are the planner's and QA's."""

    policy: RetryPolicy
    clock: Clock
    _trackers: dict[str, RetryTracker] = field(default_factory=dict)

    def of(self, key: str) -> RetryTracker:
        """The tracker of a subtask (its id), or of ``PLANNER`` or ``QA``."""
        if key not in self._trackers:
            self._trackers[key] = RetryTracker(self.policy, self.clock)
        return self._trackers[key]


PLANNER = "\0planner"
QA = "\0qa"
"""The retry book's keys for the planner's and QA's sessions: no subtask id looks like them."""
