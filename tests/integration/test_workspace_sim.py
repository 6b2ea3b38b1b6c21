"""A run on a git repository, through the real CLI and the sim: the agent works in the
spec's worktree, agent-tui commits each completed subtask and rolls back a failed try, and
the user's branch, index and working tree are never touched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import workspace as wev
from agent_tui.workspace.location import branch_name, spec_qualifier
from tests.integration.git_repo import branch_log, git, snapshot
from tests.integration.helpers import coder_steps, plan_doc, script

pytestmark = pytest.mark.integration

BRANCH = "agent-tui/001-test"


@pytest.fixture
def git_run(make_run, tmp_path):
    """``make_run`` on a project that is a git repository with one commit; its worktree
    goes under the test's data dir (``AGENT_TUI_DATA_DIR``), as a command's would."""

    def build(plan, scripts, *, tracked_spec: bool = False, **config):
        run = make_run(plan, scripts, **config)
        project = run.project
        (project / "app.py").write_text("print('hello')\n")
        if not tracked_spec:
            (project / ".gitignore").write_text(".auto-claude/\n")
        git(project, "init", "--quiet", "--initial-branch=main")
        git(project, "add", "--all")
        git(project, "commit", "--quiet", "-m", "start")
        return run

    return build


def worktree_of(run) -> wev.WorkspaceStatus:
    [status] = run.of(wev.WorkspaceStatus)
    return status


def worktrees(tmp_path: Path) -> Path:
    return tmp_path / "agent-tui-data" / "worktrees"


def junk_session(name: str = "junk.txt") -> list[dict]:
    """A session that writes a file and stops without completing its subtask."""
    return [
        {"tools": [{"name": "Write", "input": {"file_path": "{project}/" + name, "content": "x"}}]},
        {"text": "I could not finish."},
    ]


async def test_a_run_commits_each_subtask_and_leaves_the_users_checkout_byte_identical(git_run):
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")]), script("1.2", [coder_steps("1.2")])])
    before = snapshot(run.project)
    await run.go()
    assert run.exit_code == 0
    assert snapshot(run.project) == before
    assert not (run.project / "out_1_1.txt").exists()
    status = worktree_of(run)
    assert status.mode == "worktree" and status.branch == BRANCH and status.base == "main"
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 1.2: make 1.2"]
    files = git(run.project, "show", "--name-only", "--format=", f"{BRANCH}~1").split()
    assert files == ["out_1_1.txt"]
    body = git(run.project, "log", "-1", "--format=%B", f"{BRANCH}~1")
    assert "Sessions: 1\nProfile: test\nCost: $" in body and "Agent-Tui-Subtask: 1.1" in body
    assert run.statuses() == {"1.1": "completed", "1.2": "completed"}  # the user's copy
    assert [e.id for e in run.of(wev.SubtaskCommitted)] == ["1.1", "1.2"]
    assert run.plan["x_custom"] == {"kept": True}
    prompts = [r.prompt for r in run.sim.requests if r.turn == 0]
    assert len(prompts) == 2 and all("own git worktree" in p for p in prompts)
    assert not any("Other sessions work" in p for p in prompts)  # one lane: none beside it


async def test_a_failed_try_is_rolled_back_its_diff_kept_and_recorded(git_run):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(plan, [script("1.1", [junk_session(), coder_steps("1.1")])])
    await run.go()
    assert run.exit_code == 0
    [rolled] = run.of(wev.TryRolledBack)
    assert (rolled.subtask_id, rolled.session, rolled.diff) == (
        "1.1",
        1,
        "logs/session-001.rollback.diff",
    )
    patch = (run.spec_dir / rolled.diff).read_text()
    assert "+++ b/junk.txt" in patch
    files = git(run.project, "show", "--name-only", "--format=", BRANCH).split()
    assert files == ["out_1_1.txt"]  # the failed try's file is in no commit
    history = json.loads((run.spec_dir / "memory" / "attempt_history.json").read_text())
    entry = history["subtasks"]["1.1"]
    assert [a["outcome"] for a in entry["attempts"]] == ["incomplete", "success"]
    assert entry["rollbacks"][0]["diff"] == "logs/session-001.rollback.diff"
    assert entry["rollbacks"][0]["to"] == git(run.project, "rev-parse", "main").strip()


async def test_with_rollback_off_the_next_try_starts_from_what_the_last_one_left(git_run):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(
        plan,
        [script("1.1", [junk_session(), coder_steps("1.1")])],
        rollback_failed_tries=False,
    )
    await run.go()
    assert run.exit_code == 0 and run.of(wev.TryRolledBack) == []
    files = git(run.project, "show", "--name-only", "--format=", BRANCH).split()
    assert sorted(files) == ["junk.txt", "out_1_1.txt"]


async def test_a_token_in_the_work_stops_the_run_before_its_commit(git_run, tmp_path):
    token = "sk-ant-api03-ThisLooksLikeARealKeyOfSomeone0123456789"
    leaky = [
        {
            "tools": [
                {
                    "name": "Write",
                    "input": {"file_path": "{project}/config.py", "content": f"KEY = '{token}'\n"},
                }
            ]
        },
        *coder_steps("1.1")[1:],
    ]
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    run = git_run(plan, [script("1.1", [leaky]), script("1.2", [coder_steps("1.2")])])
    await run.go()
    assert run.exit_code == 3
    [finished] = run.of(ev.LoopFinished)
    assert "subtask 1.1 is not committed: config.py line 1 holds a token-looking" in (
        finished.message
    )
    assert token[16:] not in json.dumps([e.to_dict() for e in run.events])
    assert branch_log(run.project, BRANCH) == []  # nothing committed
    [config] = list(worktrees(tmp_path).rglob("config.py"))
    config.write_text("import os\nKEY = os.environ['KEY']\n")  # the user fixes it
    run.events.clear()
    await run.go()  # the same command again: the commit first, then the next subtask
    assert run.exit_code == 0
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 1.2: make 1.2"]


async def test_the_agent_edits_its_spec_copy_and_the_users_edits_meanwhile_are_kept(git_run):
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")]), script("1.2", [coder_steps("1.2")])])

    def user_edits(events):  # while session 1 runs: a field of the user's own
        if isinstance(events[-1], ev.ToolUse) and events[-1].name == "Write":
            data = json.loads((run.spec_dir / "implementation_plan.json").read_text())
            data["x_note"] = "added by the user mid-run"
            (run.spec_dir / "implementation_plan.json").write_text(json.dumps(data, indent=2))

    run.on_event = user_edits
    await run.go()
    assert run.exit_code == 0
    assert run.plan["x_note"] == "added by the user mid-run"
    assert run.statuses() == {"1.1": "completed", "1.2": "completed"}
    copy = Path(worktree_of(run).path) / ".auto-claude" / "specs" / "001-test"
    pushed = json.loads((copy / "implementation_plan.json").read_text())
    assert pushed["x_note"] == "added by the user mid-run"  # before session 2


async def test_in_place_in_a_git_repository_works_on_the_users_checkout(git_run):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")])], in_place=True)
    await run.go()
    assert run.exit_code == 0
    assert (run.project / "out_1_1.txt").exists()
    assert worktree_of(run).mode == "in_place" and worktree_of(run).reason == "--in-place"
    assert git(run.project, "branch", "--list", "agent-tui/*") == ""


async def test_a_project_that_is_no_repository_runs_in_place_with_a_notice(make_run):
    plan = plan_doc([("1", [], ["1.1"])])
    run = make_run(plan, [script("1.1", [coder_steps("1.1")])])
    await run.go()
    assert run.exit_code == 0 and (run.project / "out_1_1.txt").exists()
    status = worktree_of(run)
    assert status.mode == "in_place" and status.reason == "not a git repository"
    assert "no branch, no commits, no rollback" in status.summary()


def agent_tui(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


async def test_after_a_run_merge_brings_the_work_in_with_history_and_cleans_up(git_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")]), script("1.2", [coder_steps("1.2")])])
    await run.go()
    diff = agent_tui("diff", "--project", str(run.project), "--subtask", "1.2")
    assert diff.returncode == 0, diff.stderr
    assert "+++ b/out_1_2.txt" in diff.stdout and "out_1_1" not in diff.stdout
    done = agent_tui("merge", "--project", str(run.project))
    assert done.returncode == 0, done.stderr
    assert "merged agent-tui/001-test (2 commits, with its history) into main" in done.stdout
    assert (run.project / "out_1_1.txt").read_text() == "1.1\n"
    assert len(git(run.project, "log", "-1", "--format=%P").split()) == 2
    assert git(run.project, "branch", "--list", "agent-tui/*") == ""
    assert not any(worktrees(tmp_path).rglob(".git"))


async def test_merge_of_a_dirty_tree_is_refused_and_a_conflict_aborted(git_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")])])
    await run.go()
    (run.project / "app.py").write_text("print('my own edit')\n")
    before = snapshot(run.project)
    dirty = agent_tui("merge", "--project", str(run.project))
    assert dirty.returncode == 2 and dirty.stdout == ""
    assert dirty.stderr.count("\n") == 1 and "uncommitted changes (app.py)" in dirty.stderr
    assert snapshot(run.project) == before
    (run.project / "out_1_1.txt").write_text("the user's own file\n")
    git(run.project, "add", "--all")
    git(run.project, "commit", "--quiet", "-m", "mine")
    before = snapshot(run.project, index_bytes=False)
    conflict = agent_tui("merge", "--project", str(run.project))
    assert conflict.returncode == 3 and "conflicts in out_1_1.txt: aborted" in conflict.stderr
    assert snapshot(run.project, index_bytes=False) == before
    assert git(run.project, "branch", "--list", BRANCH).strip()  # kept for another try


async def test_discard_asks_and_with_yes_removes_branch_and_worktree(git_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")])])
    await run.go()
    asked = subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", "discard", "--project", str(run.project)],
        input="n\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert asked.returncode == 2 and "--yes" in asked.stderr
    assert git(run.project, "branch", "--list", BRANCH).strip()
    from io import StringIO

    from agent_tui.cli.commands import build_parser
    from agent_tui.cli.workspace import run_workspace

    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    out, err = StringIO(), StringIO()
    args = build_parser().parse_args(["discard", "--project", str(run.project)])
    assert run_workspace(args, out, err, ask=ctrl_c) == 130  # ctrl+c at the question
    assert err.getvalue() == "\nagent-tui: nothing discarded\n"  # past the ^C, on its line
    assert git(run.project, "branch", "--list", BRANCH).strip()
    done = agent_tui("discard", "--project", str(run.project), "--yes")
    assert done.returncode == 0, done.stderr
    assert git(run.project, "branch", "--list", "agent-tui/*") == ""


async def test_a_tracked_spec_dir_does_not_block_the_merge(git_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")])], tracked_spec=True)
    await run.go()
    assert run.exit_code == 0
    assert "implementation_plan.json" in git(run.project, "status", "--porcelain")
    done = agent_tui("merge", "--project", str(run.project))
    assert done.returncode == 0, done.stderr
    assert (run.project / "out_1_1.txt").exists()
    assert run.statuses() == {"1.1": "completed"}  # the user's plan, as the run left it


async def test_a_project_below_the_repository_root_works_in_its_place_in_the_worktree(
    make_run, tmp_path
):
    plan = plan_doc([("1", [], ["1.1"])])
    run = make_run(plan, [script("1.1", [coder_steps("1.1")])])
    (tmp_path / ".gitignore").write_text("/*\n!/project\n!/.gitignore\n.auto-claude/\n")
    (run.project / "app.py").write_text("print('hello')\n")
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "start")
    await run.go()
    assert run.exit_code == 0
    status = worktree_of(run)
    assert Path(status.path).name == "project" and Path(status.path).parent.name == "001-test"
    qualifier = spec_qualifier(tmp_path.resolve(), run.spec_dir.resolve())
    branch = branch_name("001-test", qualifier)
    assert branch.startswith("agent-tui/project-")  # its own, not a root spec's 001-test
    files = git(tmp_path, "show", "--name-only", "--format=", branch).split()
    assert files == ["project/out_1_1.txt"]


async def test_the_planner_writes_the_plan_in_the_worktree_and_it_comes_back(git_run):
    plan = plan_doc([("1", [], ["1.1"])])
    planner = [
        {
            "tools": [
                {"name": "Write", "input": {"file_path": "{plan}", "content": json.dumps(plan)}}
            ]
        },
        {"text": "Plan written."},
    ]
    scripts = [
        {"match": "Role: planner", "sessions": [planner]},
        script("1.1", [coder_steps("1.1")]),
    ]
    run = git_run(None, scripts)
    await run.go()
    assert run.exit_code == 0
    assert [s.kind for s in run.of(ev.SessionStarted)] == ["planner", "coder"]
    assert run.statuses() == {"1.1": "completed"}  # written in the worktree, now the user's
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1"]


async def test_a_project_in_no_commit_is_refused_before_any_session(make_run, tmp_path):
    plan = plan_doc([("1", [], ["1.1"])])
    run = make_run(plan, [script("1.1", [coder_steps("1.1")])])
    (tmp_path / "tracked.txt").write_text("the repository holds only this\n")
    (tmp_path / ".gitignore").write_text("/*\n!/tracked.txt\n!/.gitignore\n")
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "start")
    await run.go()
    assert run.exit_code == 2 and run.of(ev.SessionStarted) == []
    [finished] = run.of(ev.LoopFinished)
    assert "is in no commit of the repository" in finished.message


async def test_changes_the_user_has_not_committed_are_named_as_left_out(git_run):
    plan = plan_doc([("1", [], ["1.1"])])
    run = git_run(plan, [script("1.1", [coder_steps("1.1")])])
    (run.project / "app.py").write_text("print('not committed')\n")
    await run.go()
    assert run.exit_code == 0
    notices = [n.message for n in run.of(ev.Notice)]
    assert any("1 file changed in your checkout and not committed" in n for n in notices)
    assert (run.project / "app.py").read_text() == "print('not committed')\n"


@pytest.mark.parametrize("where", ["in place", "worktree"])
async def test_a_session_that_rewrites_its_check_is_checked_by_the_old_one(
    make_run, git_run, where
):
    # The plan is written only through the Write and Edit tools (Bash sees it read-only):
    # the agent writes it whole, its check made to pass and its subtask claimed. In place it
    # is the user's plan, put back after the session; in a worktree, its copy's checks
    # never come back.
    check = {"type": "command", "command": "cat out_1_1.txt", "expected": "1.1"}
    plan = plan_doc([("1", [], ["1.1"])])
    plan["phases"][0]["subtasks"][0]["verification"] = check
    weakened = json.loads(json.dumps(plan))
    weakened["phases"][0]["subtasks"][0]["verification"] = {**check, "command": "echo 1.1"}
    weakened["phases"][0]["subtasks"][0]["status"] = "completed"
    write = {"file_path": "{plan}", "content": json.dumps(weakened, indent=2)}
    weaken = [
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Write", "input": write}]},
        {"text": "1.1 is complete."},
    ]
    build = make_run if where == "in place" else git_run
    run = build(plan, [script("1.1", [weaken, coder_steps("1.1")])])
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    assert worktree_of(run).mode == ("in_place" if where == "in place" else "worktree")
    written = run.of(ev.ToolResult)[1]
    assert written.session == 1 and not written.is_error, written
    from agent_tui.engine.events import trust as tev

    ended = run.of(tev.VerificationEnded)
    assert [e.reason for e in ended][:2] == [
        "`cat out_1_1.txt` exited 1 (expected 0)",
        "`cat out_1_1.txt` exited 0 and showed '1.1'",
    ]
    notices = " ".join(e.message for e in run.of(ev.Notice))
    said = (
        "subtask 1.1's check changed during session 1: put back as it was"
        if where == "in place"
        else "the agent changed or removed the check of 1.1 in its copy of the plan"
    )
    assert said in notices, notices
    kept = json.loads((run.spec_dir / "implementation_plan.json").read_text())
    assert kept["phases"][0]["subtasks"][0]["verification"] == check
