"""The plan review in the loop: after the planner wrote the plan, nothing is coded until the
user approves it; a discard or a stop ends the run there; headless, the run ends with the
plan written (exit 0)."""

from __future__ import annotations

import asyncio
import json

import pytest

from agent_tui.engine.agents.claude.session import SessionOutcome
from agent_tui.engine.control.plan_review import PlanReviewMode
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.review import PlanApproved, PlanReview
from tests.unit.loop_harness import make_setup, mark_completed, of, write_plan

REVIEW_BOUND_S = 10
"""Every wait on the loop in these tests ends well within this, or the test fails."""


def planner_writes_the_plan(spec, n) -> SessionOutcome:
    plan_path = spec.cwd / ".auto-claude" / "specs" / "001-x" / "implementation_plan.json"
    if spec.kind == "planner":
        write_plan(plan_path.parent, ["1.1", "1.2"])
    else:
        mark_completed(plan_path, spec.subtask_id)
    return SessionOutcome(outcome="success")


@pytest.fixture
def no_plan(tmp_path):
    setup = make_setup(tmp_path)
    (setup.spec_dir / "implementation_plan.json").unlink()
    return setup


async def until(predicate, what: str) -> None:
    async with asyncio.timeout(REVIEW_BOUND_S):
        while not predicate():
            await asyncio.sleep(0)
    assert predicate(), what


async def start_and_reach_the_review(setup, **config):
    loop, sessions = setup(planner_writes_the_plan, plan_review=PlanReviewMode.ASK, **config)
    run = asyncio.ensure_future(loop.run())
    await until(lambda: of(setup.events, PlanReview), "the review")
    await until(lambda: loop.plan_review.waiting, "the run to wait for the user")
    return loop, sessions, run


async def test_a_plan_the_planner_wrote_waits_for_approval_then_is_coded(no_plan):
    loop, sessions, run = await start_and_reach_the_review(no_plan)
    for _ in range(50):
        await asyncio.sleep(0)
    assert [s.kind for s in sessions.specs] == ["planner"]  # nothing coded while it waits
    [review] = of(no_plan.events, PlanReview)
    assert review.waiting and review.subtasks == 2
    assert review.plan_path == str(no_plan.spec_dir / "implementation_plan.json")
    # The user edits the plan during the review: what is coded is the plan as approved.
    plan = json.loads((no_plan.spec_dir / "implementation_plan.json").read_text())
    plan["phases"][0]["subtasks"].pop()
    (no_plan.spec_dir / "implementation_plan.json").write_text(json.dumps(plan))
    assert loop.approve_plan() is True
    assert loop.approve_plan() is False  # once
    async with asyncio.timeout(REVIEW_BOUND_S):
        assert await run == 0
    assert [(s.kind, s.subtask_id) for s in sessions.specs] == [("planner", None), ("coder", "1.1")]
    assert len(of(no_plan.events, PlanApproved)) == 1
    assert of(no_plan.events, ev.LoopFinished)[0].outcome == "complete"


async def test_a_discarded_plan_ends_the_run_without_coding(no_plan):
    loop, sessions, run = await start_and_reach_the_review(no_plan)
    assert loop.discard_plan() is True
    async with asyncio.timeout(REVIEW_BOUND_S):
        assert await run == 3
    assert [s.kind for s in sessions.specs] == ["planner"]
    finished = of(no_plan.events, ev.LoopFinished)[0]
    assert (finished.outcome, finished.message) == (
        "discarded",
        "the plan was discarded: nothing was coded",
    )
    assert of(no_plan.events, PlanApproved) == []


async def test_a_stop_during_the_review_ends_the_run_there_with_the_plan_kept(no_plan):
    # nothing runs while the review waits: the run ends as a headless one ends there
    loop, sessions, run = await start_and_reach_the_review(no_plan)
    loop.stop("stopped by SIGTERM")
    async with asyncio.timeout(REVIEW_BOUND_S):
        assert await run == 0
    assert [s.kind for s in sessions.specs] == ["planner"]
    finished = of(no_plan.events, ev.LoopFinished)[0]
    assert (finished.outcome, finished.message) == (
        "planned",
        "stopped by SIGTERM at the plan review: the plan is kept (2 subtasks), "
        "nothing is coded yet",
    )
    assert (no_plan.spec_dir / "implementation_plan.json").is_file()
    assert loop.approve_plan() is False  # nothing waits any more


async def test_headless_the_run_ends_with_the_plan_written_and_exit_0(no_plan):
    loop, sessions = no_plan(planner_writes_the_plan, plan_review=PlanReviewMode.STOP)
    assert await loop.run() == 0
    assert [s.kind for s in sessions.specs] == ["planner"]
    [review] = of(no_plan.events, PlanReview)
    assert review.waiting is False
    finished = of(no_plan.events, ev.LoopFinished)[0]
    assert finished.outcome == "planned"
    assert finished.message == "plan written (2 subtasks): read it, then run again to code it"
    # The next run finds the plan and codes it, with no review: the planner did not run.
    loop, sessions = no_plan(planner_writes_the_plan, plan_review=PlanReviewMode.STOP)
    assert await loop.run() == 0
    assert [s.kind for s in sessions.specs] == ["coder", "coder"]


async def test_without_a_review_or_with_a_plan_already_there_coding_starts_at_once(
    tmp_path, no_plan
):
    loop, sessions = no_plan(planner_writes_the_plan)
    assert await loop.run() == 0
    assert of(no_plan.events, PlanReview) == []
    assert [s.kind for s in sessions.specs] == ["planner", "coder", "coder"]
    with_plan = make_setup(tmp_path / "again")
    loop, sessions = with_plan(planner_writes_the_plan, plan_review=PlanReviewMode.ASK)
    assert await loop.run() == 0
    assert of(with_plan.events, PlanReview) == []


async def test_approve_and_discard_do_nothing_when_no_review_waits(no_plan):
    loop, _ = no_plan(planner_writes_the_plan, plan_review=PlanReviewMode.ASK)
    assert loop.approve_plan() is False and loop.discard_plan() is False
