"""The plan on disk is the truth: what the user or the agent wrote is read before every
decision and never overwritten; agent-tui changes one status value and nothing else."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.plan import PlanError, load_plan, parse_plan, status_in_text
from tests.unit.loop_harness import ScriptedSessions, make_setup, mark_completed, of, write_plan


def edit_plan(path, change) -> None:
    plan = json.loads(path.read_text())
    change(plan)
    path.write_text(json.dumps(plan, indent=2))


@pytest.fixture
def setup(tmp_path):
    return make_setup(tmp_path)


@pytest.fixture
def three(setup):
    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3"])
    return setup


def user_edits(plan) -> None:
    subtasks = plan["phases"][0]["subtasks"]
    subtasks[1]["status"] = "completed"
    subtasks[2]["description"] = "the user's own words"
    plan["reviewer"] = {"name": "Ada"}


@pytest.mark.parametrize("how", ["key", "PAUSE file"])
async def test_edits_made_while_paused_are_read_and_kept(three, how):
    plan_path = three.spec_dir / "implementation_plan.json"
    loop, sessions = three()
    sessions.gate = asyncio.Event()
    task = asyncio.create_task(loop.run())
    while not sessions.specs:
        await asyncio.sleep(0)
    if how == "key":
        loop.pause()
    else:
        (three.spec_dir / "PAUSE").write_text("")
    sessions.gate.set()
    while not loop.paused:
        await asyncio.sleep(0)
    edit_plan(plan_path, user_edits)
    loop.resume()
    assert await task == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.3"]  # 1.2 was done by hand
    final = json.loads(plan_path.read_text())
    assert final["reviewer"] == {"name": "Ada"}
    assert final["phases"][0]["subtasks"][2]["description"] == "the user's own words"
    assert "the user's own words" in sessions.specs[1].prompt


class EditingClock(VirtualClock):
    """The user edits the plan as the run first waits (the backoff after an error)."""

    def __init__(self, edit) -> None:
        super().__init__()
        self.edit = edit

    async def sleep(self, seconds: float) -> None:
        if self.edit is not None:
            self.edit()
            self.edit = None
        await super().sleep(seconds)


async def test_edits_made_between_sessions_and_during_a_backoff_are_kept(three):
    plan_path = three.spec_dir / "implementation_plan.json"

    def behaviour(spec, n):
        if n == 1:  # 1.1 fails once: the backoff that follows is when the user edits
            return SessionOutcome(outcome="error", error_kind=ErrorKind.TOOL_CONCURRENCY)
        return ScriptedSessions.complete(sessions, spec, n)

    clock = EditingClock(lambda: edit_plan(plan_path, user_edits))
    loop, sessions = three(behaviour, clock=clock)
    assert await loop.run() == 0
    assert clock.edit is None
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.1", "1.3"]
    final = json.loads(plan_path.read_text())
    assert final["reviewer"] == {"name": "Ada"}
    assert final["phases"][0]["subtasks"][2]["description"] == "the user's own words"


LEGACY = """{
  "feature": "legacy",
  "phases": [
    {"phase": 1, "name": "P", "chunks": [
      {"subtask_id": 7, "title": "a legacy chunk", "status": "pending", "z": [1,2.50]},
      {"subtask_id": 8, "title": "another", "status": "pending"}
    ]}
  ],
  "a_field_last": true
}
"""


async def test_a_legacy_plan_keeps_every_byte_but_the_statuses_we_set(setup):
    plan_path = setup.spec_dir / "implementation_plan.json"
    plan_path.write_text(LEGACY)

    def complete(spec, n):
        text = plan_path.read_text()
        plan_path.write_text(status_in_text(text, spec.subtask_id, "completed"))
        return SessionOutcome(outcome="success")

    loop, sessions = setup(complete)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["7", "8"]
    assert plan_path.read_text() == LEGACY.replace('"pending"', '"completed"')


def test_one_status_changes_in_place_and_a_missing_status_is_added():
    text = '{"phases": [{"id": "1", "subtasks": [{"id": "a"}, {"id": "b", "status": "pending"}]}]}'
    assert status_in_text(text, "b", "failed") == text.replace('"pending"', '"failed"')
    added = status_in_text(text, "a", "in_progress")
    assert added == text.replace('{"id": "a"}', '{"id": "a", "status": "in_progress"}')
    with pytest.raises(KeyError):
        status_in_text(text, "gone", "failed")


async def test_two_bad_plans_in_the_same_second_keep_both_copies(setup):
    plan_path = setup.spec_dir / "implementation_plan.json"

    def corrupt(spec, n):
        plan_path.write_text(f"{{ broken {n}")
        return SessionOutcome(outcome="success")

    loop, _ = setup(corrupt, max_iterations=2)
    assert await loop.run() == 3
    copies = sorted(setup.spec_dir.glob("implementation_plan.json.corrupt-*"))
    assert sorted(c.read_text() for c in copies) == ["{ broken 1", "{ broken 2"]
    assert len(of(setup.events, ev.PlanWarning)) == 2


DEEP = '{"phases": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
HUGE_NUMBER = '{"phases": [], "x": ' + "9" * 5000 + "}"


@pytest.mark.parametrize("text", [DEEP, HUGE_NUMBER], ids=["deep", "huge number"])
def test_hostile_json_is_a_bad_plan_not_a_crash(text):
    with pytest.raises(PlanError, match="not a plan"):
        parse_plan(text, "plan.json")


async def test_a_session_that_writes_hostile_json_has_it_set_aside(setup):
    plan_path = setup.spec_dir / "implementation_plan.json"

    def hostile(spec, n):
        plan_path.write_text(DEEP)
        return SessionOutcome(outcome="success")

    loop, _ = setup(hostile, max_iterations=1)
    assert await loop.run() == 3
    assert [s["id"] for s in json.loads(plan_path.read_text())["phases"][0]["subtasks"]] == [
        "1.1",
        "1.2",
    ]
    assert "nested too deeply" in of(setup.events, ev.PlanWarning)[0].message


def test_a_bom_is_accepted_and_a_lone_surrogate_refused(tmp_path):
    path = tmp_path / "implementation_plan.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"phases": []}).encode())
    assert load_plan(path).phases == []
    with pytest.raises(PlanError, match="unpaired surrogate"):
        parse_plan('{"feature": "\\ud800", "phases": []}', "plan.json")


def test_devices_and_fifos_are_refused_at_once(tmp_path):
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    with pytest.raises(PlanError, match="not a regular file"):
        load_plan(zero)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(PlanError, match="not a regular file"):
        load_plan(fifo)  # would wait for a writer for ever if opened blocking


async def test_an_agent_that_removes_its_subtask_on_its_last_try_does_not_crash_the_run(setup):
    plan_path = setup.spec_dir / "implementation_plan.json"

    def remove_on_third(spec, n):
        if n == 3:
            edit_plan(plan_path, lambda p: p["phases"][0]["subtasks"].pop(0))
        if spec.subtask_id == "1.2":
            mark_completed(plan_path, "1.2")
        return SessionOutcome(outcome="success")

    loop, sessions = setup(remove_on_third)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.1", "1.1", "1.2"]
    assert [s["id"] for s in json.loads(plan_path.read_text())["phases"][0]["subtasks"]] == ["1.2"]


# ------------------------------------------------------------ retrying a stuck subtask


def make_stuck(spec_dir) -> None:
    from agent_tui.engine.progress.history import AttemptHistory

    history = AttemptHistory(spec_dir)
    for session in (1, 2, 3):
        history.record_attempt("1.1", session, "incomplete", None, "")
    history.mark_stuck("1.1", "not completed after 3 sessions")
    edit_plan(
        spec_dir / "implementation_plan.json",
        lambda p: p["phases"][0]["subtasks"][0].update(status="failed"),
    )


async def test_a_stuck_subtask_stays_stuck_on_a_rerun(setup):
    make_stuck(setup.spec_dir)
    loop, sessions = setup()
    assert await loop.run() == 3
    assert [s.subtask_id for s in sessions.specs] == ["1.2"]


async def test_retry_stuck_tries_it_again_with_its_tries_afresh(setup):
    make_stuck(setup.spec_dir)
    loop, sessions = setup(retry_stuck=True)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert [e.id for e in of(setup.events, ev.SubtaskRetried)] == ["1.1"]
    from agent_tui.engine.progress.history import AttemptHistory

    history = AttemptHistory(setup.spec_dir)
    assert not history.is_stuck("1.1") and history.attempt_count("1.1") == 4


async def test_a_retry_asked_before_the_run_holds_the_spec_is_done_once_it_does(setup):
    """The app's new run, made to try one stuck subtask again: asked before the run began,
    nothing is written until the run holds the spec's lock, and only that one is tried."""
    from agent_tui.engine.control.runlock import RunLock
    from agent_tui.engine.progress.history import AttemptHistory

    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3"])
    make_stuck(setup.spec_dir)
    history = AttemptHistory(setup.spec_dir)
    for session in (4, 5, 6):
        history.record_attempt("1.3", session, "incomplete", None, "")
    history.mark_stuck("1.3", "not completed after 3 sessions")
    edit_plan(
        setup.spec_dir / "implementation_plan.json",
        lambda p: p["phases"][0]["subtasks"][2].update(status="failed"),
    )
    before = (setup.spec_dir / "memory" / "attempt_history.json").read_bytes()
    loop, sessions = setup()
    assert loop.retry_subtask("1.1") and not loop.retry_subtask("1.2")  # 1.2 is not stuck
    await asyncio.sleep(0)
    assert (setup.spec_dir / "memory" / "attempt_history.json").read_bytes() == before
    held = []
    sessions.behaviour = lambda spec, n: (
        held.append(_held(RunLock(setup.spec_dir))),
        ScriptedSessions.complete(sessions, spec, n),
    )[1]
    assert await loop.run() == 3  # 1.3 is still stuck
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert [e.id for e in of(setup.events, ev.SubtaskRetried)] == ["1.1"]
    assert held == [True, True]
    assert AttemptHistory(setup.spec_dir).stuck_ids() == {"1.3"}


def _held(lock) -> bool:
    from agent_tui.engine.control.runlock import SpecBusy

    try:
        lock.check()
    except SpecBusy:
        return True
    return False


async def test_setting_a_stuck_subtask_back_to_pending_in_the_plan_retries_it(setup):
    plan_path = setup.spec_dir / "implementation_plan.json"
    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3"])
    runs = {"1.2": 0}

    def behaviour(spec, n):
        if spec.subtask_id == "1.2":  # while 1.2 runs, the user gives 1.1 another go
            runs["1.2"] += 1
            edit_plan(plan_path, lambda p: p["phases"][0]["subtasks"][0].update(status="pending"))
        if spec.subtask_id == "1.1" and runs["1.2"] == 0:
            return SessionOutcome(outcome="success")  # not completed: stuck after three
        return ScriptedSessions.complete(sessions, spec, n)

    loop, sessions = setup(behaviour)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1"] * 3 + ["1.2", "1.1", "1.3"]
    assert json.loads(plan_path.read_text())["phases"][0]["subtasks"][0]["status"] == "completed"


async def test_a_stuck_subtask_the_plan_calls_in_progress_is_failed_in_the_plan_too(setup):
    make_stuck(setup.spec_dir)
    plan_path = setup.spec_dir / "implementation_plan.json"
    edit_plan(plan_path, lambda p: p["phases"][0]["subtasks"][0].update(status="in_progress"))
    loop, _ = setup()
    assert await loop.run() == 3
    assert json.loads(plan_path.read_text())["phases"][0]["subtasks"][0]["status"] == "failed"


async def test_a_run_that_stops_leaves_its_subtask_pending_not_in_progress(setup):
    limited = SessionOutcome(outcome="error", error_kind=ErrorKind.RATE_LIMIT, message="limit")
    loop, _ = setup(lambda spec, n: limited, pause_on_problem=False)
    assert await loop.run() == 3
    plan = json.loads((setup.spec_dir / "implementation_plan.json").read_text())
    assert plan["phases"][0]["subtasks"][0]["status"] == "pending"


async def test_two_status_changes_at_once_both_reach_the_file(tmp_path, monkeypatch):
    """The retry key's change runs beside the loop's: the second must read the first."""
    import threading

    import agent_tui.engine.progress.tracker as plan_tracker
    from agent_tui.engine.progress.history import AttemptHistory

    spec_dir = tmp_path / "spec"
    write_plan(spec_dir, ["1.1", "1.2"])
    path = spec_dir / "implementation_plan.json"
    tracker = plan_tracker.PlanTracker(path, spec_dir, AttemptHistory(spec_dir))
    tracker.load_existing()
    disk_free = threading.Event()  # a write held up on a busy disk until the test says
    write = plan_tracker.atomic_write_text

    def held_write(target, text, **kw):
        disk_free.wait(timeout=10)
        write(target, text, **kw)

    monkeypatch.setattr(plan_tracker, "atomic_write_text", held_write)

    async def free_the_disk() -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        disk_free.set()

    await asyncio.gather(
        tracker.set_status("1.2", "in_progress"),
        tracker.set_status("1.1", "failed"),
        free_the_disk(),
    )
    statuses = {s.id: s.status for s in load_plan(path).subtasks()}
    assert statuses == {"1.1": "failed", "1.2": "in_progress"}
