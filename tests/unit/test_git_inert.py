"""agent-tui's own git over a repository full of code it could run: none of it runs.

The lab (``hostile_repo``) plants every kind of repository-controlled code: the user's
filters (clean, smudge, process), textconv, external diff, pagers, fsmonitor, hooks, a
credential helper and merge drivers, named by the agent's ``.gitattributes``; includes of a
file the agent writes; nested repositories with configs of their own; a copy of a git
directory; git-lfs with the agent's ``.lfsconfig``; and hostile variables in the
environment.  Every command agent-tui runs (worktree add, status, diff, add and commit,
rollback, review, the lanes' replay, merge, discard) leaves the canary missing, and the
honest work still lands in the user's branch.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from agent_tui.workspace import commits, lanes
from agent_tui.workspace.lanes import lane_location
from agent_tui.workspace.merge import discard, merge
from agent_tui.workspace.review import Review
from agent_tui.workspace.worktree import open_worktree
from tests.unit.hostile_repo import OLD, Lab, agent_writes, build, look


@pytest.fixture
def lab(tmp_path) -> Lab:
    return build(tmp_path)


def _edit(path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, (OLD, OLD))


def test_the_lab_is_live_plain_git_runs_its_code(lab):
    """The same lab under git as a person runs it: each kind of payload fires (a process
    filter that fails, or an empty nested repository, stops git outright, so those are
    stepped around to reach the rest)."""
    worktree = lab.worktree()
    agent_writes(lab, worktree.root)
    root = worktree.root
    lab.plain_git(root, "status")
    no_process = ("-c", "filter.ufilt.process=")
    lab.plain_git(root, *no_process, "add", "-A", "--", ".", ":(exclude)empty")
    lab.plain_git(root, *no_process, "-c", "commit.gpgSign=false", "commit", "-qm", "plain")
    lab.plain_git(root, "commit", "--allow-empty", "-qm", "signed")
    _edit(root / "sub" / "f.txt", "nested", "NESTED")
    _edit(root / "sub2" / "f.txt", "nested", "NESTED")
    lab.plain_git(root, "status")
    lab.plain_git(root, *no_process, "diff", "main", "--", "data.u")
    lab.plain_git(root, *no_process, "diff", "--no-ext-diff", "main", "--", "data.u")
    lab.plain_git(root, "restore", "--source=main", "--", "asset.bin")
    _edit(root / "data.u", "line 9\n", "line 9 again\n")
    lab.plain_git(root, "add", "data.u")
    fired = lab.fired()
    for tag in (
        "ENV-fsmonitor:token=yes",
        "USER-filter-process:token=yes",
        "INCLUDED-filter-clean:token=yes",
        "LFS-saw-the-token",
        "ENVHOOK-pre-commit:token=yes",
        "INCLUDED-gpg:token=yes",
        "NESTDIR-filter-clean:token=yes",
        "NESTFILE-filter-clean:token=yes",
        "USER-diff-command:token=yes",
        "USER-textconv:token=yes",
        "LFS-online-to-the-agents-server",
    ):
        assert tag in fired, (tag, fired)


def test_no_command_agent_tui_runs_runs_anything_the_repository_controls(lab):
    def step(name, call):
        result = call()
        assert lab.fired() == [], name
        return result

    worktree = step("worktree add", lab.worktree)
    agent_writes(lab, worktree.root)
    assert step("status", lambda: commits.has_changes(worktree))
    step("diff", lambda: commits.uncommitted_diff(worktree))
    done = step("add and commit", lambda: commits.commit_subtask(worktree, "1.1", "work", ""))
    assert done.commit is not None and done.findings == ()
    assert sorted(done.nested) == ["empty", "sub", "sub2"]
    assert done.git_dirs == (".evilgd", "lib/evil")  # sub2's own, and a planted copy
    committed = look(lab, worktree.root, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert "honest.txt" in committed and ".gitattributes" in committed
    assert not [name for name in committed if name.startswith(("sub", "empty", "lib/", ".evilgd"))]
    assert "160000" not in look(lab, worktree.root, "ls-tree", "-r", "HEAD")

    review = Review.of(worktree.location, lab.environ)
    step("the subtask's diff", lambda: review.subtask_diff("1.1"))
    step("the branch's diff", review.branch_diff)

    (worktree.root / "failed.txt").write_text("a failed try\n")
    _edit(worktree.root / "data.u", "line 3\n", "line 3 failed\n")
    _edit(worktree.root / "w.inc", "included", "changed")
    step("the rollback's patch", lambda: commits.uncommitted_diff(worktree))
    step("rollback", lambda: commits.rollback(worktree))
    assert not (worktree.root / "failed.txt").exists()
    assert not (worktree.root / "sub").exists()  # the failed try's repository goes with it
    assert "line 3 failed" not in (worktree.root / "data.u").read_text()

    lane = step(
        "a lane's worktree", lambda: open_worktree(lane_location(worktree.location, 2), lab.environ)
    )
    step("a lane starts", lambda: lanes.start_from(lane, commits.head(worktree)))
    _edit(lane.root / "data.u", "line 18\n", "line 18 lane\n")
    step("the lane's commit", lambda: commits.commit_subtask(lane, "1.3", "lane", ""))
    _edit(worktree.root / "data.u", "line 5\n", "line 5 spec\n")
    step("the spec's commit", lambda: commits.commit_subtask(worktree, "1.2", "spec", ""))
    replayed = step("replay", lambda: lanes.replay(worktree, commits.head(lane)))
    assert replayed.commit is not None, replayed.conflicts  # merge-file merged it
    step("the move", lambda: lanes.move_to(worktree, replayed.commit, replayed.previous))
    merged_text = (worktree.root / "data.u").read_text()
    assert "line 5 spec" in merged_text and "line 18 lane" in merged_text

    user_data = lab.user / "data.u"
    user_data.write_text(user_data.read_text().replace("line 20\n", "line 20 user\n"))
    look(lab, lab.user, "commit", "--quiet", "-am", "the user's own change")
    said = step("merge", lambda: merge(worktree.location, squash=False, environ=lab.environ))
    assert said.startswith("merged agent-tui/001-test")
    users = (lab.user / "data.u").read_text()
    assert all(f"line {n}" in users for n in ("2 agent", "5 spec", "18 lane", "20 user"))
    assert (lab.user / "honest.txt").read_text() == "honest work\n"
    tree = look(lab, lab.user, "ls-tree", "-r", "HEAD")
    assert "160000" not in tree and "lib/evil" not in tree and "sub/" not in tree

    other = lab.location(lab.spec_dir.parent / "002-other")
    second = step("another spec's worktree", lambda: lab.worktree(other))
    agent_writes(lab, second.root, honest="other.txt")
    step("discard", lambda: discard(other, environ=lab.environ))
    assert not second.root.exists()


def test_a_spec_a_nested_repository_broke_still_commits_diffs_and_merges(lab):
    """Gitlinks an older agent-tui recorded stay out of every command; a nested repository
    undone (its .git removed) has its files committed as files."""
    worktree = lab.worktree()
    agent_writes(lab, worktree.root)
    quiet = ("-c", "filter.x.clean=", "-c", "filter.ufilt.clean=", "-c", "filter.inc.clean=")
    look(lab, worktree.root, *quiet, "add", "-A", ":(exclude)empty", ":(exclude)lib")
    look(lab, worktree.root, *quiet, "commit", "--quiet", "--no-verify", "-m", "old agent-tui")
    assert "160000" in look(lab, worktree.root, "ls-files", "-s", "sub")
    _edit(worktree.root / "sub" / "f.txt", "nested", "nested changed")
    assert lab.fired() == []

    assert commits.has_changes(worktree)  # lib/evil, not the nested repositories' changes
    done = commits.commit_subtask(worktree, "1.1", "work", "")
    assert done.commit is not None and "sub" in done.nested and "sub2" in done.nested
    Review.of(worktree.location, lab.environ).branch_diff()
    assert lab.fired() == []

    shutil.rmtree(worktree.root / "sub" / ".git")
    done = commits.commit_subtask(worktree, "1.2", "its files are the project's", "")
    assert "sub" not in done.nested
    staged = look(lab, worktree.root, "ls-files", "-s", "sub")
    assert "160000" not in staged and "sub/f.txt" in staged
    merge(worktree.location, squash=True, environ=lab.environ)
    assert (lab.user / "sub" / "f.txt").read_text() == "nested changed\n"
    assert lab.fired() == []


def test_a_lanes_removal_leaves_the_repositorys_config_untouched(lab):
    # `git branch -D` rewrote .git/config through config.lock; another lane's sandboxed
    # command starting then failed in bwrap on the lock that had gone meanwhile.
    worktree = lab.worktree()
    lane = open_worktree(lane_location(worktree.location, 2), lab.environ)
    config = worktree.location.common_dir / "config"
    before = (os.stat(config).st_ino, config.read_bytes())
    lanes.remove(lane)
    assert (os.stat(config).st_ino, config.read_bytes()) == before
    assert not lane.root.exists()
    assert look(lab, lab.user, "branch", "--list", lane.branch) == ""


IDS = [
    "1..2",
    "1.lock",
    "..",
    ".",
    "",
    "a/b",
    "a:b",
    "x@{1}",
    "~^:?*[\\",
    "été 1",
    "1.2",
    "9" * 300,
]


def test_subtask_ids_make_distinct_ref_names():
    assert len({lanes._ref_part(i) for i in IDS}) == len(IDS)
    assert lanes._ref_part("1.2") == "1.2"  # one git takes as it is stays as it is


@pytest.mark.parametrize("subtask_id", IDS)
def test_a_subtask_id_from_the_plan_makes_a_ref_git_takes(subtask_id, tmp_path):
    # made for real: git takes the name, and the file system the ref file's
    ref = lanes.KEPT_REFS + lanes._ref_part("agent-tui/001-x") + "/" + lanes._ref_part(subtask_id)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "start"], check=True)
    made = subprocess.run([*git, "update-ref", ref, "HEAD"], capture_output=True, text=True)
    assert made.returncode == 0, (ref, made.stderr)
