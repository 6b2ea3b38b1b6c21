"""What may run side by side, over the plan shapes upstream's planner writes: phases with and
without ``parallel_safe``, declared files that overlap, chains and diamonds; and how many
lanes a run gets."""

from __future__ import annotations

import json
from typing import Any

from agent_tui.engine.schedule.ready import lane_count, ready, recommended_workers, starts
from agent_tui.plan import ImplementationPlan, next_subtask, parse_plan

GIB = 1024**3


def plan(*phases: dict[str, Any], **extra: Any) -> ImplementationPlan:
    return parse_plan(json.dumps({"feature": "f", "phases": list(phases), **extra}))


def phase(pid: str, subtasks: list[dict], depends_on=(), **hints: Any) -> dict:
    return {"id": pid, "name": pid, "depends_on": list(depends_on), "subtasks": subtasks, **hints}


def sub(sid: str, status: str = "pending", files: tuple[str, ...] = ()) -> dict:
    return {"id": sid, "description": sid, "status": status, "files_to_modify": list(files)}


def ids(found) -> list[str]:
    return [s.id for s in found]


def test_one_lane_takes_what_next_subtask_always_took():
    shapes = [
        plan(phase("1", [sub("1.1"), sub("1.2")]), phase("2", [sub("2.1")], ["1"])),
        plan(phase("1", [sub("1.1", "completed"), sub("1.2", "in_progress")])),
        plan(phase("1", [sub("1.1", "failed"), sub("1.2")]), phase("2", [sub("2.1")])),
        plan(phase("1", [sub("1.1", "completed")]), phase("2", [sub("2.1")], ["1"])),
    ]
    for shape in shapes:
        expected = next_subtask(shape)
        assert ids(ready(shape, room=1)) == ([expected.id] if expected else [])


def test_independent_phases_run_side_by_side_in_plan_order():
    shape = plan(phase("1", [sub("1.1")]), phase("2", [sub("2.1")]), phase("3", [sub("3.1")]))
    assert ids(ready(shape, room=4)) == ["1.1", "2.1", "3.1"]
    assert ids(ready(shape, room=2)) == ["1.1", "2.1"]


def test_a_chain_runs_one_at_a_time():
    shape = plan(
        phase("1", [sub("1.1")]), phase("2", [sub("2.1")], ["1"]), phase("3", [sub("3.1")], ["2"])
    )
    assert ids(ready(shape, room=4)) == ["1.1"]


def test_a_diamond_opens_its_two_sides_then_joins():
    def diamond(*done: str) -> ImplementationPlan:
        def s(sid: str) -> dict:
            return sub(sid, "completed" if sid in done else "pending")

        return plan(
            phase("a", [s("a.1")]),
            phase("b", [s("b.1")], ["a"]),
            phase("c", [s("c.1")], ["a"]),
            phase("d", [s("d.1")], ["b", "c"]),
        )

    assert ids(ready(diamond(), room=4)) == ["a.1"]
    assert ids(ready(diamond("a.1"), room=4)) == ["b.1", "c.1"]
    assert ids(ready(diamond("a.1", "b.1"), room=4)) == ["c.1"]
    assert ids(ready(diamond("a.1", "b.1", "c.1"), room=4)) == ["d.1"]


def test_subtasks_of_one_phase_keep_their_order_unless_it_is_parallel_safe_with_files():
    plain = plan(phase("1", [sub("1.1", files=("a.py",)), sub("1.2", files=("b.py",))]))
    assert ids(ready(plain, room=2)) == ["1.1"]
    safe = plan(
        phase("1", [sub("1.1", files=("a.py",)), sub("1.2", files=("b.py",))], parallel_safe=True)
    )
    assert ids(ready(safe, room=2)) == ["1.1", "1.2"]
    undeclared = plan(phase("1", [sub("1.1"), sub("1.2")], parallel_safe=True))
    assert ids(ready(undeclared, room=2)) == ["1.1"]
    overlapping = plan(
        phase("1", [sub("1.1", files=("a.py",)), sub("1.2", files=("./a.py",))], parallel_safe=True)
    )
    assert ids(ready(overlapping, room=2)) == ["1.1"]


def test_a_phase_that_is_not_parallel_safe_runs_alone():
    shape = plan(phase("1", [sub("1.1")], parallel_safe=False), phase("2", [sub("2.1")]))
    assert ids(ready(shape, room=2)) == ["1.1"]
    assert ids(ready(shape, busy={"1.1"}, room=1)) == []  # nothing beside it


def test_declared_files_that_overlap_keep_two_phases_apart():
    shape = plan(
        phase("1", [sub("1.1", files=("app/models.py",))]),
        phase("2", [sub("2.1", files=("app/models.py", "app/views.py"))]),
        phase("3", [sub("3.1", files=("docs/index.md",))]),
    )
    assert ids(ready(shape, room=3)) == ["1.1", "3.1"]


def test_what_runs_or_waits_to_merge_is_busy_and_stuck_ones_are_skipped():
    shape = plan(phase("1", [sub("1.1", "in_progress")]), phase("2", [sub("2.1"), sub("2.2")]))
    assert ids(ready(shape, busy={"1.1"}, room=3)) == ["2.1"]
    assert ids(ready(shape, busy={"1.1"}, skip={"2.1"}, room=3)) == ["2.2"]
    # A phase whose subtask waits in the merge queue is not complete: its dependants wait.
    waiting = plan(phase("1", [sub("1.1", "in_progress")]), phase("2", [sub("2.1")], ["1"]))
    assert ids(ready(waiting, busy={"1.1"}, room=2)) == []


def on(found) -> list[tuple[str, str | None]]:
    return [(start.subtask.id, start.on) for start in found]


def test_the_next_in_a_phase_starts_on_the_work_waiting_to_be_merged_before_it():
    shape = plan(
        phase("1", [sub("1.1", "in_progress"), sub("1.2", "in_progress"), sub("1.3")]),
        phase("2", [sub("2.1", "in_progress"), sub("2.2")]),
    )
    # 1.1 waits to be merged: 1.2 starts on it; 2.1 still runs, so 2.2 waits for it.
    assert on(starts(shape, running={"2.1"}, queued={"1.1": None}, room=4)) == [("1.2", "1.1")]
    # 1.1 and 1.2 (started on 1.1) both wait: 1.3 starts on 1.2, whose work holds 1.1's.
    both = {"1.1": None, "1.2": "1.1"}
    assert on(starts(shape, running={"2.1"}, queued=both, room=4)) == [("1.3", "1.2")]
    # Two waiting that were not started one on the other: nothing holds both, so it waits.
    apart = {"1.1": None, "1.2": None}
    assert on(starts(shape, running={"2.1"}, queued=apart, room=4)) == []
    # What ``ready`` is asked counts a queued one as busy, as before.
    assert ids(ready(shape, busy={"1.1", "2.1"}, room=4)) == []


def test_nothing_starts_on_work_after_it_nor_past_one_unfinished_or_running():
    shape = plan(
        phase("1", [sub("1.1"), sub("1.2", "in_progress"), sub("1.3")]),
        phase("2", [sub("2.1", files=("a.py",))]),
        phase("3", [sub("3.1", "in_progress", files=("a.py",))]),
    )
    # 1.1 went back to pending while 1.2, started on it, waits: 1.1 is not built on 1.2,
    # nor is 1.3 (its work would hold 1.1's, which did not merge).
    assert on(starts(shape, queued={"1.2": "1.1"}, room=4)) == [("2.1", None)]
    # 2.1 shares a file with 3.1, of another phase: it waits for 3.1's merge.
    assert on(starts(shape, queued={"1.2": "1.1", "3.1": None}, room=4)) == []
    # One of its phase runs (1.1): the next ones wait, however the rest stands.
    assert on(starts(shape, running={"1.1"}, queued={"3.1": None}, room=4)) == []


def test_the_planners_recommendation_sets_the_lanes_and_the_caps_say_why():
    advised = plan(phase("1", [sub("1.1")]), summary={"parallelism": {"recommended_workers": 3}})
    assert recommended_workers(advised) == 3
    assert recommended_workers(plan(phase("1", [sub("1.1")]), recommended_workers=2)) == 2
    assert recommended_workers(plan(phase("1", [sub("1.1")]), recommended_workers=True)) is None

    def count(**given: Any):
        options = {"asked": None, "plan": advised, "profiles": 1, "per_profile": 4}
        return lane_count(**{**options, "memory_bytes": 8 * GIB, "isolated": True, **given})

    assert (count().lanes, count().reason) == (3, "the plan recommends 3")
    assert count(asked=2).lanes == 2
    assert count(asked=12, per_profile=4, profiles=2).lanes == 8
    assert "4 for each of 2 profiles" in count(asked=12, profiles=2).reason
    low = count(asked=4, memory_bytes=GIB // 2)
    assert low.lanes == 2 and "memory for 2 sessions" in low.reason
    in_place = count(asked=4, isolated=False)
    assert in_place.lanes == 1 and "no worktree" in in_place.reason
    assert count(plan=plan(phase("1", [sub("1.1")]))).lanes == 1
