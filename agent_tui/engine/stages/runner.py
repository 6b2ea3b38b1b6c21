"""Runs the lanes' sessions for the loop: each one's env, spec and transcript, its start and
end events, and its spend in the ledger (the run's totals are read back from there)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.accounts.spend import RunSpend
from agent_tui.engine.agents.protocol import (
    AgentFactory,
    Ending,
    SessionOutcome,
    SessionSpec,
    interrupted_outcome,
)
from agent_tui.engine.agents.runaway import RunawayLimits
from agent_tui.engine.agents.transcript import next_transcript_path
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.control.control import Control
from agent_tui.engine.control.result import RunEnded
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import CREDIT_WINDOW, Quota, QuotaStatus
from agent_tui.engine.events.spend import SessionSpend
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.sandbox.containment import prepare_records
from agent_tui.engine.schedule.attempt import Attempt


class SessionRunner:
    """Runs the sessions of every lane: they share one numbering per spec and the run's
    spend, and each runs as its lane says (where, on which profile, how contained)."""

    def __init__(
        self,
        config: LoopConfig,
        control: Control,
        factory: AgentFactory,
        emit: ev.EventSink,
        session_sink: ev.EventSink,
        quota: QuotaBook,
        spend: RunSpend,
    ) -> None:
        self.config = config
        self.control = control
        self.quota = quota
        self.spend = spend
        self._factory = factory
        self._emit = emit
        self._session_sink = session_sink
        self.last_number = 0

    async def run(
        self,
        attempt: Attempt,
        prompt: str,
        *,
        note: str | None = None,
        up: Callable[[], None] | None = None,
    ) -> SessionOutcome:
        """``attempt``'s session to its end (``note``: the user's note its prompt carries,
        announced under its start; ``up``: called once, when the session first reports,
        its CLI started).  Raises ``NoUsableProfile`` (before it starts) and
        ``TranscriptError`` (it cannot be recorded): neither is a session's outcome."""
        lane = attempt.lane
        spec = await self._spec(attempt, prompt)
        number = spec.number
        await self._started(attempt, spec)
        if note is not None:
            await self._emit(ev.NoteSent(text=note))
        reported: list[ev.QuotaUpdated] = []
        waiting_up = [up] if up is not None else []

        async def sink(event: ev.Event) -> None:
            while waiting_up:
                waiting_up.pop()()
            if isinstance(event, ev.QuotaUpdated):
                reported.append(event)
                await self._keep_quota(event.profile, event.quota)
            elif isinstance(event, SessionSpend):
                await self.spend.so_far(
                    number, event.cost_usd, event.input_tokens, event.output_tokens, event.model
                )
            await self._session_sink(event)

        session = attempt.session = self._factory(spec, sink, self.control.clock)
        async with self.control.running(session, lane.id):
            try:
                if attempt.cut is not None:  # cut as it was set up: it stops as it starts
                    await session.interrupt()
                outcome = await session.run()
            except RunEnded as ended:  # the session is recorded as cut short by it
                await self._report(attempt, interrupted_outcome(str(ended)))
                raise
            finally:
                attempt.session = None
        if attempt.cut is not None and outcome.outcome == Ending.INTERRUPTED:
            outcome.message = attempt.cut
        if not reported:
            await self._settle_quota(spec.profile, outcome)
        attempt.outcome = outcome
        await self._report(attempt, outcome)
        return outcome

    async def _spec(self, attempt: Attempt, prompt: str) -> SessionSpec:
        """``attempt``'s session as its lane runs it, numbered next in the spec's sequence."""
        lane = attempt.lane
        rotation = lane.rotation
        env = await rotation.session_env()
        config = self.config
        prepare_records(config.spec_dir)  # a link put there since is refused, not used
        number, transcript = next_transcript_path(config.logs_dir, self.last_number)
        self.last_number = attempt.number = number
        attempt.transcript = transcript
        assert lane.containment is not None, "sessions run once the run's containment is decided"
        spec = SessionSpec(
            number=number,
            kind=str(attempt.role),
            subtask_id=attempt.subtask_id,
            prompt=prompt,
            cwd=lane.site.project_dir,
            env=env,
            transcript_path=transcript,
            guard=lane.guard,
            model=config.model,
            containment=lane.containment,
            idle_timeout_s=config.idle_timeout_s,
            rate_limit_retries=rotation.rate_limit_retries(),
            profile=rotation.current,
            lane=lane.id,
            max_budget_usd=config.session_budget_usd,
            runaway=RunawayLimits(config.runaway_repeats, config.runaway_token_growth),
        )
        return spec

    async def _started(self, attempt: Attempt, spec: SessionSpec) -> None:
        """The session starts: its spend is counted from now, and the UI hears of it."""
        await self.spend.start(
            spec.number,
            profile=spec.profile,
            role=spec.kind,
            subtask=spec.subtask_id,
            model=spec.model,
        )
        await self._emit(
            ev.SessionStarted(
                session=spec.number,
                kind=spec.kind,
                subtask_id=spec.subtask_id,
                profile=spec.profile,
                attempt=attempt.tries,
                model=spec.model,
                transcript=str(spec.transcript_path),
                lane=spec.lane,
            )
        )

    async def _settle_quota(self, profile: str, outcome: SessionOutcome) -> None:
        """A session the CLI reported no window for (an API key sends none): a rate limit
        is a rejection with no known reset; a success shows a kept rejection is over."""
        book = self.quota
        if outcome.error_kind in (ErrorKind.RATE_LIMIT, ErrorKind.CREDIT):
            window = CREDIT_WINDOW if outcome.error_kind == ErrorKind.CREDIT else None
            rejected = Quota(
                status=QuotaStatus.REJECTED, window=window, seen_at=self.control.clock.wall()
            )
            await self._keep_quota(profile, rejected)
            await self._emit(ev.QuotaUpdated.of(profile, rejected))
            return
        kept = book.get(profile)
        if outcome.ok and kept is not None and kept.status == QuotaStatus.REJECTED:
            await self._keep_quota(profile, None)

    async def _keep_quota(self, profile: str, quota: Quota | None) -> None:
        book = self.quota
        try:
            if quota is None:
                await asyncio.to_thread(book.forget, profile)
            else:
                await asyncio.to_thread(book.record, profile, quota)
        except OSError as exc:
            await self._emit(ev.Notice(level="warning", message=f"usage window not saved: {exc}"))

    async def _report(self, attempt: Attempt, outcome: SessionOutcome) -> None:
        number, subtask_id, lane = attempt.number, attempt.subtask_id, attempt.lane
        tokens = (outcome.input_tokens, outcome.output_tokens)
        await self.spend.end(number, outcome.cost_usd, *tokens, outcome.outcome)
        await self._emit(
            self.spend.usage(number, outcome.cost_usd, tokens, lane.id, lane.rotation.current)
        )
        if outcome.ok:
            lane.rotation.forgive()
        await self._emit(
            ev.SessionEnded(
                session=number,
                subtask_id=subtask_id,
                outcome=outcome.outcome,
                error_kind=str(outcome.error_kind) if outcome.error_kind else None,
                cost_usd=outcome.cost_usd,
                message=outcome.message,
                lane=lane.id,
            )
        )
