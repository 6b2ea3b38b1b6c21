"""What agent-tui holds of git's output stays bounded, whatever size of file the agent wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent_tui.workspace import git as git_module
from agent_tui.workspace.commits import PATCH_LIMIT
from agent_tui.workspace.git import Git, GitError
from agent_tui.workspace.review import REVIEW_LIMIT
from tests.integration.git_repo import git, make_repo

ROOT = Path(__file__).resolve().parents[2]
BIG_MB = 200
SCANNED_MB = 48
GROWTH_LIMIT_MB = 40
"""Far below the file's size: what may be held at once is a piece of the scanned diff, a
kept patch (``PATCH_LIMIT``) and a review's diff cut at ``REVIEW_LIMIT``."""


@pytest.fixture
def repo(tmp_path):
    path, _ = make_repo(tmp_path / "repo", {"big.txt": "0123456789abcdef\n" * 200_000})
    return path


def test_output_past_a_limit_the_caller_sets_is_cut(repo):
    done = Git(repo).run("show", "HEAD:big.txt", limit=1000)
    assert done.truncated and done.out == ("0123456789abcdef\n" * 200_000).encode()[:1000]


def test_output_past_the_limit_for_all_is_refused(repo, monkeypatch):
    monkeypatch.setattr(git_module, "OUTPUT_LIMIT", 100_000)
    with pytest.raises(GitError, match="git show printed more than"):
        Git(repo).run("show", "HEAD:big.txt")
    assert Git(repo).run("rev-parse", "HEAD").ok


def test_a_stream_read_in_part_stops_git_and_one_that_fails_says_why(repo):
    with Git(repo).stream("show", "HEAD:big.txt") as out:
        assert out.read(17) == b"0123456789abcdef\n"
    with (
        pytest.raises(GitError, match="git show failed: fatal"),
        Git(repo).stream("show", "HEAD:nothing-here") as out,
    ):
        out.read()


SCRIPT = textwrap.dedent(
    """\
    import json, resource, sys, time
    from pathlib import Path
    from agent_tui.workspace import commits
    from agent_tui.workspace.location import locate
    from agent_tui.workspace.review import Review
    from agent_tui.workspace.worktree import open_worktree

    user, spec_dir, root = (Path(arg) for arg in sys.argv[1:4])
    big, text = int(sys.argv[4]), int(sys.argv[5])
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    def write(path, mb, first=b""):
        line = (b"the agent wrote this; " * 5000)[:99_999] + b"\\n"  # 100 kB lines
        with open(path, "wb") as handle:
            handle.write(first)
            for _ in range(mb * 10):
                handle.write(line)
    worktree = open_worktree(locate(user, spec_dir, root=root))
    before = peak()
    write(worktree.root / "big.bin", big, first=b"\\0")  # git takes it for binary
    write(worktree.root / "scanned.log", text)  # every line of it read for secrets
    assert commits.has_changes(worktree)
    done = commits.commit_subtask(worktree, "1.1", "big files", "")
    write(worktree.root / "failed.log", big)
    patch = commits.uncommitted_diff(worktree)
    commits.rollback(worktree)
    shown = Review.of(worktree.location).branch_diff()
    print(json.dumps({
        "before": before, "after": peak(), "committed": done.commit is not None,
        "patch": len(patch), "patch_head": patch[:300].decode(), "shown": len(shown),
        "rolled_back": not (worktree.root / "failed.log").exists(),
    }))
    """
)


def test_a_200_mb_file_does_not_make_agent_tui_grow_and_its_rollback_patch_is_bounded(
    tmp_path,
):
    user, spec_dir = make_repo(tmp_path / "user")
    git(user, "config", "core.looseCompression", "0")  # time goes on the point, not zlib
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sizes = (str(BIG_MB), str(SCANNED_MB))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(user), str(spec_dir), str(tmp_path / "wt"), *sizes],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["committed"] and seen["rolled_back"]
    assert seen["after"] - seen["before"] < GROWTH_LIMIT_MB, seen
    assert seen["patch"] < PATCH_LIMIT and seen["patch_head"].startswith(
        "# agent-tui: the patch is larger than 5 MB and was not kept; what changed:\n"
    )
    assert "failed.log" in seen["patch_head"]
    assert seen["shown"] <= REVIEW_LIMIT + 200
