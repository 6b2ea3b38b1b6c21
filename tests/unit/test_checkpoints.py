"""The engine's side of the workspace: what a commit says, and the agent's git in a
worktree (read-only: agent-tui commits)."""

from __future__ import annotations

import pytest

from agent_tui.engine.progress.checkpoints import commit_body
from agent_tui.engine.sandbox.guard import Guard


def test_the_commit_body_names_the_sessions_profiles_and_cost():
    attempts = [
        {"session": 3, "profile": "work", "cost_usd": 0.01},
        {"session": 5, "profile": "home", "cost_usd": 0.0234},
    ]
    assert commit_body(attempts, "001-login") == (
        "Sessions: 3, 5\nProfiles: home, work\nCost: $0.0334\nSpec: 001-login"
    )


@pytest.mark.parametrize(
    "command",
    [
        "git commit -am done",
        "git add -A",
        "git reset --hard HEAD~1",
        "git checkout main",
        "git update-ref refs/heads/main HEAD",
        "git branch -D agent-tui/001",
        "git tag v1",
        "git config user.name someone",
        "git push",
        "git stash",
        "git -C . merge other",
    ],
)
def test_in_a_worktree_the_agents_git_may_not_write(tmp_path, command):
    reason = Guard(tmp_path, git_read_only=True).check("Bash", {"command": command})
    assert reason is not None and "agent-tui commits each completed subtask" in reason
    if command.startswith("git add"):
        assert Guard(tmp_path).check("Bash", {"command": command}) is None  # in place: as ever


@pytest.mark.parametrize(
    "command",
    [
        "git status --short",
        "git diff HEAD",
        "git log --oneline -5",
        "git show HEAD:README.md",
        "git branch -a",
        "git branch --show-current",
        "git config --get user.name",
        "git ls-files",
        "git blame README.md",
    ],
)
def test_in_a_worktree_the_agents_git_may_read(tmp_path, command):
    (tmp_path / "README.md").write_text("x\n")
    assert Guard(tmp_path, git_read_only=True).check("Bash", {"command": command}) is None
