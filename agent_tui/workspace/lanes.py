"""Lanes' worktrees, and the replay of a lane's commit onto the spec's own branch.

With several lanes, each works in a worktree of its own beside the spec's, on a branch of
its own (``agent-tui/<spec>.lane-2``), started from the spec branch's tip as it is when a
subtask begins there.  A subtask's commit is replayed onto the spec's branch as a three-way
merge computed by ``git merge-tree`` (nothing on disk changes), then the spec's worktree
moves to it the way a fast-forward checkout would: only the files that differ are written,
and the spec dir (not in any commit) is never touched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from agent_tui.workspace.commits import head, pathspecs, survey
from agent_tui.workspace.git import UNSIGNED, GitError
from agent_tui.workspace.location import Location
from agent_tui.workspace.worktree import Worktree

KEPT_REFS = "refs/agent-tui/queued/"
"""Where a commit waiting in the merge queue is kept reachable while its lane moves on."""


def lane_location(location: Location, lane: int) -> Location:
    """Lane ``lane``'s place: the spec's worktree path and branch, with ``.lane-N``."""
    assert location.worktree is not None and location.branch is not None
    suffix = f".lane-{lane}"
    return replace(
        location,
        worktree=location.worktree.with_name(location.worktree.name + suffix),
        branch=location.branch + suffix,
    )


def start_from(worktree: Worktree, commit: str) -> None:
    """The lane's branch and files as ``commit`` has them (take what it held first: it is
    undone); files git ignores stay, as the spec dir does."""
    git = worktree.git
    git.run("update-ref", f"refs/heads/{worktree.branch}", commit)
    git.run("read-tree", "--reset", commit)
    specs = survey(worktree).specs
    git.run("restore", f"--source={commit}", "--staged", "--worktree", *specs)
    git.run("clean", "-f", "-f", "-d", "-q", *pathspecs(worktree))
    git.lfs_checkout()


def keep(worktree: Worktree, subtask_id: str, commit: str) -> str:
    """Keep ``commit`` reachable under a ref of its own until it is merged; the ref."""
    ref = KEPT_REFS + _ref_part(worktree.location.branch or "") + "/" + _ref_part(subtask_id)
    worktree.git.run("update-ref", ref, commit)
    return ref


def let_go(worktree: Worktree, ref: str) -> None:
    worktree.git.run("update-ref", "-d", ref, check=False)


REF_PART_MAX = 80
"""Characters of a subtask id kept in a ref name (a file name in the git dir)."""


def _ref_part(text: str) -> str:
    """``text`` (a subtask id: the plan's, so anyone's) as one component of a ref name that
    git takes: no ``..``, no leading or trailing dot, no ``.lock`` at the end, not too long
    for a file name; one that had to change ends with a hash of it, so two ids never share
    a name (``a:b`` and ``a/b``)."""
    part = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in text)
    while ".." in part:
        part = part.replace("..", ".-")
    part = part.strip(".")
    if part.endswith(".lock"):
        part = part[: -len(".lock")] + "-lock"
    part = part[:REF_PART_MAX]
    if part != text or not part:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        part = f"{part}-{digest}" if part else digest
    return part


@dataclass(frozen=True)
class Replayed:
    commit: str | None
    """The new tip of the spec's branch; None when the replay conflicted."""
    previous: str
    """The tip it replayed onto (where an undo goes back to)."""
    conflicts: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    """The files the replayed commit changed."""
    fast_forward: bool = False
    """Nothing was merged since the lane began: the branch took the lane's own commit, the
    very tree its check passed on."""


def replay(onto: Worktree, commit: str) -> Replayed:
    """``commit`` (one commit on a lane's branch) onto the tip of ``onto``'s branch, as a
    commit of its own with the same message and author (the commit itself when it sits on
    the tip already).  Nothing moves yet: the caller notes the new commit, then moves the
    branch to it (``move_to(onto, replayed.commit, replayed.previous)``), so a run killed
    in between knows what to undo.  A conflict names the files."""
    git = onto.git
    tip = head(onto)
    files = _changed_files(onto, commit)
    if git.text("rev-parse", f"{commit}^") == tip:
        return Replayed(commit, tip, files=files, fast_forward=True)
    merged = git.run("merge-tree", "--write-tree", "--name-only", "-z", tip, commit, check=False)
    if merged.code not in (0, 1):
        raise GitError(f"git merge-tree failed: {merged.err.strip()[:300] or merged.code}")
    fields = merged.out.split(b"\0")
    tree = fields[0].decode()
    if merged.code == 1:
        names = []
        for field in fields[1:]:
            if not field:
                break  # the conflicted names end at an empty field; messages follow
            name = field.decode("utf-8", "replace")
            if name not in names:
                names.append(name)
        return Replayed(None, tip, conflicts=tuple(names), files=files)
    message = git.run("log", "-1", "--format=%B", commit).out.decode("utf-8", "replace")
    author = git.text("log", "-1", "--format=%an%x00%ae%x00%ad", "--date=raw", commit)
    name, email, date = author.split("\0")
    made = git.run(
        "commit-tree", tree, "-p", tip, "-F", "-",
        extra_env={"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date},
        config=[*git.identity(), UNSIGNED],
        stdin=message.rstrip("\n") + "\n",
    ).text  # fmt: skip
    return Replayed(made, tip, files=files)


def move_to(worktree: Worktree, commit: str, expected: str) -> None:
    """Move the worktree's branch from ``expected`` to ``commit``, writing only the files
    that differ (as a fast-forward checkout does)."""
    git = worktree.git
    git.run("read-tree", "-m", "-u", expected, commit)
    git.run("update-ref", f"refs/heads/{worktree.branch}", commit, expected)
    git.lfs_checkout()


def _changed_files(worktree: Worktree, commit: str) -> tuple[str, ...]:
    listed = worktree.git.run(
        "diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "--no-renames", f"{commit}^",
        commit,
    ).out  # fmt: skip
    return tuple(name.decode("utf-8", "replace") for name in listed.split(b"\0") if name)


def remove(worktree: Worktree) -> None:
    """The lane's worktree and branch, gone (its work is merged, queued under a ref of its
    own, or was rolled back and kept as a diff first)."""
    repo = worktree.repo_git
    repo.run("worktree", "remove", "--force", "--force", str(worktree.root), check=False)
    # Not ``branch -D``: it rewrites .git/config (dropping a branch section), and the
    # config.lock it takes for that makes another lane's sandboxed command fail to start
    # (the CLI's bwrap mounts what .git holds at that moment: a lock gone meanwhile).
    repo.run("update-ref", "-d", f"refs/heads/{worktree.branch}", check=False)
