"""A run on a git repository killed with kill -9, or a worktree a crash left broken: the
same command goes on in the same worktree, and nothing of the user's is touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.git_repo import branch_log, git, make_repo, snapshot
from tests.integration.helpers import coder_steps, plan_doc, script

BRANCH = "agent-tui/001-resume"


def start(project, sim, tmp_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(
        {
            "ANTHROPIC_BASE_URL": sim.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-resume-test",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(tmp_path / "home"),
            "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    argv = [sys.executable, "-m", "agent_tui.cli", "run", "--project", str(project)]
    argv += ["--headless", "--events", "jsonl", "--model", "claude-sonnet-4-5"]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def setting(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    return make_repo(tmp_path / "project", {"app.py": "print(1)\n"}, plan=plan, spec="001-resume")


def half_done_then_hang(subtask_id: str) -> list[dict]:
    name = "half_" + subtask_id.replace(".", "_") + ".txt"
    return [
        {"tools": [{"name": "Write", "input": {"file_path": "{project}/" + name, "content": "½"}}]},
        {"fault": "hang"},
    ]


def events_of(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_kill_9_mid_session_then_the_same_command_resumes_in_the_same_worktree(tmp_path):
    project, spec_dir = setting(tmp_path)
    before = snapshot(project)
    scripts = [
        script("1.1", [half_done_then_hang("1.1"), coder_steps("1.1")]),
        script("1.2", [coder_steps("1.2")]),
    ]
    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:
        first = start(project, sim, tmp_path)
        worktree = None
        for line in first.stdout:
            event = json.loads(line)
            if event["type"] == "workspace":
                worktree = event["path"]
            if event["type"] == "tool_result":  # the file is written; the next reply hangs
                break
        first.kill()
        first.wait(timeout=30)
        assert first.returncode == -9 and worktree is not None
        assert os.path.exists(os.path.join(worktree, "half_1_1.txt"))

        second = start(project, sim, tmp_path)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
    events = events_of(out)
    [status] = [e for e in events if e["type"] == "workspace"]
    assert status["path"] == worktree
    [rolled] = [e for e in events if e["type"] == "rolled_back"]
    assert (
        rolled["session"] == 1 and "+++ b/half_1_1.txt" in (spec_dir / rolled["diff"]).read_text()
    )
    assert branch_log(project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 1.2: make 1.2"]
    assert not os.path.exists(os.path.join(worktree, "half_1_1.txt"))
    assert snapshot(project) == before


def test_a_worktree_a_crash_left_broken_is_repaired_and_the_run_goes_on(tmp_path):
    project, _ = setting(tmp_path)
    scripts = [script("1.1", [coder_steps("1.1")]), script("1.2", [coder_steps("1.2")])]
    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:
        first = start(project, sim, tmp_path)
        worktree = None
        for line in first.stdout:
            event = json.loads(line)
            if event["type"] == "workspace":
                worktree = event["path"]
            if event["type"] == "subtask_committed":
                break
        first.kill()
        first.wait(timeout=30)
        assert worktree is not None
        shutil.rmtree(worktree)  # the directory gone, its registration left behind
        os.makedirs(worktree)  # and a half-made one in its place
        with open(os.path.join(worktree, "stray.txt"), "w") as handle:
            handle.write("left by a crash\n")

        second = start(project, sim, tmp_path)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
    events = events_of(out)
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert any(n.startswith("workspace: ") and "was broken" in n for n in notices), notices
    assert branch_log(project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 1.2: make 1.2"]
    aside = [p for p in os.listdir(os.path.dirname(worktree)) if ".stale-" in p]
    assert len(aside) == 1  # the stray file is kept, not deleted
    assert git(project, "worktree", "list").count(BRANCH) == 1


def test_a_repository_without_a_commit_is_refused_in_one_line(tmp_path):
    project = tmp_path / "fresh"
    spec = project / ".auto-claude" / "specs" / "001-x"
    spec.mkdir(parents=True)
    (spec / "spec.md").write_text("# x\n")
    git(project, "init", "--quiet")
    done = subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", "run", "--project", str(project), "--headless"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "has no commit yet" in done.stderr
    assert "--in-place" in done.stderr and "Traceback" not in done.stderr
