"""The final check runs again every completed subtask's check, except one that passed on the
very commit the spec's branch is at (as its merge's re-check), the same check: a check the
user changed since, or a branch that moved since, runs again."""

from __future__ import annotations

import json
from types import SimpleNamespace

from agent_tui.engine.checks.verify import check_of
from agent_tui.engine.events import core as ev
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.plan import parse_plan


def completed_plan(commands: dict[str, str]):
    subtasks = [
        {"id": i, "description": i, "status": "completed", "verification": {"command": c}}
        for i, c in commands.items()
    ]
    return parse_plan(json.dumps({"feature": "f", "phases": [{"id": "1", "subtasks": subtasks}]}))


async def final_check(plan, passed_on, tip: str) -> tuple[list[str], list[str]]:
    """Which checks the final check ran, and what it said."""
    ran: list[str] = []
    said: list[str] = []

    async def emit(event: ev.Event) -> None:
        if isinstance(event, ev.Notice):
            said.append(event.message)

    async def at() -> str:
        return tip

    spec = SimpleNamespace(tip=at, isolated=True)
    parts = SimpleNamespace(
        config=SimpleNamespace(verification=True),
        control=None,
        retries=None,
        tracker=SimpleNamespace(plan=plan),
        history=None,
        emit=emit,
        checkpoints=spec,
        spec_lane=None,
    )
    stage = CoderStage(parts)

    async def check(subtask, lane):
        ran.append(subtask.id)
        return SimpleNamespace(outcome="passed")

    stage.check = check  # type: ignore[method-assign]
    assert await stage.final_check(lane=None, passed_on=passed_on) is False
    return ran, said


async def test_only_checks_that_passed_on_this_very_commit_unchanged_are_not_run_again():
    plan = completed_plan({"1.1": "test -e a", "1.2": "test -e b", "1.3": "test -e c"})
    subtasks = {s.id: s for s in plan.subtasks()}
    passed_on = {
        "1.1": ("C2", check_of(subtasks["1.1"].verification)),  # the tip: skipped
        "1.2": ("C1", check_of(subtasks["1.2"].verification)),  # an earlier commit
        "1.3": (
            "C2",
            check_of(completed_plan({"1.3": "test -e old"}).phases[0].subtasks[0].verification),
        ),
    }
    ran, said = await final_check(plan, passed_on, tip="C2")
    assert ran == ["1.2", "1.3"]  # 1.3's check was changed since it passed
    assert said == [
        "final check: 2 completed subtasks' checks run again on the final tree "
        "(1.1 passed on it as it merged)"
    ]
    ran, _ = await final_check(plan, {}, tip="C2")  # nothing passed here (one lane)
    assert ran == ["1.1", "1.2", "1.3"]
