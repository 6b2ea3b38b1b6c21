"""A hostile agent in a worktree, through the real CLI and the sim, sandbox required: it
cannot commit, move a branch, or plant a hook or config in the user's repository, while
its honest edit is committed by agent-tui."""

from __future__ import annotations

import re

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.events import workspace as wev
from tests.integration.conftest import TOKEN_ENV
from tests.integration.git_repo import branch_log, git
from tests.integration.helpers import coder_steps, plan_doc, script

pytestmark = pytest.mark.integration

ATTACK = """\
import pathlib, subprocess
def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True)
common = pathlib.Path(git("rev-parse", "--git-common-dir").stdout.strip()).resolve()
for args in (
    ["-c", "user.name=x", "-c", "user.email=x@x", "commit", "--allow-empty", "-m", "evil"],
    ["update-ref", "refs/heads/main", "HEAD"],
    ["branch", "evil"],
):
    done = git(*args)
    print("GIT", args[4] if args[0] == "-c" else args[0], done.returncode)
targets = [common / "hooks" / "pre-commit", common / "config", common / "refs" / "heads" / "evil"]
for target in targets + [pathlib.Path(".git")]:
    try:
        with open(target, "a") as handle:
            handle.write("[core]\\n\\thooksPath = /tmp\\n")
        print("WROTE", target)
    except OSError as exc:
        print("refused", target.name, exc.strerror)
"""


@pytest.fixture
def contained(make_run, tmp_path):
    config_dir = tmp_path / "claude-config"
    config_dir.mkdir()
    store = ProfileStore.in_memory(
        [Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)], active="test"
    )
    store.data.settings.containment = ContainmentMode.REQUIRED

    def build(steps_for):
        project = tmp_path / "project"
        steps = steps_for(project)
        run = make_run(plan_doc([("1", [], ["1.1"])]), [script("1.1", [steps])], profiles=store)
        (run.project / ".gitignore").write_text(".auto-claude/\n")
        git(run.project, "init", "--quiet", "--initial-branch=main")
        git(run.project, "add", "--all")
        git(run.project, "commit", "--quiet", "-m", "start")
        return run

    return build


def attack_steps(project) -> list[dict]:
    def tool(name, **tool_input):
        return {"tools": [{"name": name, "input": tool_input}]}

    return [
        tool("Write", file_path="{project}/attack.py", content=ATTACK),
        tool("Bash", command="python3 attack.py"),
        tool("Bash", command="git commit --allow-empty -m evil"),
        tool("Write", file_path=str(project / ".git" / "hooks" / "post-commit"), content="x"),
        *coder_steps("1.1"),
    ]


async def test_the_agent_cannot_commit_move_a_branch_or_plant_a_hook(contained):
    run = contained(attack_steps)
    project = run.project
    refs_before = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    config_before = (project / ".git" / "config").read_bytes()
    await run.go()
    assert run.exit_code == 0
    results = " ".join(run.sim.requests[-1].tool_results)
    assert "WROTE" not in results
    for name in ("pre-commit", "config", "evil", ".git"):
        assert f"refused {name} Read-only file system" in results
    for command in ("commit", "update-ref", "branch"):
        assert re.search(rf"GIT {command} [1-9]", results), command  # git ran, and failed
    assert "Bash denied: git commit writes the repository" in results  # the guard, too
    refs_after = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    assert [r for r in refs_after.splitlines() if "agent-tui/" not in r] == refs_before.splitlines()
    assert (project / ".git" / "config").read_bytes() == config_before
    assert not (project / ".git" / "hooks" / "pre-commit").exists()
    assert not (project / ".git" / "hooks" / "post-commit").exists()
    assert branch_log(project, "agent-tui/001-test") == ["subtask 1.1: make 1.1"]
    assert [e.id for e in run.of(wev.SubtaskCommitted)] == ["1.1"]
    leftovers = ("NOTES_MERGE_WORKTREE", "glab-cli", "config.worktree")
    assert not any((project / ".git" / name).exists() for name in leftovers)
