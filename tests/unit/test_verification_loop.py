"""The coder stage with verification: scripted sessions and a scripted check runner.

The real runners (the CLI's sandbox, a plain shell) are exercised through the real CLI in
tests/integration/test_verification_sim.py; here the loop's decisions are.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.checks.verify import CommandRun
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.progress.views import plan_view
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.plan import load_plan
from tests.unit.loop_harness import make_setup, mark_completed, of

CHECK = {"type": "command", "command": "pytest -q", "expected": "All tests pass"}


class ScriptedChecks:
    """Stands in for the check runner: each run takes the next result (the last repeats)."""

    def __init__(self, *results: CommandRun) -> None:
        self.results = list(results) or [CommandRun(exit_status=0)]
        self.calls: list[tuple[str, Path, float]] = []

    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        self.calls.append((command, cwd, timeout_s))
        return self.results[min(len(self.calls), len(self.results)) - 1]


def set_verification(plan_path: Path, verifications: dict[str, object]) -> None:
    plan = json.loads(plan_path.read_text())
    for subtask in plan["phases"][0]["subtasks"]:
        if subtask["id"] in verifications:
            subtask["verification"] = verifications[subtask["id"]]
    plan_path.write_text(json.dumps(plan, indent=2))


@pytest.fixture
def setup(tmp_path):
    built = make_setup(tmp_path)
    built.plan_path = built.spec_dir / "implementation_plan.json"
    return built


def statuses(plan_path: Path) -> dict[str, str]:
    return {s.id: s.status for s in load_plan(plan_path).subtasks()}


async def test_a_claim_the_check_refutes_goes_back_to_pending_and_the_next_prompt_says_why(setup):
    set_verification(setup.plan_path, {"1.1": CHECK, "1.2": CHECK})
    failed = CommandRun(exit_status=1, output="collected 3 items\nFAILED test_core.py::test_greet")
    checks = ScriptedChecks(failed, CommandRun(exit_status=0, output="3 passed"))
    loop, sessions = setup(check_runner=checks, verification_timeout_s=42.0)

    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.1", "1.2"]
    assert checks.calls[0] == ("pytest -q", setup.spec_dir.parents[2], 42.0)
    second = sessions.specs[1].prompt
    assert "IMPORTANT: the last session marked this subtask completed" in second
    assert "Command: `pytest -q`" in second and "exited 1 (expected 0)" in second
    assert "FAILED test_core.py::test_greet" in second
    assert "IMPORTANT" not in sessions.specs[2].prompt  # 1.2's own history is clean

    said = of(setup.events, ev.SubtaskNotCompleted)
    assert [e.text() for e in said] == ["1.1 not completed: its check failed (try 1/3)"]

    history = json.loads((setup.spec_dir / "memory" / "attempt_history.json").read_text())
    first = history["subtasks"]["1.1"]["attempts"][0]
    assert first["outcome"] == "check_failed"
    assert first["message"] == "`pytest -q` exited 1 (expected 0)"
    assert first["verification"]["output_tail"].endswith("FAILED test_core.py::test_greet")
    assert history["subtasks"]["1.1"]["attempts"][1]["verification"]["outcome"] == "passed"

    shown = [(e.id, e.status) for e in of(setup.events, ev.SubtaskStatus) if e.id == "1.1"]
    assert ("1.1", "pending") in shown and shown[-1] == ("1.1", "completed")
    ended = of(setup.events, tev.VerificationEnded)
    # After the sessions, then both once more on the final tree:
    assert [e.outcome for e in ended] == ["failed", "passed", "passed", "passed", "passed"]
    assert [e.subtask_id for e in ended[3:]] == ["1.1", "1.2"]
    started = of(setup.events, tev.VerificationStarted)
    assert started[0].sandboxed and started[0].timeout_s == 42.0


async def test_failed_checks_count_as_tries_until_the_subtask_is_stuck(setup):
    set_verification(setup.plan_path, {"1.1": CHECK})
    checks = ScriptedChecks(CommandRun(timed_out=True))
    loop, sessions = setup(check_runner=checks, max_attempts=3)

    assert await loop.run() == 3
    assert [s.subtask_id for s in sessions.specs] == ["1.1"] * 3 + ["1.2"]
    assert of(setup.events, ev.SubtaskStuck)[0].reason == "not completed after 3 sessions"
    assert "did not finish within 300 s" in sessions.specs[2].prompt
    assert statuses(setup.plan_path)["1.1"] == "failed"


async def test_checks_that_cannot_be_run_are_recorded_as_unverified_and_nothing_runs(setup):
    set_verification(setup.plan_path, {"1.1": {"type": "manual", "instructions": "look at it"}})
    checks = ScriptedChecks()
    loop, _ = setup(check_runner=checks)

    assert await loop.run() == 0
    assert checks.calls == []
    ended = of(setup.events, tev.VerificationEnded)
    assert [(e.subtask_id, e.outcome) for e in ended] == [
        ("1.1", CheckOutcome.UNVERIFIED),
        ("1.2", CheckOutcome.UNVERIFIED),
    ]
    assert ended[0].reason == "unverified: a manual check, which agent-tui cannot run"
    assert ended[1].reason == "unverified: the plan gives no verification"
    view = plan_view(load_plan(setup.plan_path), setup.spec_dir, loop.history)
    assert [s.verification for s in view.phases[0].subtasks] == ["unverified", "unverified"]


async def test_with_verification_off_a_claim_is_taken_and_shown_as_unverified(setup):
    set_verification(setup.plan_path, {"1.1": CHECK, "1.2": CHECK})
    checks = ScriptedChecks(CommandRun(exit_status=1))
    loop, _ = setup(check_runner=checks, verification=False)

    assert await loop.run() == 0
    assert checks.calls == []
    reasons = {e.reason for e in of(setup.events, tev.VerificationEnded)}
    assert reasons == {"unverified: verification is off"}


async def test_a_check_a_session_changes_is_put_back_and_one_it_adds_stays(setup):
    set_verification(setup.plan_path, {"1.1": CHECK})
    added = {"type": "command", "command": "make lint", "expected": "exit 0"}

    def weaken_and_claim(spec, n) -> SessionOutcome:
        if n == 1:  # its own check made to pass, and one where there was none
            plan = json.loads(setup.plan_path.read_text())
            plan["phases"][0]["subtasks"][0]["verification"] = {"command": "true"}
            plan["phases"][0]["subtasks"][1]["verification"] = added
            plan["reviewer"] = "the agent's own field"
            setup.plan_path.write_text(json.dumps(plan))
        mark_completed(setup.plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success")

    checks = ScriptedChecks(CommandRun(exit_status=1), CommandRun(exit_status=0))
    loop, sessions = setup(weaken_and_claim, check_runner=checks)

    assert await loop.run() == 0
    # every run of 1.1's check is the one the plan had before: the agent's never ran
    # the first try, the second, 1.2's, then the final check of both
    tries, final = ["pytest -q", "pytest -q", "make lint"], ["pytest -q", "make lint"]
    assert [c[0] for c in checks.calls] == [*tries, *final]
    assert len(sessions.specs) == 3
    notices = [e.message for e in of(setup.events, ev.Notice)]
    put_back = (
        "subtask 1.1's check changed during session 1: put back as it was "
        "(change a check while the run is paused)"
    )
    assert notices.count(put_back) == 1
    plan = json.loads(setup.plan_path.read_text())
    assert plan["phases"][0]["subtasks"][0]["verification"] == CHECK
    assert plan["phases"][0]["subtasks"][1]["verification"] == added
    assert plan["reviewer"] == "the agent's own field"  # the rest of its edit stands


async def test_a_check_the_user_changes_while_paused_is_the_one_run(setup):
    set_verification(setup.plan_path, {"1.1": CHECK})
    mine = {"type": "command", "command": "pytest -q tests/unit", "expected": "exit 0"}
    checks = ScriptedChecks(CommandRun(exit_status=1), CommandRun(exit_status=0))
    loop, sessions = setup(check_runner=checks)

    def claim(spec, n) -> SessionOutcome:
        if n == 1:
            loop.pause()  # the user pauses, then edits while paused
        mark_completed(setup.plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success")

    sessions.behaviour = claim
    task = asyncio.create_task(loop.run())
    while not loop.paused:
        await asyncio.sleep(0)
    set_verification(setup.plan_path, {"1.1": mine})
    loop.resume()
    assert await asyncio.wait_for(task, 10) == 0
    assert [c[0] for c in checks.calls][:2] == ["pytest -q", "pytest -q tests/unit"]
    assert not [e for e in of(setup.events, ev.Notice) if "put back" in e.message]


async def test_a_command_the_agents_bash_may_not_run_is_refused_before_it_runs(setup):
    rm = {"type": "command", "command": "rm -rf build && pytest"}
    set_verification(setup.plan_path, {"1.1": rm, "1.2": CHECK})
    checks = ScriptedChecks()
    loop, _ = setup(check_runner=checks, max_attempts=1)

    assert await loop.run() == 3  # 1.1 is stuck: its check can never run
    assert [c[0] for c in checks.calls] == ["pytest -q"]
    failed = of(setup.events, tev.VerificationEnded)[0]
    assert failed.outcome == CheckOutcome.FAILED
    assert failed.reason.startswith(
        "`rm -rf build && pytest` did not run: refused as the agent's Bash would be "
        "(Bash denied: 'rm' is not in the allowlist"
    )


async def test_a_command_the_guard_cannot_check_is_refused(setup, monkeypatch):
    set_verification(setup.plan_path, {"1.1": CHECK})
    checks = ScriptedChecks()
    loop, _ = setup(check_runner=checks, max_attempts=1)

    def broken(self, tool_name, tool_input):
        raise KeyError("no such user")

    # The run builds its guard when it starts (its root is the worktree), so the class.
    monkeypatch.setattr(Guard, "check", broken)
    assert await loop.run() == 3
    assert checks.calls == []
    failed = of(setup.events, tev.VerificationEnded)[0]
    assert failed.reason.endswith("(the guard could not check it (KeyError))")


class WarmingChecks(ScriptedChecks):
    """A runner that can start ahead of its checks (a check session's CLI): when it was
    told to, and how many checks had run by then."""

    def __init__(self) -> None:
        super().__init__()
        self.warmed: list[tuple[Path, int]] = []

    def warm(self, cwd: Path) -> None:
        self.warmed.append((cwd, len(self.calls)))


def reporting(spec, n) -> list[ev.Event]:
    return [ev.AssistantText(session=spec.number, text="on it")]


@pytest.mark.parametrize(
    ("checks_of", "reports", "warmed"),
    [
        ({"1.1": CHECK}, reporting, [0]),  # 1.2 has no command to run: nothing to start
        ({"1.1": CHECK, "1.2": CHECK}, reporting, [0, 1]),
        ({"1.1": CHECK}, lambda spec, n: [], []),  # its CLI never said it had started
        ({"1.1": {"type": "command", "command": "rm -rf build"}}, reporting, []),  # refused
    ],
)
async def test_once_a_session_has_started_its_checks_runner_starts_too(
    setup, checks_of, reports, warmed
):
    set_verification(setup.plan_path, checks_of)
    checks = WarmingChecks()
    loop, sessions = setup(check_runner=checks, max_attempts=1)
    sessions.reports = reports

    await loop.run()
    project = setup.spec_dir.parents[2]
    assert checks.warmed == [(project, ran) for ran in warmed]


class BlockingChecks(ScriptedChecks):
    """The first check waits until cancelled; it notes what the plan said meanwhile."""

    def __init__(self, plan_path: Path) -> None:
        super().__init__(CommandRun(exit_status=0))
        self.plan_path = plan_path
        self.started = asyncio.Event()
        self.cancelled = False
        self.status_meanwhile = ""

    async def run(self, command, cwd, timeout_s) -> CommandRun:
        if self.calls:
            return await super().run(command, cwd, timeout_s)
        self.calls.append((command, cwd, timeout_s))
        self.status_meanwhile = statuses(self.plan_path)["1.1"]
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("a blocked check ends only by being cancelled")


async def test_a_stop_cuts_a_running_check_short_and_leaves_no_unchecked_completion(setup):
    set_verification(setup.plan_path, {"1.1": CHECK})
    checks = BlockingChecks(setup.plan_path)
    loop, _ = setup(check_runner=checks)

    running = asyncio.ensure_future(loop.run())
    await asyncio.wait_for(checks.started.wait(), 5)
    assert checks.status_meanwhile == "in_progress"  # a claim is not a completion yet
    assert loop.session_running  # so i and q reach it
    loop.stop("stopped by the user")
    assert await asyncio.wait_for(running, 5) == 130
    assert checks.cancelled
    assert statuses(setup.plan_path)["1.1"] == "pending"
    ended = of(setup.events, tev.VerificationEnded)
    assert [e.outcome for e in ended] == [CheckOutcome.INTERRUPTED]
    assert loop.history.attempts("1.1")[0]["outcome"] == "interrupted"
    assert loop.history.attempt_count("1.1", interrupted=False) == 0  # not a try


async def test_i_interrupts_a_running_check_and_the_subtask_is_tried_again_on_resume(setup):
    set_verification(setup.plan_path, {"1.1": CHECK})
    checks = BlockingChecks(setup.plan_path)
    loop, sessions = setup(check_runner=checks)

    running = asyncio.ensure_future(loop.run())
    await asyncio.wait_for(checks.started.wait(), 5)
    loop.interrupt()
    while not loop.paused:
        await asyncio.sleep(0)
    loop.resume()
    assert await asyncio.wait_for(running, 5) == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.1", "1.2"]
    assert [a["outcome"] for a in loop.history.attempts("1.1")] == ["interrupted", "success"]
    assert of(setup.events, ev.SubtaskNotCompleted) == []  # a check the user stopped: no try


async def test_the_agents_own_claim_shows_as_in_progress_until_its_check_passes(setup):
    set_verification(setup.plan_path, {"1.1": CHECK, "1.2": CHECK})
    failed = CommandRun(exit_status=1, output="FAILED")
    checks = ScriptedChecks(failed, CommandRun(exit_status=0, output="3 passed"))
    loop, _ = setup(check_runner=checks)

    assert await loop.run() == 0
    events = setup.events
    checked = [n for n, e in enumerate(events) if isinstance(e, tev.VerificationEnded)]
    completed = [
        n
        for n, e in enumerate(events)
        if isinstance(e, ev.SubtaskStatus) and e.id == "1.1" and e.status == "completed"
    ]
    # The refuted claim never showed as completed; the one that passed did, after its check.
    assert len(completed) == 1 and completed[0] > checked[1]


async def test_a_check_changed_by_a_session_the_user_stops_is_put_back(setup):
    set_verification(setup.plan_path, {"1.1": CHECK})

    def weaken_then_stopped(spec, n) -> SessionOutcome:
        set_verification(setup.plan_path, {"1.1": {"type": "command", "command": "true"}})
        mark_completed(setup.plan_path, spec.subtask_id)
        return SessionOutcome(outcome="interrupted")

    loop, sessions = setup(weaken_then_stopped, check_runner=ScriptedChecks())
    sessions.gate = asyncio.Event()
    task = asyncio.create_task(loop.run())
    while not sessions.specs:
        await asyncio.sleep(0)
    loop.stop()
    assert await asyncio.wait_for(task, 10) == 130
    plan = json.loads(setup.plan_path.read_text())
    assert plan["phases"][0]["subtasks"][0]["verification"] == CHECK


async def test_a_check_changed_to_an_equal_looking_value_is_put_back_too(setup):
    # expect_status 0 made false passes Python's == (and made the check unverifiable).
    check = {**CHECK, "expect_status": 0}
    set_verification(setup.plan_path, {"1.1": check})

    def retype(spec, n) -> SessionOutcome:
        if n == 1:
            set_verification(setup.plan_path, {"1.1": {**check, "expect_status": False}})
        mark_completed(setup.plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success")

    loop, _ = setup(retype, check_runner=ScriptedChecks())
    assert await loop.run() == 0
    plan = json.loads(setup.plan_path.read_text())
    kept = plan["phases"][0]["subtasks"][0]["verification"]
    assert json.dumps(kept, sort_keys=True) == json.dumps(check, sort_keys=True)
