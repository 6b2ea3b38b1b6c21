"""The coder loop's control flow with a scripted in-process session: no CLI, virtual time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from tests.unit.loop_harness import (
    TOKEN,
    Behaviour,
    ScriptedSessions,
    make_setup,
    mark_completed,
    of,
    write_plan,
)


@pytest.fixture
def setup(tmp_path):
    return make_setup(tmp_path)


async def test_runs_each_subtask_once_and_completes(setup):
    loop, sessions = setup()
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert sessions.specs[0].env["CLAUDE_CODE_OAUTH_TOKEN"] == TOKEN
    assert loop.clock.slept == [3.0]  # between the two sessions only, on the virtual clock
    assert of(setup.events, ev.LoopFinished)[0].outcome == "complete"
    assert of(setup.events, ev.Usage)[-1].total_cost_usd == pytest.approx(0.02)


async def test_profiles_without_an_active_one_mean_the_default_login(tmp_path):
    spec_dir = tmp_path / "project" / ".auto-claude" / "specs" / "001-x"
    write_plan(spec_dir, ["1.1"])
    sessions = ScriptedSessions(spec_dir / "implementation_plan.json")
    profiles = ProfileStore.in_memory([Profile(name="a", token_env="TOKEN_A")])
    events: list[ev.Event] = []

    async def sink(event: ev.Event) -> None:
        events.append(event)

    config = LoopConfig(project_dir=tmp_path / "project", spec_dir=spec_dir, sandbox=SandboxCheck())
    loop = CoderLoop(
        config, profiles, sink, clock=VirtualClock(), environ={}, session_factory=sessions
    )
    assert await loop.run() == 0
    env = sessions.specs[0].env
    assert "CLAUDE_CONFIG_DIR" not in env and "CLAUDE_CODE_OAUTH_TOKEN" not in env
    assert of(events, ev.SessionStarted)[0].profile == "default"


async def test_pause_waits_for_the_session_boundary_and_resume_goes_on(setup):
    loop, sessions = setup()
    sessions.gate = asyncio.Event()
    task = asyncio.create_task(loop.run())
    while not sessions.specs:
        await asyncio.sleep(0)
    loop.pause()
    await asyncio.sleep(0)
    assert loop.pause_requested and not loop.paused
    assert of(setup.events, ev.Pausing)
    sessions.gate.set()
    while not loop.paused:
        await asyncio.sleep(0)
    assert len(sessions.specs) == 1  # no new session while paused
    loop.resume()
    assert await task == 0
    assert [type(e).__name__ for e in setup.events if isinstance(e, ev.Paused | ev.Resumed)] == [
        "Paused",
        "Resumed",
    ]


async def test_a_pause_file_pauses_and_resume_removes_it(setup):
    (setup.spec_dir / "PAUSE").write_text("stop please\n")
    loop, sessions = setup()
    task = asyncio.create_task(loop.run())
    while not loop.paused:
        await asyncio.sleep(0)
    assert of(setup.events, ev.Paused)[0].reason == "PAUSE file"
    assert not sessions.specs
    loop.resume()
    assert await task == 0
    assert not (setup.spec_dir / "PAUSE").exists()


def concurrency_error_first(spec: SessionSpec, n: int) -> SessionOutcome:
    if n == 1:
        return SessionOutcome(outcome="error", error_kind=ErrorKind.TOOL_CONCURRENCY)
    mark_completed(
        Path(spec.cwd) / ".auto-claude" / "specs" / "001-x" / "implementation_plan.json",
        spec.subtask_id,
    )
    return SessionOutcome(outcome="success")


async def test_retry_now_cuts_a_backoff_short(setup):
    loop, _sessions = setup(concurrency_error_first, pause_between_s=0)
    loop.clock.auto_advance = False
    task = asyncio.create_task(loop.run())
    while not of(setup.events, ev.BackoffStarted):
        await asyncio.sleep(0)
    backoff = of(setup.events, ev.BackoffStarted)[0]
    assert backoff.deadline == loop.clock.now() + 2.0
    loop.retry_now()
    assert await task == 0
    assert of(setup.events, ev.BackoffEnded)[0].reason == "retry_now"


async def test_pause_during_backoff_freezes_the_remaining_wait(setup):
    loop, _sessions = setup(concurrency_error_first, pause_between_s=0)
    clock = loop.clock
    clock.auto_advance = False
    task = asyncio.create_task(loop.run())
    while not of(setup.events, ev.BackoffStarted):
        await asyncio.sleep(0)
    clock.advance(0.5)
    loop.pause()
    while not loop.paused:
        await asyncio.sleep(0)
    clock.advance(100)  # time passing while paused does not count
    loop.resume()
    while len(of(setup.events, ev.BackoffStarted)) < 2:
        await asyncio.sleep(0)
    again = of(setup.events, ev.BackoffStarted)[1]
    assert again.deadline == pytest.approx(clock.now() + 1.5)
    while not clock.sleepers:
        await asyncio.sleep(0)
    clock.advance(1.4)
    await asyncio.sleep(0)
    assert not of(setup.events, ev.BackoffEnded)
    clock.advance(0.1)
    assert await task == 0
    assert of(setup.events, ev.BackoffEnded)[-1].reason == "elapsed"


async def test_switch_profile_applies_to_the_next_session(setup):
    loop, sessions = setup()
    sessions.gate = asyncio.Event()
    task = asyncio.create_task(loop.run())
    while not sessions.specs:
        await asyncio.sleep(0)
    loop.switch_profile("b")
    sessions.gate.set()
    assert await task == 0
    assert sessions.specs[0].env["CLAUDE_CODE_OAUTH_TOKEN"] == TOKEN
    assert sessions.specs[1].env["CLAUDE_CODE_OAUTH_TOKEN"] == TOKEN + "B"
    switched = of(setup.events, ev.ProfileSwitched)
    assert [(s.from_, s.to, s.reason) for s in switched] == [("a", "b", "user")]
    started = of(setup.events, ev.SessionStarted)
    assert [s.profile for s in started] == ["a", "b"]


async def test_rate_limit_auto_switches_to_the_next_usable_profile(setup):
    def rate_limited_on_a(spec, n):
        if spec.env.get("CLAUDE_CODE_OAUTH_TOKEN") == TOKEN:
            return SessionOutcome(outcome="error", error_kind=ErrorKind.RATE_LIMIT)
        return ScriptedSessions.complete(sessions, spec, n)

    loop, sessions = setup(rate_limited_on_a, auto_switch=True)
    assert await loop.run() == 0
    assert [s.profile for s in of(setup.events, ev.SessionStarted)] == ["a", "b", "b"]
    assert of(setup.events, ev.ProfileSwitched)[0].reason == "rate_limit"


async def test_a_rate_limit_without_auto_switch_stops_at_once_with_the_reason(setup):
    # Found in an audit: it went through the short retries of other errors first (two more
    # sessions, each rate limited again), though the CLI had already retried its 429s.
    limited = SessionOutcome(
        outcome="error", error_kind=ErrorKind.RATE_LIMIT, message="usage limit reached"
    )
    loop, sessions = setup(lambda spec, n: limited, pause_on_problem=False)
    assert await loop.run() == 3
    assert len(sessions.specs) == 1 and of(setup.events, ev.BackoffStarted) == []
    finished = of(setup.events, ev.LoopFinished)[0]
    assert finished.message == "rate limited on profile 'a': usage limit reached"


async def test_auto_switch_does_not_go_back_to_a_profile_that_failed(setup):
    # Found in review: with every account failing auth, auto-switch went a → b → a → …
    # for ever (42 sessions before the probe's cut-off), none of them counted as a try.
    denied = SessionOutcome(outcome="error", error_kind=ErrorKind.AUTH, message="Not logged in")
    loop, _ = setup(lambda spec, n: denied, auto_switch=True, pause_on_problem=False)
    assert await loop.run() == 3
    assert [s.profile for s in of(setup.events, ev.SessionStarted)] == ["a", "b"]
    finished = of(setup.events, ev.LoopFinished)[0]
    assert finished.message == (
        "auth on profile 'b' and no other profile is usable (a failed too); to fix it, run "
        "`agent-tui profiles login b`, or `agent-tui profiles login b --setup-token` and "
        "export the token as TOKEN_B"
    )


async def test_a_success_lets_auto_switch_go_back_to_a_profile_that_failed(setup):
    def a_fails_then_b_fails_after_one_success(spec, n):
        if n in (1, 3):  # a, then (after b's success on 1.1) b on 1.2
            return SessionOutcome(outcome="error", error_kind=ErrorKind.RATE_LIMIT)
        return ScriptedSessions.complete(sessions, spec, n)

    loop, sessions = setup(a_fails_then_b_fails_after_one_success, auto_switch=True)
    assert await loop.run() == 0
    assert [s.profile for s in of(setup.events, ev.SessionStarted)] == ["a", "b", "b", "a"]


async def test_stop_interrupts_the_session_and_exits_130(setup):
    loop, sessions = setup(lambda spec, n: SessionOutcome(outcome="interrupted"))
    sessions.gate = asyncio.Event()
    task = asyncio.create_task(loop.run())
    while not sessions.specs:
        await asyncio.sleep(0)
    loop.stop()
    assert await task == 130
    assert sessions.interrupted == 1
    assert of(setup.events, ev.LoopFinished)[0].outcome == "interrupted"


async def test_a_session_is_asked_to_stop_once_however_often_interrupt_is_called(setup):
    loop, sessions = setup(lambda spec, n: SessionOutcome(outcome="interrupted"))
    sessions.gate = asyncio.Event()
    sessions.gate_on_interrupt = False  # the CLI takes its time to stop
    task = asyncio.create_task(loop.run())
    while not sessions.specs:
        await asyncio.sleep(0)
    loop.interrupt()
    loop.interrupt()
    for _ in range(5):
        await asyncio.sleep(0)
    assert sessions.interrupted == 1 and loop.interrupt_requested
    sessions.gate.set()
    while not loop.paused:
        await asyncio.sleep(0)
    loop.stop()
    assert await task == 130


@pytest.mark.parametrize("interrupted_before", [0, 2])
async def test_incomplete_sessions_make_a_subtask_stuck_and_the_loop_moves_on(
    setup, interrupted_before
):
    """Three sessions that end without completing 1.1 make it stuck; sessions the user
    interrupted earlier do not count toward the three, though the tree shows every try."""
    from agent_tui.engine.progress.history import AttemptHistory

    history = AttemptHistory(setup.spec_dir)
    for session in range(1, interrupted_before + 1):
        history.record_attempt("1.1", session, "interrupted", None, "stopped by the user")

    def never_marks_1_1(spec, n):
        if spec.subtask_id == "1.1":
            return SessionOutcome(outcome="success")
        return ScriptedSessions.complete(sessions, spec, n)

    loop, sessions = setup(never_marks_1_1)
    assert await loop.run() == 3
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.1", "1.1", "1.2"]
    stuck = of(setup.events, ev.SubtaskStuck)
    assert [s.id for s in stuck] == ["1.1"] and "after 3 sessions" in stuck[0].reason
    tries = [e.attempts for e in of(setup.events, ev.SubtaskStatus) if e.id == "1.1"]
    assert max(tries) == 3 + interrupted_before


async def test_a_session_that_did_not_complete_its_subtask_says_which_try_it_was(setup):
    # Found by a user: such a session was logged in green as "session 1 success".
    from agent_tui.headless import format_text
    from agent_tui.tui.log_lines import log_line

    def never_marks_1_1(spec, n):
        if spec.subtask_id == "1.1":
            return SessionOutcome(outcome="success", cost_usd=0.5)
        return ScriptedSessions.complete(sessions, spec, n)

    loop, sessions = setup(never_marks_1_1)
    await loop.run()
    said = of(setup.events, ev.SubtaskNotCompleted)
    assert [(e.id, e.session, e.tries, e.max_tries, e.reason) for e in said] == [
        ("1.1", 1, 1, 3, ""),
        ("1.1", 2, 2, 3, ""),
        ("1.1", 3, 3, 3, ""),
    ]
    ended = of(setup.events, ev.SessionEnded)[0]
    assert ended.outcome == "success"  # as the CLI said: no error; the try is judged after
    logged = [log_line(e) for e in (ended, said[0])]
    assert [t.plain for t in logged if t] == [
        "── session 1 ended, $0.5000",
        "  ↺ 1.1 not completed (try 1/3)",
    ]
    assert "green" not in str(logged[0].style) and logged[1].style == "yellow"
    headless = [format_text(e).split(" ", 1)[1] for e in (ended, said[0])]
    assert headless == ["ended     #1, $0.5000", "try       1.1 not completed (try 1/3)"]


async def test_a_session_that_completed_its_subtask_spends_no_try(setup):
    loop, _ = setup()
    assert await loop.run() == 0
    assert of(setup.events, ev.SubtaskNotCompleted) == []


async def test_errors_that_made_one_subtask_stuck_do_not_count_against_the_next(setup):
    # Found in an audit: the count of other errors in a row was not reset when 1.1 was given
    # up, so 1.2's first error made it stuck too ("other error 4 times in a row").
    crashed = SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER, message="CLI exited 1")
    tries: dict[str, int] = {}

    def always_fails_1_1_and_fails_1_2_once(spec, n):
        tries[spec.subtask_id] = tries.get(spec.subtask_id, 0) + 1
        if spec.subtask_id == "1.1" or tries[spec.subtask_id] == 1:
            return crashed
        return ScriptedSessions.complete(sessions, spec, n)

    loop, sessions = setup(always_fails_1_1_and_fails_1_2_once)
    assert await loop.run() == 3
    assert [s.subtask_id for s in sessions.specs] == ["1.1"] * 3 + ["1.2"] * 2
    assert [s.id for s in of(setup.events, ev.SubtaskStuck)] == ["1.1"]
    statuses = [e.status for e in of(setup.events, ev.SubtaskStatus) if e.id == "1.2"]
    assert statuses[-1] == "completed"


async def test_a_stop_as_the_last_subtask_is_completed_leaves_the_run_complete(setup):
    # Found in review: a headless reader gone at the last subtask's events (or a quit then)
    # made a finished run exit 130, "stopped by the user".
    def complete_then_stop(spec, n):
        outcome = ScriptedSessions.complete(sessions, spec, n)
        if spec.subtask_id == "1.2":
            loop.stop()
        return outcome

    loop, sessions = setup(complete_then_stop)
    assert await loop.run() == 0
    assert of(setup.events, ev.LoopFinished)[0].outcome == "complete"


async def test_max_iterations_stops_short(setup):
    loop, _sessions = setup(max_iterations=1)
    assert await loop.run() == 3
    assert of(setup.events, ev.LoopFinished)[0].outcome == "max_iterations"
    assert of(setup.events, ev.LoopFinished)[0].message == (
        "stopped after 1 session (--max-iterations)"
    )


async def test_a_plan_the_agent_corrupts_is_set_aside_and_the_last_good_kept(setup):
    def corrupt(spec, n):
        (setup.spec_dir / "implementation_plan.json").write_text("{ broken")
        return SessionOutcome(outcome="success")

    loop, _sessions = setup(corrupt, max_iterations=1)
    assert await loop.run() == 3
    warning = of(setup.events, ev.PlanWarning)
    assert warning and "kept the last good plan" in warning[0].message
    kept = json.loads((setup.spec_dir / "implementation_plan.json").read_text())
    assert [s["id"] for s in kept["phases"][0]["subtasks"]] == ["1.1", "1.2"]
    assert list(setup.spec_dir.glob("implementation_plan.json.corrupt-*"))


async def test_a_stale_in_progress_subtask_is_picked_up_again(setup):
    plan_path = setup.spec_dir / "implementation_plan.json"
    plan = json.loads(plan_path.read_text())
    plan["phases"][0]["subtasks"][0]["status"] = "in_progress"
    plan_path.write_text(json.dumps(plan))
    loop, sessions = setup()
    assert await loop.run() == 0
    assert sessions.specs[0].subtask_id == "1.1"


# ------------------------------------------------------------------ the planner


def planner_then(first: Callable[[SessionSpec, int], SessionOutcome | None]) -> Behaviour:
    """Planner sessions run ``first``: ``None`` means it writes the plan and succeeds.
    Coder sessions complete their subtask."""

    def behaviour(spec: SessionSpec, n: int) -> SessionOutcome:
        plan_path = spec.cwd / ".auto-claude" / "specs" / "001-x" / "implementation_plan.json"
        if spec.kind == "planner":
            outcome = first(spec, n)
            if outcome is not None:
                return outcome
            write_plan(plan_path.parent, ["1.1"])
            return SessionOutcome(outcome="success")
        mark_completed(plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success")

    return behaviour


@pytest.fixture
def no_plan(setup):
    (setup.spec_dir / "implementation_plan.json").unlink()
    return setup


async def test_a_planner_that_is_not_logged_in_stops_at_once_with_the_reason(no_plan):
    not_logged_in = SessionOutcome(
        outcome="error", error_kind=ErrorKind.AUTH, message="Not logged in · Please run /login"
    )
    loop, sessions = no_plan(planner_then(lambda spec, n: not_logged_in), pause_on_problem=False)
    assert await loop.run() == 3
    assert len(sessions.specs) == 1  # no second session can fix a login
    finished = of(no_plan.events, ev.LoopFinished)[0]
    assert finished.outcome == "stopped"
    assert finished.message == (
        "authentication failed on profile 'a': Not logged in · Please run /login; to fix it, "
        "run `agent-tui profiles login a`, or `agent-tui profiles login a --setup-token` and "
        "export the token as TOKEN_A"
    )
    assert not any("no such plan file" in n.message for n in of(no_plan.events, ev.Notice))


async def test_a_planner_auth_error_switches_profile_when_auto_switch_is_on(no_plan):
    def on_a_only(spec, n):
        if spec.env.get("CLAUDE_CODE_OAUTH_TOKEN") == TOKEN:
            return SessionOutcome(outcome="error", error_kind=ErrorKind.AUTH, message="expired")
        return None

    loop, _ = no_plan(planner_then(on_a_only), auto_switch=True)
    assert await loop.run() == 0
    started = of(no_plan.events, ev.SessionStarted)
    assert [(s.kind, s.profile) for s in started] == [
        ("planner", "a"),
        ("planner", "b"),
        ("coder", "b"),
    ]


async def test_planner_concurrency_errors_back_off_and_do_not_use_up_its_tries(no_plan):
    def three_400s(spec, n):
        if n <= 3:
            return SessionOutcome(outcome="error", error_kind=ErrorKind.TOOL_CONCURRENCY)
        return None

    loop, _ = no_plan(planner_then(three_400s), pause_between_s=0)
    assert await loop.run() == 0
    kinds = [s.kind for s in of(no_plan.events, ev.SessionStarted)]
    assert kinds == ["planner"] * 4 + ["coder"]
    assert loop.clock.slept[:3] == [2.0, 4.0, 8.0]


async def test_interrupted_planner_sessions_are_not_tries(no_plan):
    def interrupted_then_nothing(spec, n):
        if n == 1:
            return SessionOutcome(outcome="interrupted")
        return SessionOutcome(outcome="success")  # but no plan written

    loop, sessions = no_plan(planner_then(interrupted_then_nothing))
    assert await loop.run() == 3
    assert len(sessions.specs) == 1 + 3
    finished = of(no_plan.events, ev.LoopFinished)[0]
    assert finished.message.startswith("no valid plan after 3 planner sessions: ")
    assert "no such plan file" in finished.message


async def test_a_planner_that_keeps_failing_ends_after_its_tries_with_the_error(no_plan):
    crashed = SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER, message="CLI exited 1")
    loop, sessions = no_plan(planner_then(lambda spec, n: crashed))
    assert await loop.run() == 3
    finished = of(no_plan.events, ev.LoopFinished)[0]
    assert finished.message == "no valid plan after 3 planner sessions: other: CLI exited 1"
    # Two backoffs of the retry policy, then each further failure counts as a try.
    assert len(sessions.specs) == 2 + 3


async def test_a_loop_on_a_spec_another_run_holds_ends_with_exit_2_and_runs_nothing(setup):
    from agent_tui.engine.control.runlock import RunLock

    other = RunLock(setup.spec_dir)
    other.acquire()
    plan_before = (setup.spec_dir / "implementation_plan.json").read_bytes()
    loop, sessions = setup()
    try:
        assert await loop.run() == 2
    finally:
        other.release()
    assert sessions.specs == []
    finished = of(setup.events, ev.LoopFinished)[0]
    assert finished.outcome == "error" and "is already being run" in finished.message
    assert (setup.spec_dir / "implementation_plan.json").read_bytes() == plan_before
    loop, sessions = setup()
    assert await loop.run() == 0  # once the other run has let go


async def test_the_run_says_how_it_is_contained_before_any_session(setup):
    loop, sessions = setup(sandbox=SandboxCheck(("socat not installed",)))
    assert await loop.run() == 0
    first = setup.events[0]
    assert isinstance(first, ev.ContainmentStatus)
    assert (first.sandboxed, first.missing) == (False, ("socat not installed",))
    assert all(spec.containment is loop.containment for spec in sessions.specs)
    assert not loop.containment.sandboxed


async def test_required_containment_without_a_sandbox_runs_no_session(setup):
    loop, sessions = setup(sandbox=SandboxCheck(("bwrap not installed",)))
    loop.profiles.data.settings.containment = ContainmentMode.REQUIRED
    assert await loop.run() == 2
    assert sessions.specs == []
    finished = of(setup.events, ev.LoopFinished)[0]
    assert "bwrap not installed" in finished.message and "bubblewrap socat" in finished.message


async def test_a_logs_link_planted_in_the_spec_stops_the_run(setup, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (setup.spec_dir / "logs").symlink_to(outside)
    loop, sessions = setup()
    assert await loop.run() == 2
    assert sessions.specs == [] and list(outside.iterdir()) == []
    assert "symbolic link" in of(setup.events, ev.LoopFinished)[0].message
