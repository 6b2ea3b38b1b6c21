"""What a late app is sent first: the events that set the screen, and the log's tail."""

from __future__ import annotations

from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.state import LoopMode
from agent_tui.runproc.snapshot import Snapshot


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
