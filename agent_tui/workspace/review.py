"""The diffs the user reviews: a subtask's commits, the whole branch, the work not yet
committed.  Read-only: they work on the branch alone when its worktree is gone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from agent_tui.workspace.commits import TRAILER, project_pathspecs, uncommitted_diff
from agent_tui.workspace.git import Git, GitError, Result
from agent_tui.workspace.location import Location
from agent_tui.workspace.worktree import Worktree

REVIEW_LIMIT = 8 * 1024 * 1024
"""The most of a diff shown for review; past it, the rest is left out, and a line says so."""


@dataclass(frozen=True)
class Review:
    """A branch to read: its name, the user's checkout, and the project's paths in it."""

    location: Location
    git: Git

    @classmethod
    def of(cls, location: Location, environ=None) -> Review:
        assert location.repo_root is not None
        return cls(location, Git(location.repo_root, environ=environ))

    @property
    def branch(self) -> str:
        assert self.location.branch is not None
        return self.location.branch

    def exists(self) -> bool:
        ref = f"refs/heads/{self.branch}"
        return self.git.run("rev-parse", "--verify", "--quiet", ref, check=False).ok

    def commits(self, subtask_id: str | None = None) -> list[tuple[str, str]]:
        """(sha, subject) of the branch's commits not in the user's HEAD, oldest first;
        only the subtask's when one is named."""
        fmt = f"--format=%H%x1f%s%x1f%(trailers:key={TRAILER},valueonly,separator=%x2C)%x1e"
        out = self.git.run("log", "--reverse", fmt, self.branch, "--not", "HEAD", "--")
        found = []
        for record in out.out.decode("utf-8", "replace").split("\x1e"):
            sha, _, rest = record.strip().partition("\x1f")
            subject, _, ids = rest.partition("\x1f")
            if sha and (subtask_id is None or subtask_id in ids.strip().split(",")):
                found.append((sha, subject))
        return found

    def show(self, sha: str, limit: int = REVIEW_LIMIT) -> bytes:
        specs = project_pathspecs(self.location)
        return _cut(self.git.run("show", "--stat", "--patch", sha, *specs, limit=limit))

    def subtask_diff(self, subtask_id: str) -> bytes:
        shown = b""
        for sha, _ in self.commits(subtask_id):
            shown += self.show(sha, max(REVIEW_LIMIT - len(shown), 1))
            if len(shown) >= REVIEW_LIMIT:
                break
        return shown

    def branch_diff(self) -> bytes:
        """Everything the branch would bring into the user's HEAD."""
        base = self.git.run("merge-base", "HEAD", self.branch, check=False)
        if not base.ok:
            raise GitError(f"{self.branch} shares no history with your HEAD")
        specs = project_pathspecs(self.location)
        args = ("diff", "--stat", "--patch", base.text, self.branch, *specs)
        return _cut(self.git.run(*args, limit=REVIEW_LIMIT))


def _cut(result: Result) -> bytes:
    """The output, and when it was cut a line saying so (git diff shows all of it)."""
    if not result.truncated:
        return result.out
    kept = result.out[: result.out.rfind(b"\n") + 1]
    return kept + b"[agent-tui: the diff is cut here, at its size limit; git shows the rest]\n"


def work_in_progress(worktree: Worktree | None) -> bytes:
    """The worktree's changes since its last commit (nothing without a worktree)."""
    return uncommitted_diff(worktree) if worktree is not None else b""


class LineKind(StrEnum):
    """What a line of ``git show`` / ``git diff`` output is, for colouring it as git does."""

    COMMIT = "commit"
    HEADER = "header"
    HUNK = "hunk"
    ADDED = "added"
    REMOVED = "removed"
    TEXT = "text"


def line_kinds(lines: Iterable[str]) -> Iterator[tuple[str, LineKind]]:
    """Each line with its kind.  Only a hunk's lines are added or removed: the ``---``
    above a commit's file list is not, nor a file header's ``--- a/…``."""
    where = "outside"  # then "header" (a file's, up to its first hunk), then "hunk"
    for line in lines:
        if line.startswith("commit "):
            where = "outside"
            yield line, LineKind.COMMIT
        elif line.startswith("diff --git "):
            where = "header"
            yield line, LineKind.HEADER
        elif where != "outside" and line.startswith("@@"):
            where = "hunk"
            yield line, LineKind.HUNK
        elif where == "header":
            yield line, LineKind.HEADER
        elif where == "hunk" and line[:1] in ("+", "-"):
            yield line, LineKind.ADDED if line[0] == "+" else LineKind.REMOVED
        else:
            yield line, LineKind.TEXT
