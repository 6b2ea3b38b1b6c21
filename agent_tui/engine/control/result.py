"""How a run ends: one ``RunResult`` with a ``RunOutcome``, reached one way (``end``)."""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

from agent_tui.engine.events.record import Record
from agent_tui.exit_codes import (
    EXIT_BAD_INPUT,
    EXIT_COMPLETE,
    EXIT_INTERRUPTED,
    EXIT_STOPPED_SHORT,
)


class RunOutcome(StrEnum):
    COMPLETE = "complete"
    STUCK = "stuck"
    MAX_ITERATIONS = "max_iterations"
    STOPPED = "stopped"
    """A problem only the user can fix ended a run that may not pause (headless)."""
    INTERRUPTED = "interrupted"
    ERROR = "error"
    QA_ESCALATED = "qa_escalated"
    """The QA loop stopped short of an approval (QA_ESCALATION.md says why)."""
    PLANNED = "planned"
    """The planner wrote the plan and the run ended there, as asked, for the user to read."""
    DISCARDED = "discarded"
    """The user discarded the plan the planner wrote: nothing was coded."""


DEFAULT_EXIT_CODES = {
    RunOutcome.COMPLETE: EXIT_COMPLETE,
    RunOutcome.STUCK: EXIT_STOPPED_SHORT,
    RunOutcome.MAX_ITERATIONS: EXIT_STOPPED_SHORT,
    RunOutcome.STOPPED: EXIT_STOPPED_SHORT,
    RunOutcome.INTERRUPTED: EXIT_INTERRUPTED,
    RunOutcome.ERROR: EXIT_BAD_INPUT,
    RunOutcome.QA_ESCALATED: EXIT_STOPPED_SHORT,
    RunOutcome.PLANNED: EXIT_COMPLETE,
    RunOutcome.DISCARDED: EXIT_STOPPED_SHORT,
}


class RunResult(Record):
    outcome: RunOutcome
    message: str
    exit_code: int


class RunEnded(Exception):
    """Raised anywhere in a run to end it with ``result``; ``CoderLoop.run`` reports it."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.message)
        self.result = result


def end(outcome: RunOutcome, message: str, exit_code: int | None = None) -> NoReturn:
    """End the run now (the exit code defaults to the outcome's)."""
    code = DEFAULT_EXIT_CODES[outcome] if exit_code is None else exit_code
    raise RunEnded(RunResult(outcome=outcome, message=message, exit_code=code))
