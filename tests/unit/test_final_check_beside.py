"""With lanes, the final check runs its checks side by side: in the spec's worktree and in
each free lane of its own, once that lane's worktree is the final commit's.  Each check runs
once; a failure reopens its subtask whichever lane ran it; an interrupted check lets no
other start; a lane whose worktree cannot be reset runs none and says so."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from agent_tui.engine.checks.runner import ContainedRunner
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.progress.checkpoints import WorkspaceFailed
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.plan import parse_plan

DEADLINE_S = 5.0
"""A final check that never lets its checks overlap would wait for ever: it fails here."""
TIP = "C9"


def completed_plan(count: int):
    subtasks = [
        {
            "id": f"1.{i}",
            "description": "d",
            "status": "completed",
            "verification": {"command": "true"},
        }
        for i in range(1, count + 1)
    ]
    return parse_plan(json.dumps({"feature": "f", "phases": [{"id": "1", "subtasks": subtasks}]}))


class Site:
    def __init__(self, log: list[tuple[str, int, str]], lane_id: int, fails: bool = False):
        self.isolated = True
        self._log, self._id, self._fails = log, lane_id, fails

    async def start_from(self, commit: str) -> None:
        await asyncio.sleep(0)
        if self._fails:
            raise WorkspaceFailed("the worktree: git failed")
        self._log.append(("reset", self._id, commit))


class Harness:
    def __init__(self, count: int, helpers: int, failing_reset: int | None = None):
        self.log: list[tuple[str, int, str]] = []
        self.said: list[str] = []
        self.reopened: list[str] = []
        self.running = 0
        self.most = 0
        self.outcomes: dict[str, str] = {}

        async def tip() -> str:
            return TIP

        spec_site = SimpleNamespace(tip=tip, isolated=True)
        self.spec = SimpleNamespace(id=0, site=spec_site, busy=False)
        self.lanes = [
            SimpleNamespace(
                id=n,
                site=Site(self.log, n, fails=n == failing_reset),
                busy=False,
                last=object(),
            )
            for n in range(1, helpers + 1)
        ]
        self.busy = SimpleNamespace(id=9, site=Site(self.log, 9), busy=True, last=object())
        self.in_spec = SimpleNamespace(id=8, site=spec_site, busy=False, last=object())
        parts = SimpleNamespace(
            config=SimpleNamespace(verification=True),
            control=SimpleNamespace(stop_reason=None),
            retries=None,
            tracker=SimpleNamespace(plan=completed_plan(count)),
            history=None,
            emit=self.emit,
            checkpoints=spec_site,
            spec_lane=None,
        )
        self.stage = CoderStage(parts)
        self.stage.check = self.check  # type: ignore[method-assign]
        self.cold: set[int] = set()
        self.stage.ready_to_check = lambda lane: lane.id not in self.cold  # type: ignore[method-assign]
        self.stage._reopen = self.reopen  # type: ignore[method-assign]
        self.together = asyncio.Event()
        self.wanted_together = 1 + helpers - (failing_reset is not None)

    async def emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.Notice):
            self.said.append(event.message)

    async def check(self, subtask, lane):
        self.log.append(("check", lane.id, subtask.id))
        self.running += 1
        self.most = max(self.most, self.running)
        if self.running >= self.wanted_together:
            self.together.set()
        if len([e for e in self.log if e[0] == "check"]) <= self.wanted_together:
            await self.together.wait()  # the first checks all run at once, or never end
        await asyncio.sleep(0)  # a check takes time: others go on meanwhile
        self.running -= 1
        self.log.append(("end", lane.id, subtask.id))
        return SimpleNamespace(outcome=self.outcomes.get(subtask.id, CheckOutcome.PASSED))

    async def reopen(self, subtask, check) -> None:
        self.reopened.append(subtask.id)

    async def final_check(self) -> bool:
        beside = [*self.lanes, self.busy, self.in_spec]
        work = self.stage.final_check(self.spec, {}, beside)
        return await asyncio.wait_for(work, DEADLINE_S)

    def checks(self) -> list[tuple[int, str]]:
        return [(lane, what) for kind, lane, what in self.log if kind == "check"]


async def test_checks_run_side_by_side_in_the_spec_and_free_lanes_reset_to_the_tip():
    run = Harness(count=6, helpers=3)
    assert await run.final_check() is False
    assert run.most == 4  # the spec's worktree and lanes 1-3 at once
    assert sorted(what for _, what in run.checks()) == [f"1.{i}" for i in range(1, 7)]
    assert {lane for lane, _ in run.checks()} == {0, 1, 2, 3}  # not the busy lane 9, nor 8
    for lane in (1, 2, 3):  # each helper's worktree is the final commit's before it checks
        first = next(i for i, e in enumerate(run.log) if e[:2] == ("check", lane))
        assert ("reset", lane, TIP) in run.log[:first]
        assert run.lanes[lane - 1].last is None  # nothing of its last try is left to undo
    assert run.said == [
        "final check: 6 completed subtasks' checks run again on the final tree, "
        "4 at a time: in the spec's worktree and lanes 1, 2, 3"
    ]


async def test_no_more_helpers_than_checks_to_share_and_one_check_runs_in_the_spec():
    run = Harness(count=2, helpers=3)
    run.wanted_together = 2
    assert await run.final_check() is False
    assert [e for e in run.log if e[0] == "reset"] == [("reset", 1, TIP)]
    assert run.said[0].endswith("2 at a time: in the spec's worktree and lane 1")
    alone = Harness(count=1, helpers=3)
    alone.wanted_together = 1
    assert await alone.final_check() is False
    assert alone.checks() == [(0, "1.1")] and not [e for e in alone.log if e[0] == "reset"]
    assert alone.said == ["final check: 1 completed subtask's check runs again on the final tree"]


async def test_a_check_that_fails_in_a_helper_lane_reopens_its_subtask():
    run = Harness(count=4, helpers=3)
    run.outcomes = {"1.3": CheckOutcome.FAILED, "1.4": CheckOutcome.TIMED_OUT}
    assert await run.final_check() is True
    assert run.reopened == ["1.3", "1.4"]  # in the plan's order
    assert len(run.checks()) == 4


async def test_an_interrupted_check_lets_no_other_start():
    run = Harness(count=8, helpers=1)
    run.outcomes = {"1.1": CheckOutcome.INTERRUPTED}
    assert await run.final_check() is True  # the run pauses, and checks again after
    stopped = run.log.index(("end", 0, "1.1"))
    assert not [e for e in run.log[stopped:] if e[0] == "check"]
    assert len(run.checks()) < 8 and run.checks()[:2] == [(0, "1.1"), (1, "1.2")]
    assert run.reopened == []


async def test_a_lane_whose_worktree_cannot_be_reset_runs_no_check_and_says_so():
    run = Harness(count=5, helpers=3, failing_reset=2)
    assert await run.final_check() is False
    assert 2 not in {lane for lane, _ in run.checks()}
    assert sorted(what for _, what in run.checks()) == [f"1.{i}" for i in range(1, 6)]
    assert "lane 2 runs no check of the final check (the worktree: git failed)" in run.said


async def test_a_lane_whose_check_session_is_not_up_is_not_used():
    # A chain's lanes never checked anything: starting their CLIs would cost more than
    # trivial checks take.
    run = Harness(count=4, helpers=3)
    run.cold = {1, 3}
    run.wanted_together = 2
    assert await run.final_check() is False
    assert {lane for lane, _ in run.checks()} == {0, 2}
    assert [e for e in run.log if e[0] == "reset"] == [("reset", 2, TIP)]


def test_a_check_session_is_ready_only_while_up_for_that_containment(tmp_path):
    runner = ContainedRunner(env={}, clock=SimpleNamespace(), cli_path="/bin/true")
    mine, other = object(), object()
    runner._sessions[tmp_path / "up"] = SimpleNamespace(running=True, containment=mine)
    runner._sessions[tmp_path / "gone"] = SimpleNamespace(running=False, containment=mine)
    assert runner.ready(mine, tmp_path / "up")
    assert not runner.ready(other, tmp_path / "up")  # a new one would start for that one
    assert not runner.ready(mine, tmp_path / "gone")
    assert not runner.ready(mine, tmp_path / "never")


async def test_a_check_that_ends_the_run_lets_no_other_start_and_ends_the_final_check():
    run = Harness(count=8, helpers=1)
    checked = run.check

    async def ending(subtask, lane):
        if subtask.id == "1.1":
            await checked(subtask, lane)
            raise RuntimeError("the run ends")
        return await checked(subtask, lane)

    run.stage.check = ending  # type: ignore[method-assign]
    try:
        await run.final_check()
    except RuntimeError as exc:
        assert str(exc) == "the run ends"
    else:
        raise AssertionError("the final check went on after the run ended")
    stopped = run.log.index(("end", 0, "1.1"))
    assert not [e for e in run.log[stopped:] if e[0] == "check"] and len(run.checks()) < 8
