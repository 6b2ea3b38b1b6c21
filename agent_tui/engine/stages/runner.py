"""Runs the lanes' sessions for the loop: each one's env, spec and transcript, its start and
end events, and the run's running totals of cost and tokens."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.agents.protocol import (
    AgentFactory,
    SessionOutcome,
    SessionSpec,
    interrupted_outcome,
)
from agent_tui.engine.agents.transcript import next_transcript_path
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.control.control import Control
from agent_tui.engine.control.result import RunEnded
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import Quota, QuotaStatus
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.sandbox.containment import prepare_records
from agent_tui.engine.schedule.attempt import Attempt


@dataclass
class Totals:
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, outcome: SessionOutcome) -> None:
        self.cost_usd += outcome.cost_usd
        self.input_tokens += outcome.input_tokens
        self.output_tokens += outcome.output_tokens


class SessionRunner:
    """Runs the sessions of every lane: they share one numbering per spec and the run's
    totals, and each runs as its lane says (where, on which profile, how contained)."""

    def __init__(
        self,
        config: LoopConfig,
        control: Control,
        factory: AgentFactory,
        emit: ev.EventSink,
        session_sink: ev.EventSink,
        quota: QuotaBook,
    ) -> None:
        self.config = config
        self.control = control
        self.quota = quota
        self._factory = factory
        self._emit = emit
        self._session_sink = session_sink
        self.last_number = 0
        self.totals = Totals()

    async def run(
        self, attempt: Attempt, prompt: str, *, note: str | None = None
    ) -> SessionOutcome:
        """``attempt``'s session to its end (``note``: the user's note its prompt carries,
        announced under its start).  Raises ``NoUsableProfile`` (before it starts) and
        ``TranscriptError`` (it cannot be recorded): neither is a session's outcome."""
        lane = attempt.lane
        rotation = lane.rotation
        env = await rotation.session_env()
        config = self.config
        prepare_records(config.spec_dir)  # a link put there since is refused, not used
        number, transcript = next_transcript_path(config.logs_dir, self.last_number)
        self.last_number = attempt.number = number
        attempt.transcript = transcript
        subtask_id = attempt.subtask_id
        assert lane.containment is not None, "sessions run once the run's containment is decided"
        spec = SessionSpec(
            number=number,
            kind=str(attempt.role),
            subtask_id=subtask_id,
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
        )
        await self._emit(
            ev.SessionStarted(
                session=number,
                kind=str(attempt.role),
                subtask_id=subtask_id,
                profile=rotation.current,
                attempt=attempt.tries,
                model=config.model,
                transcript=str(transcript),
                lane=lane.id,
            )
        )
        if note is not None:
            await self._emit(ev.NoteSent(text=note))
        reported: list[ev.QuotaUpdated] = []

        async def sink(event: ev.Event) -> None:
            if isinstance(event, ev.QuotaUpdated):
                reported.append(event)
                await self._keep_quota(event.profile, event.quota)
            await self._session_sink(event)

        session = self._factory(spec, sink, self.control.clock)
        async with self.control.running(session, lane.id):
            try:
                outcome = await session.run()
            except RunEnded as ended:  # the session is recorded as cut short by it
                await self._report(attempt, interrupted_outcome(str(ended)))
                raise
        if not reported:
            await self._settle_quota(spec.profile, outcome)
        attempt.outcome = outcome
        await self._report(attempt, outcome)
        return outcome

    async def _settle_quota(self, profile: str, outcome: SessionOutcome) -> None:
        """A session the CLI reported no window for (an API key sends none): a rate limit
        is a rejection with no known reset; a success shows a kept rejection is over."""
        book = self.quota
        if outcome.error_kind == ErrorKind.RATE_LIMIT:
            rejected = Quota(status=QuotaStatus.REJECTED, seen_at=self.control.clock.wall())
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
        totals = self.totals
        totals.add(outcome)
        await self._emit(
            ev.Usage(
                session=number,
                session_cost_usd=outcome.cost_usd,
                session_input_tokens=outcome.input_tokens,
                session_output_tokens=outcome.output_tokens,
                total_cost_usd=totals.cost_usd,
                total_input_tokens=totals.input_tokens,
                total_output_tokens=totals.output_tokens,
                lane=lane.id,
            )
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
