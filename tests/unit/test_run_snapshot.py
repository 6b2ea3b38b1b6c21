"""What a late app is sent first: the events that set the screen, and the log's tail."""

from __future__ import annotations

import pytest

from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events.money import BudgetKind, BudgetLine
from agent_tui.engine.events.state import LoopMode
from agent_tui.runproc.snapshot import Snapshot
from agent_tui.tui.run_cost import RunCost


def plan(status: str = "pending") -> ev.PlanLoaded:
    subtasks = tuple(
        ev.SubtaskView(id=f"1.{n}", description=f"part {n}", status=status, phase_id="1")
        for n in range(3)
    )
    phase = ev.PhaseView(id="1", name="Core", subtasks=subtasks)
    return ev.PlanLoaded(spec_dir="/s", feature="f", phases=(phase,), total=3, completed=0)


def test_a_short_run_is_sent_whole_in_order():
    snapshot = Snapshot(VirtualClock())
    sent = [
        plan(),
        ev.SessionStarted(
            session=1,
            kind="coder",
            subtask_id="1.0",
            profile="p",
            attempt=1,
            model=None,
            transcript="t",
        ),
        ev.AssistantText(session=1, text="hello"),
        ev.SubtaskStatus(id="1.0", status="completed"),
    ]
    for event in sent:
        snapshot.add(event)
    assert [event for _, event in snapshot.events()] == sent
    assert [seq for seq, _ in snapshot.events()] == [1, 2, 3, 4]


def test_a_long_run_keeps_what_sets_the_screen_and_the_logs_tail():
    snapshot = Snapshot(VirtualClock(), recent=5)
    first = plan()
    snapshot.add(first)
    snapshot.add(ev.SubtaskStatus(id="1.0", status="in_progress"))
    snapshot.add(ev.SubtaskStatus(id="1.0", status="completed"))
    snapshot.add(ev.Paused(reason="PAUSE file"))
    snapshot.add(ev.Resumed())
    snapshot.add(
        ev.LoopStateChanged(mode=LoopMode.RUNNING, session_running=True, interrupting=False)
    )
    for n in range(20):
        snapshot.add(ev.AssistantText(session=1, text=f"line {n}"))
    kept = [event for _, event in snapshot.events()]
    texts = [e.text for e in kept if isinstance(e, ev.AssistantText)]
    assert texts == [f"line {n}" for n in range(15, 20)]
    assert kept[0] is first
    statuses = [e for e in kept if isinstance(e, ev.SubtaskStatus)]
    assert statuses == [ev.SubtaskStatus(id="1.0", status="completed", ts=statuses[0].ts)]
    assert not any(isinstance(e, ev.Paused) for e in kept)  # the resume replaced it
    assert any(isinstance(e, ev.Resumed) for e in kept)
    assert any(isinstance(e, ev.LoopStateChanged) for e in kept)


def test_a_backoff_frozen_by_a_pause_is_sent_frozen_where_it_froze():
    clock = VirtualClock(auto_advance=False)
    snapshot = Snapshot(clock)
    started = ev.BackoffStarted(
        kind="overloaded", delay_s=8.0, retry=1, max_retries=5, deadline=clock.now() + 8.0
    )
    snapshot.add(started)
    clock.advance(3.0)
    snapshot.add(ev.Paused(reason="paused by you", by_user=True))
    clock.advance(100.0)  # an app attaches long after
    sent = [e for _, e in snapshot.events() if isinstance(e, ev.BackoffStarted)]
    assert sent[0].deadline - clock.now() == 5.0  # 5 s were left when it froze
    snapshot.add(ev.Resumed())
    sent = [e for _, e in snapshot.events() if isinstance(e, ev.BackoffStarted)]
    assert sent[0] == started


def test_a_late_app_counts_spend_as_one_watching_all_along():
    # Two lanes: each lane's running estimate and its usage are kept, so no session's
    # estimate is left running (counted twice) or lost, however long the log since.
    run_budget = BudgetLine(kind=BudgetKind.RUN, limit_usd=10.0, spent_usd=0.0, name="run")

    def started(session: int, lane: int) -> ev.SessionStarted:
        return ev.SessionStarted(
            session=session, kind="coder", subtask_id=f"{lane}.1", profile="p", attempt=1,
            model=None, transcript="t", lane=lane,
        )  # fmt: skip

    def spend(session: int, lane: int, usd: float) -> sev.SessionSpend:
        return sev.SessionSpend(
            session=session, cost_usd=usd, input_tokens=1000, output_tokens=10, lane=lane
        )

    def usage(session: int, lane: int, usd: float, total: float) -> ev.Usage:
        return ev.Usage(
            session=session, session_cost_usd=usd, session_input_tokens=1000,
            session_output_tokens=10, total_cost_usd=total, total_input_tokens=3000,
            total_output_tokens=30, lane=lane,
            budgets=(BudgetLine(**{**run_budget.as_dict(), "spent_usd": total}),),
        )  # fmt: skip

    sent = [
        sev.SpendPlanned(budgets=(run_budget,), forecast=None, fits=None),
        started(1, 1),
        spend(1, 1, 0.5),
        started(2, 2),
        spend(2, 2, 0.3),
        usage(1, 1, 0.6, 0.9),  # the engine's total counts lane 2's estimate
        started(3, 1),
        spend(3, 1, 0.2),
        *(ev.AssistantText(session=3, text=f"line {n}", lane=1) for n in range(50)),
        usage(2, 2, 0.35, 1.15),  # lane 1's estimate (0.2) again counted in
        *(ev.AssistantText(session=3, text=f"more {n}", lane=1) for n in range(50)),
    ]
    snapshot = Snapshot(VirtualClock(), recent=5)
    live = RunCost()
    for n, event in enumerate(sent):
        snapshot.add(event)
        _count(live, event)
        if n in (4, len(sent) - 1):  # before any session ended; at the end
            late = RunCost()
            for _, kept in snapshot.events():
                _count(late, kept)
            then = spend(3, 1, 0.25)  # the next reply, seen by both
            _count(late, then)
            seen = RunCost()  # as live, from here on
            for each in sent[: n + 1]:
                _count(seen, each)
            _count(seen, then)
            assert late.tokens == seen.tokens
            assert late.run == pytest.approx(seen.run)
            assert [b.spent_usd for b in late.budgets] == pytest.approx(
                [b.spent_usd for b in seen.budgets]
            )
            assert len(late.budgets) == 1
    assert round(late.run, 2) == 1.2 and round(late.budgets[0].spent_usd, 2) == 1.2


def _count(cost: RunCost, event: ev.Event) -> None:
    if isinstance(event, ev.SessionStarted):
        cost.started(event)
    elif isinstance(event, sev.SessionSpend):
        cost.spent(event)
    elif isinstance(event, ev.Usage):
        cost.ended(event)
    elif isinstance(event, sev.SpendPlanned):
        cost.planned(event)
