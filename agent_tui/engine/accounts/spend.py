"""This run's sessions into the spend ledger: when each starts, what it has spent after each
reply (an estimate), and what the CLI said it cost when it ended.

The run's totals are read back from the ledger, so a session still running counts with its
spend so far, and a budget sees every lane's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from agent_tui.engine.accounts.budget import Budgets
from agent_tui.engine.accounts.forecast import forecast
from agent_tui.engine.accounts.ledger import Entry, Ledger
from agent_tui.engine.clock import Clock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.money import Forecast

PlanState = Callable[[], tuple[Collection[str], int, int]]
"""The subtasks completed in the plan, how many are left to do, and the lanes of the run."""


@dataclass
class _Running:
    started: float
    """On the loop's clock."""
    profile: str
    role: str
    subtask: str | None
    model: str | None
    estimate: tuple[float, int, int] = (0.0, 0, 0)
    """Its spend so far as the last reply put it: cost, input and output tokens."""


class RunSpend:
    def __init__(
        self,
        ledger: Ledger,
        *,
        spec_dir: Path,
        project_dir: Path,
        clock: Clock,
        emit: ev.EventSink,
        run_id: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.spec = str(spec_dir)
        self.project = str(project_dir)
        self.clock = clock
        self.run = run_id or uuid.uuid4().hex[:12]
        self._emit = emit
        self._running: dict[int, _Running] = {}
        self._problem_shown = False
        self.budgets = Budgets(ledger, run=self.run, spec=self.spec, wall=clock.wall)
        """The loop sets the limits (they come from the settings and the profiles)."""
        self.plan_state: PlanState | None = None
        self.planned = False
        """The budgets and the forecast have been said (before the run's first session)."""

    async def start(
        self, session: int, *, profile: str, role: str, subtask: str | None, model: str | None
    ) -> None:
        self._running[session] = _Running(self.clock.now(), profile, role, subtask, model)

    async def so_far(
        self,
        session: int,
        cost_usd: float,
        input_tokens: int,
        output_tokens: int,
        model: str | None,
    ) -> None:
        """A running session's spend so far (its estimate): kept, so a kill keeps it."""
        running = self._running.get(session)
        if running is not None:
            running.estimate = (cost_usd, input_tokens, output_tokens)
        await self._write(session, cost_usd, input_tokens, output_tokens, model=model)

    async def end(
        self, session: int, cost_usd: float, input_tokens: int, output_tokens: int, outcome: str
    ) -> None:
        """The session's own figures, replacing its estimate; a session stopped before it
        said what it cost (killed, or the run ended inside it) keeps its estimate."""
        running = self._running.get(session)
        reported = cost_usd > 0 or input_tokens > 0
        if running is not None and not reported and running.estimate[0] > 0:
            await self._write(session, *running.estimate, outcome=outcome, estimated=True)
        else:
            await self._write(session, cost_usd, input_tokens, output_tokens, outcome=outcome)
        self._running.pop(session, None)

    async def _write(
        self,
        session: int,
        cost_usd: float,
        input_tokens: int,
        output_tokens: int,
        *,
        model: str | None = None,
        outcome: str | None = None,
        estimated: bool | None = None,
    ) -> None:
        running = self._running.get(session)
        if running is None:
            return
        entry = Entry(
            run=self.run,
            session=session,
            profile=running.profile,
            spec=self.spec,
            project=self.project,
            role=running.role,
            ts=self.clock.wall(),
            cost_usd=round(cost_usd, 6),
            subtask=running.subtask,
            model=model or running.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            duration_s=round(max(0.0, self.clock.now() - running.started), 3),
            final=outcome is not None,
            estimated=outcome is None if estimated is None else estimated,
            outcome=outcome,
        )
        try:
            await asyncio.to_thread(self.ledger.append, entry)
        except OSError as exc:
            if not self._problem_shown:
                self._problem_shown = True
                message = (
                    f"spend not saved in the ledger ({exc}): budgets count it for this run only"
                )
                await self._emit(ev.Notice(level="warning", message=message))

    async def refresh(self) -> None:
        """Read what other runs (on the same profiles) have spent meanwhile."""
        await asyncio.to_thread(self.ledger.refresh)

    def run_entries(self) -> list[Entry]:
        return self.ledger.select(run=self.run)

    @property
    def cost_usd(self) -> float:
        return sum(e.cost_usd for e in self.run_entries())

    def tokens(self) -> tuple[int, int]:
        entries = self.run_entries()
        return sum(e.input_tokens for e in entries), sum(e.output_tokens for e in entries)

    def spec_cost(self) -> float:
        """Every run's sessions of this spec, this one's included."""
        return self.ledger.spent(spec=self.spec)

    def forecast(self) -> Forecast | None:
        """The plan's remaining cost and time from the spec's sessions so far (None: no
        plan yet, or no completed subtask to go by)."""
        if self.plan_state is None:
            return None
        completed, left, lanes = self.plan_state()
        return forecast(self.ledger.select(spec=self.spec), completed, left, lanes)

    def usage(
        self, session: int, outcome_cost: float, tokens: tuple[int, int], lane: int, profile: str
    ) -> ev.Usage:
        """The ``usage`` event after ``session``: its figures, the run's and the spec's, the
        budgets for ``profile`` and the forecast."""
        run_in, run_out = self.tokens()
        return ev.Usage(
            session=session,
            session_cost_usd=outcome_cost,
            session_input_tokens=tokens[0],
            session_output_tokens=tokens[1],
            total_cost_usd=self.cost_usd,
            total_input_tokens=run_in,
            total_output_tokens=run_out,
            lane=lane,
            spec_cost_usd=self.spec_cost(),
            budgets=tuple(self.budgets.lines(profile)),
            forecast=self.forecast(),
        )
