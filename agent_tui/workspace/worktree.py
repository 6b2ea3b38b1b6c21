"""Open a spec's worktree: reuse it, repair it, or make it.

A run killed with ``kill -9`` comes back to the same worktree.  What a crash can leave is
repaired here, never a blocker: a registration whose directory is gone or has no ``.git``
(the directory, if any, is moved aside, not deleted: it may hold work), a directory git does
not know, a stale ``index.lock`` (the spec's run lock is held, so no git command of ours is
running, and no process has the file open; one held open refuses the run instead).  Only
this spec's registration is touched: ``git worktree prune`` would also drop the user's own
worktrees on a drive that is not mounted right now.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent_tui.workspace.git import Git, GitError
from agent_tui.workspace.location import Location, registered_worktrees


@dataclass(frozen=True)
class Worktree:
    location: Location
    admin_dir: Path
    """``<repo>/.git/worktrees/<name>``: its HEAD, index and logs."""
    repaired: tuple[str, ...] = ()
    """What was found broken and put right as it opened, one sentence each."""
    environ: Mapping[str, str] | None = None
    created: bool = False
    """Made as it opened, from the user's HEAD (not one an earlier run left)."""

    @property
    def root(self) -> Path:
        assert self.location.worktree is not None
        return self.location.worktree

    @property
    def branch(self) -> str:
        assert self.location.branch is not None
        return self.location.branch

    @property
    def git(self) -> Git:
        """Git in exactly this worktree (its ``.git`` file is not read)."""
        return Git(self.root, git_dir=self.admin_dir, work_tree=self.root, environ=self.environ)

    @property
    def repo_git(self) -> Git:
        """Git in the user's own checkout."""
        assert self.location.repo_root is not None
        return Git(self.location.repo_root, environ=self.environ)


def admin_dir_of(common_dir: Path, path: Path) -> Path | None:
    """The admin dir whose ``gitdir`` names ``path/.git``, or None."""
    target = os.path.realpath(path / ".git")
    try:
        candidates = sorted((common_dir / "worktrees").iterdir())
    except OSError:
        return None
    for admin in candidates:
        try:
            named = (admin / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if os.path.realpath(named) == target:
            return admin
    return None


def open_worktree(location: Location, environ: Mapping[str, str] | None = None) -> Worktree:
    """The spec's worktree, ready for a session; ``GitError`` when git cannot make it."""
    assert location.worktree is not None and location.common_dir is not None
    repo = Git(location.repo_root or location.project_dir, environ=environ)
    path = location.worktree
    repaired: list[str] = []
    admin = admin_dir_of(location.common_dir, path)
    if admin is not None and not _healthy(path, admin, environ):
        repaired.append(_drop_registration(repo, path))
        admin = None
    elif admin is None and _entry_for(repo, path):
        repaired.append(_drop_registration(repo, path))
    created = admin is None
    if created:
        if os.path.lexists(path):
            repaired.append(_move_aside(path))
        _add(repo, location)
        admin = admin_dir_of(location.common_dir, path)
        if admin is None:
            raise GitError(f"git made no worktree at {path}")
    lock = admin / "index.lock"
    if lock.exists():
        if _held_open(lock):
            raise GitError(
                f"a git command is using the worktree at {path} ({lock} is held open): "
                "let it finish, then start the run again"
            )
        lock.unlink()
        repaired.append(f"removed a stale {lock} left by a run that was killed")
    worktree = Worktree(location, admin, tuple(repaired), environ, created)
    _on_branch(worktree, repaired)
    if created:
        worktree.git.lfs_checkout()
    return Worktree(location, admin, tuple(repaired), environ, created)


def _held_open(path: Path) -> bool:
    """True when a live process has ``path`` open: git holds its lock file open until it
    renames it into place, and the run lock does not keep out the user's own git (or
    ``agent-tui diff``) in the worktree.  Without ``/proc`` (macOS) nothing can be seen,
    and the run lock is all there is."""
    target = os.path.realpath(path)
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return False
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # gone, or another user's: git runs as the user agent-tui runs as
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return True
            except OSError:
                continue
    return False


def _healthy(path: Path, admin: Path, environ: Mapping[str, str] | None) -> bool:
    if not (path / ".git").is_file():
        return False
    git = Git(path, git_dir=admin, work_tree=path, environ=environ)
    return git.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).ok


def _entry_for(repo: Git, path: Path) -> bool:
    real = os.path.realpath(path)
    return any(os.path.realpath(e.path) == real for e in registered_worktrees(repo))


def _drop_registration(repo: Git, path: Path) -> str:
    """Forget a broken registration; its directory, if any, is kept aside."""
    note = f"the worktree at {path} was broken (a crash while it was made?)"
    if os.path.lexists(path):
        note += "; " + _move_aside(path)
    repo.run("worktree", "remove", "--force", "--force", str(path))
    return note


def _move_aside(path: Path) -> str:
    if path.is_dir() and not path.is_symlink():
        with contextlib.suppress(OSError):
            path.rmdir()  # empty: nothing to keep
            return f"removed the empty directory {path}"
    stem = f"{path.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}"
    aside, number = path.with_name(stem), 1
    while os.path.lexists(aside):
        number += 1
        aside = path.with_name(f"{stem}-{number}")
    os.replace(path, aside)
    return f"moved what was at {path} to {aside}"


def _add(repo: Git, location: Location) -> None:
    assert location.worktree is not None and location.branch is not None
    location.worktree.parent.mkdir(parents=True, exist_ok=True)
    branch = location.branch
    exists = repo.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
    if exists.ok:  # the branch outlived its worktree: its commits are the work so far
        repo.run("worktree", "add", str(location.worktree), branch)
    else:
        repo.run("worktree", "add", "-b", branch, str(location.worktree), "HEAD")


def _on_branch(worktree: Worktree, repaired: list[str]) -> None:
    """The worktree's HEAD is the work branch (a commit lands on it, nowhere else)."""
    git = worktree.git
    head = git.run("symbolic-ref", "--quiet", "HEAD", check=False).text
    if head == f"refs/heads/{worktree.branch}":
        return
    switched = git.run("checkout", "--quiet", worktree.branch, check=False)
    if not switched.ok:
        raise GitError(
            f"the worktree at {worktree.root} is not on {worktree.branch} and cannot be put "
            "back on it: commit or remove what is in it"
        )
    repaired.append(f"the worktree at {worktree.root} was put back on {worktree.branch}")
