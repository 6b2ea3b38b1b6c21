"""A subtask's completion is agent-tui's word, and its work is kept: a passed check commits
however the session ended, a restart takes the user's plan over the worktree's stale copy,
and a session completes no subtask but its own."""

from __future__ import annotations

import json

import pytest

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.checks.verify import CommandRun
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.failures.retry import RetryPolicy
from agent_tui.engine.progress.checkpoints import WorkspaceFailed
from tests.integration.git_repo import git
from tests.unit.loop_harness import make_setup, mark_completed, of

CHECK = {"type": "command", "command": "pytest -q", "expected": "All tests pass"}
DONE = SessionOutcome(outcome="success", cost_usd=0.01, input_tokens=10, output_tokens=5)


class Checks:
    """Every check's command exits with ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.calls: list[str] = []

    async def run(self, command, cwd, timeout_s) -> CommandRun:
        self.calls.append(command)
        return CommandRun(exit_status=self.status, output="" if self.status == 0 else "1 failed")


@pytest.fixture
def setup(tmp_path):
    build = make_setup(tmp_path)
    plan_path = build.spec_dir / "implementation_plan.json"
    plan = json.loads(plan_path.read_text())
    for subtask in plan["phases"][0]["subtasks"]:
        subtask["verification"] = CHECK
    plan_path.write_text(json.dumps(plan, indent=2))
    build.plan_path = plan_path
    build.project = tmp_path / "project"
    build.worktrees = tmp_path / "worktrees"
    return build


def init_repo(build) -> None:
    (build.project / ".gitignore").write_text(".auto-claude/\n")
    (build.project / "app.py").write_text("x\n")
    git(build.project, "init", "--quiet", "--initial-branch=main")
    git(build.project, "add", "--all")
    git(build.project, "commit", "--quiet", "-m", "start")


@pytest.fixture
def repo(setup):
    init_repo(setup)
    return setup


def in_worktree(build, behaviour, checks, *, worktree: bool = True, **config):
    """A run in the spec's worktree (or in place); ``behaviour(loop, spec, n)`` is each
    session."""
    holder = {}
    if worktree:
        config.update(workspace=None, worktrees_dir=build.worktrees)
    loop, sessions = build(
        lambda spec, n: behaviour(holder["loop"], spec, n),
        clock=VirtualClock(),
        check_runner=checks,
        pause_on_problem=False,
        **config,
    )
    holder["loop"] = loop
    return loop, sessions


def statuses(plan_path) -> dict[str, str]:
    plan = json.loads(plan_path.read_text())
    return {s["id"]: s["status"] for s in plan["phases"][0]["subtasks"]}


def commits(build) -> list[str]:
    return git(build.project, "log", "--format=%s", "agent-tui/001-x").splitlines()


def diffs(build) -> list[str]:
    return sorted(p.name for p in (build.spec_dir / "logs").glob("*.diff"))


def works_and_claims(loop, spec, n) -> None:
    checkpoints = loop.checkpoints
    (checkpoints.project_dir / f"work_{spec.subtask_id}.txt").write_text("done\n")
    mark_completed(checkpoints.plan_path, spec.subtask_id)


def works_and_claims_done(loop, spec, n) -> SessionOutcome:
    works_and_claims(loop, spec, n)
    return DONE


# ------------------------------------------------ a passed check commits, however it ended


@pytest.mark.parametrize(
    "ending",
    [
        SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER, message="boom"),
        SessionOutcome(outcome="error", error_kind=ErrorKind.RATE_LIMIT, message="limit"),
        SessionOutcome(outcome="interrupted", input_tokens=5),
    ],
    ids=["error", "rate limit", "interrupted"],
)
async def test_a_subtask_whose_check_passed_is_committed_however_its_session_ended(repo, ending):
    def behaviour(loop, spec, n):
        works_and_claims(loop, spec, n)
        return ending if n == 1 else DONE

    loop, sessions = in_worktree(repo, behaviour, Checks(0), auto_switch=True)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert commits(repo) == ["subtask 1.2: 1.2", "subtask 1.1: 1.1", "start"]
    assert diffs(repo) == []  # nothing of 1.1's was rolled back
    assert not of(repo.events, wev.TryRolledBack)
    assert statuses(repo.plan_path) == {"1.1": "completed", "1.2": "completed"}
    assert loop.history.pending_commit() is None


async def test_an_error_after_a_completion_never_makes_the_subtask_stuck(repo):
    """Errors in a row up to the give-up: the one that completed its subtask stays so."""

    def behaviour(loop, spec, n):
        works_and_claims(loop, spec, n)
        return SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER, message="boom")

    give_up_at_once = RetryPolicy(max_other_retries=1)
    loop, _ = in_worktree(repo, behaviour, Checks(0), retry_policy=give_up_at_once)
    assert await loop.run() == 0
    assert loop.history.stuck_ids() == set()
    assert statuses(repo.plan_path) == {"1.1": "completed", "1.2": "completed"}
    assert commits(repo) == ["subtask 1.2: 1.2", "subtask 1.1: 1.1", "start"]


async def test_a_history_that_cannot_be_written_after_a_passed_check_loses_no_work(
    repo, monkeypatch
):
    loop, _ = in_worktree(repo, works_and_claims_done, Checks(0), max_iterations=1)

    def cannot(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loop.history, "record_attempt", cannot)
    assert await loop.run() == 3
    assert statuses(repo.plan_path)["1.1"] == "completed"
    assert loop.history.pending_commit() == "1.1"  # recorded before the plan said completed

    again, sessions = in_worktree(repo, works_and_claims_done, Checks(0))
    assert await again.run() == 0
    assert commits(repo) == ["subtask 1.2: 1.2", "subtask 1.1: 1.1", "start"]
    assert [s.subtask_id for s in sessions.specs] == ["1.2"]
    assert diffs(repo) == []


async def test_no_rollback_undoes_the_work_of_a_subtask_whose_commit_is_pending(repo):
    loop, _ = in_worktree(repo, lambda lp, spec, n: DONE, Checks(0))
    await loop.checkpoints.open()
    (loop.checkpoints.project_dir / "work_1.1.txt").write_text("done\n")
    loop.history.set_pending_commit("1.1")
    with pytest.raises(WorkspaceFailed, match=r"subtask 1\.1's work, not committed yet"):
        await loop.checkpoints.roll_back("1.1", 1)
    assert (loop.checkpoints.project_dir / "work_1.1.txt").read_text() == "done\n"


# --------------------------------------------------- a restart: the user's plan is the truth


async def test_a_restart_does_not_take_a_refuted_claim_from_the_worktrees_plan(repo):
    checks = Checks(1)
    loop, _ = in_worktree(repo, works_and_claims_done, checks, max_iterations=1)
    assert await loop.run() == 3
    assert statuses(repo.plan_path)["1.1"] == "pending"  # its check failed

    again, sessions = in_worktree(repo, works_and_claims_done, checks, max_iterations=1)
    await again.run()
    assert [s.subtask_id for s in sessions.specs] == ["1.1"]  # 1.1 again, not 1.2
    assert len(checks.calls) == 2
    assert statuses(repo.plan_path) == {"1.1": "pending", "1.2": "pending"}


async def test_a_claim_left_by_a_quit_session_is_checked_and_its_work_rolled_back(repo):
    def quits(loop, spec, n):
        works_and_claims(loop, spec, n)
        loop.stop("quit")
        return SessionOutcome(outcome="interrupted", input_tokens=5)

    checks = Checks(0)
    loop, _ = in_worktree(repo, quits, checks)
    assert await loop.run() == 130
    assert checks.calls == []  # stopped: nothing was checked
    assert statuses(repo.plan_path)["1.1"] == "pending"

    again, sessions = in_worktree(repo, works_and_claims_done, checks)
    assert await again.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert len(checks.calls) == 4  # one after each session, and each once more at the end
    assert [e.subtask_id for e in of(repo.events, wev.TryRolledBack)] == ["1.1"]
    assert len(diffs(repo)) == 1  # what the quit session left, kept as a diff
    assert commits(repo) == ["subtask 1.2: 1.2", "subtask 1.1: 1.1", "start"]


# --------------------------------------------------- a session completes only its own subtask


def claims_both(loop, spec, n) -> SessionOutcome:
    """The session for 1.1 says 1.2 is done too."""
    works_and_claims(loop, spec, n)
    if spec.subtask_id == "1.1":
        mark_completed(loop.checkpoints.plan_path, "1.2")
    return DONE


@pytest.mark.parametrize("worktree", [False, True], ids=["in place", "worktree"])
async def test_a_completion_the_session_claims_for_another_subtask_is_put_back(setup, worktree):
    if worktree:
        init_repo(setup)
    checks = Checks(1)
    loop, sessions = in_worktree(setup, claims_both, checks, worktree=worktree, max_iterations=1)
    assert await loop.run() == 3
    assert [s.subtask_id for s in sessions.specs] == ["1.1"] and len(checks.calls) == 1
    assert statuses(setup.plan_path) == {"1.1": "pending", "1.2": "pending"}
    said = [e.message for e in of(setup.events, ev.Notice)]
    assert (
        "1.2 was marked completed while the session for 1.1 ran; only its own session's "
        "check completes it, so it stays to be worked on"
    ) in said
    shown = [(e.id, e.status) for e in of(setup.events, ev.SubtaskStatus)]
    assert ("1.2", "completed") not in shown


async def test_the_other_subtask_gets_its_own_session_and_check(setup):
    checks = Checks(0)
    loop, sessions = in_worktree(setup, claims_both, checks, worktree=False)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert len(checks.calls) == 4  # one after each session, and each once more at the end
    assert statuses(setup.plan_path) == {"1.1": "completed", "1.2": "completed"}


async def test_a_subtask_the_user_completes_between_sessions_stays_completed(setup):
    mark_completed(setup.plan_path, "1.2")  # by hand, before the run
    loop, sessions = in_worktree(setup, works_and_claims_done, Checks(0), worktree=False)
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1"]
    assert not [e for e in of(setup.events, ev.Notice) if "marked completed by" in e.message]


def left_by_a_killed_session(build, number: int, subtask_id: str) -> None:
    """What a session killed mid-way leaves: its transcript's prompt, and its claim."""
    logs = build.spec_dir / "logs"
    logs.mkdir(exist_ok=True)
    prompt = {"type": "prompt", "data": {"kind": "coder", "subtask_id": subtask_id, "text": ""}}
    (logs / f"session-{number:03d}.jsonl").write_text(json.dumps(prompt) + "\n")
    mark_completed(build.plan_path, subtask_id)


async def test_a_claim_whose_session_never_ended_is_worked_on_and_checked_again(setup):
    left_by_a_killed_session(setup, 1, "1.1")
    checks = Checks(0)
    loop, sessions = setup(check_runner=checks)  # each session completes its subtask
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert len(checks.calls) == 4  # one after each session, and each once more at the end
    [notice] = [e for e in of(setup.events, ev.Notice) if "ended before" in e.message]
    assert notice.message.startswith("session 1 ended before 1.1's check")


async def test_a_claim_its_check_decided_before_the_run_ended_is_kept(setup):
    from agent_tui.engine.progress.history import AttemptHistory

    left_by_a_killed_session(setup, 1, "1.1")
    AttemptHistory(setup.spec_dir).record_attempt("1.1", 1, "success", None, "")
    loop, sessions = setup(check_runner=Checks(0))
    assert await loop.run() == 0
    assert [s.subtask_id for s in sessions.specs] == ["1.2"]


async def test_a_run_that_ends_inside_a_session_leaves_its_claim_pending(setup):
    from agent_tui.engine.control.result import RunOutcome, end

    def reports(spec, n):
        mark_completed(setup.plan_path, spec.subtask_id)
        yield ev.ToolResult(session=n, tool_use_id="t", is_error=False, summary="Edit plan")
        end(RunOutcome.STOPPED, "the run had to stop", 3)

    checks = Checks(0)
    loop, sessions = setup(check_runner=checks)
    sessions.reports = reports
    assert await loop.run() == 3
    assert checks.calls == []  # its check never ran: the claim is not taken
    assert statuses(setup.plan_path)["1.1"] == "pending"


def tree_state(events) -> dict[str, str]:
    """Each subtask's status as the tree would show it after ``events``."""
    shown: dict[str, str] = {}
    for event in events:
        if isinstance(event, ev.PlanLoaded):
            shown = {s.id: s.status for p in event.phases for s in p.subtasks}
        elif isinstance(event, ev.SubtaskStatus):
            shown[event.id] = event.status
    return shown


async def test_a_claim_put_back_with_a_reworded_plan_is_not_left_completed_in_the_tree(setup):
    def claims_and_rewords(loop, spec, n):
        works_and_claims(loop, spec, n)
        path = loop.checkpoints.plan_path
        plan = json.loads(path.read_text())
        other = plan["phases"][0]["subtasks"][1]
        other["status"], other["description"] = "completed", "1.2 reworded"
        path.write_text(json.dumps(plan, indent=2))
        return DONE

    loop, _ = in_worktree(setup, claims_and_rewords, Checks(1), worktree=False, max_iterations=1)
    await loop.run()
    assert statuses(setup.plan_path)["1.2"] == "pending"
    assert tree_state(setup.events) == statuses(setup.plan_path)
