"""What agent-tui does on the work branch: one commit per completed subtask, a failed try
rolled back to the last good commit, and the diffs the user reviews.

The agent never commits: its sandbox sees the repository's ``.git`` read-only.  The spec dir
is left out of every commit and every rollback: its truth is the user's copy (see
``spec_sync``), so a tracked spec dir never makes the work branch differ from the user's
branch there, and a merge is never blocked by the plan the run keeps up to date.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from agent_tui.workspace.git import UNSIGNED, Git
from agent_tui.workspace.location import Location
from agent_tui.workspace.scan import Finding, scan_diff
from agent_tui.workspace.worktree import Worktree

TRAILER = "Agent-Tui-Subtask"
SUBJECT_CHARS = 72
_DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv")


def pathspecs(worktree: Worktree) -> list[str]:
    """The project in the worktree, but not its spec dir.  An ignored spec dir (the usual
    ``.auto-claude/`` in ``.gitignore``) is left out by git already, and naming it in an
    exclude would make ``git add`` fail; the agent may change ``.gitignore``, so it is
    asked each time."""
    specs = project_pathspecs(worktree.location)
    spec = worktree.location.spec_pathspec
    if worktree.git.run("check-ignore", "--quiet", "--", spec, check=False).ok:
        specs.pop()
    return specs


def project_pathspecs(location: Location) -> list[str]:
    """The project but not its spec dir, for commands that only read (a diff, a log)."""
    return [
        "--",
        f":(literal){location.project_pathspec}",
        f":(exclude,literal){location.spec_pathspec}",
    ]


def head(worktree: Worktree) -> str:
    return worktree.git.text("rev-parse", "HEAD")


def has_changes(worktree: Worktree) -> bool:
    """Whether the worktree differs from its last commit (untracked files count)."""
    status = worktree.git.run(
        "status", "--porcelain", "-z", "--untracked-files=all", *pathspecs(worktree)
    )
    return bool(status.out.strip(b"\0"))


@contextmanager
def _scratch_index(worktree: Worktree) -> Iterator[Git]:
    """Git with an index of its own, filled from HEAD: a diff of the worktree that counts
    new files, without touching the worktree's own index."""
    handle, name = tempfile.mkstemp(prefix="agent-tui-index-")
    os.close(handle)
    os.unlink(name)  # git makes it; an empty file is not an index
    git = worktree.git
    env = {"GIT_INDEX_FILE": name}
    try:
        git.run("read-tree", "HEAD", extra_env=env)
        git.run("add", "-A", *pathspecs(worktree), extra_env=env)
        yield _WithIndex(git, env)
    finally:
        if os.path.exists(name):
            os.unlink(name)


@dataclass(frozen=True)
class _WithIndex:
    git: Git
    env: dict[str, str]

    def run(self, *args: str):
        return self.git.run(*args, extra_env=self.env)


def uncommitted_diff(worktree: Worktree) -> bytes:
    """What the worktree holds beyond its last commit, as a patch (new files included)."""
    with _scratch_index(worktree) as git:
        return git.run(
            "diff", "--cached", "--binary", *_DIFF_OPTIONS, "HEAD", *pathspecs(worktree)
        ).out


def rollback(worktree: Worktree) -> str:
    """Put the worktree back at its last commit, which is returned; files git ignores
    (caches, build output) stay, as does the spec dir.  Take ``uncommitted_diff`` first:
    what is undone here is gone."""
    good = head(worktree)
    specs = pathspecs(worktree)
    worktree.git.run("restore", f"--source={good}", "--staged", "--worktree", *specs)
    worktree.git.run("clean", "-f", "-d", "-q", *specs)
    return good


@dataclass(frozen=True)
class Committed:
    commit: str | None
    """The new commit; None when a secret stopped it (nothing was committed)."""
    files: int = 0
    findings: tuple[Finding, ...] = ()


def commit_subtask(worktree: Worktree, subtask_id: str, description: str, body: str) -> Committed:
    """Stage everything, scan the staged diff, and commit it as the subtask's one commit
    (empty if the subtask changed no file).  A token-looking string unstages it all.

    Files git takes for binary (a NUL byte) are not read: a secret the agent could put
    there is one it made up, as its sandbox reads no credential."""
    names, findings = _stage_scanned(worktree)
    if findings:
        return Committed(None, findings=findings)
    if not names and last_subtask(worktree) == subtask_id:
        return Committed(head(worktree))  # committed already, by a run killed right after
    subject, rest = commit_subject(subtask_id, description)
    message = "\n\n".join(
        part for part in (subject, rest, body, f"{TRAILER}: {subtask_id}") if part
    )
    _commit(worktree, message, "--allow-empty")
    return Committed(head(worktree), files=len(names))


def commit_work(worktree: Worktree, subject: str, body: str) -> Committed | None:
    """Commit all the worktree holds beyond its last commit (not the spec dir), scanned as
    a subtask's commit is; None when nothing changed.  A token-looking string unstages it
    all (no commit in the result)."""
    names, findings = _stage_scanned(worktree)
    if findings:
        return Committed(None, findings=findings)
    if not names:
        return None
    _commit(worktree, f"{subject}\n\n{body}" if body else subject)
    return Committed(head(worktree), files=len(names))


def _stage_scanned(worktree: Worktree) -> tuple[list[bytes], tuple[Finding, ...]]:
    """Stage everything (the spec dir aside) and scan the staged diff: the staged names,
    or what the scan found, in which case nothing is left staged."""
    git = worktree.git
    specs = pathspecs(worktree)
    git.run("add", "-A", *specs)
    staged = git.run("diff", "--cached", "-U0", "--no-renames", *_DIFF_OPTIONS, *specs)
    findings = tuple(scan_diff(staged.out))
    if findings:
        git.run("reset", "--quiet")
        return [], findings
    listed = git.run("diff", "--cached", "--name-only", "-z", *specs).out
    return [name for name in listed.split(b"\0") if name], ()


def _commit(worktree: Worktree, message: str, *options: str) -> None:
    """The commit of what is staged: no hook, the message as given, never signed."""
    git = worktree.git
    git.run(
        "commit", "--quiet", "--no-verify", *options, "--cleanup=verbatim", "-F", "-",
        config=[*git.identity(), UNSIGNED], stdin=message,
    )  # fmt: skip


def last_subtask(worktree: Worktree) -> str:
    """The subtask the last commit is for ("" when it is none of agent-tui's)."""
    fmt = f"--format=%(trailers:key={TRAILER},valueonly)"
    return worktree.git.run("log", "-1", fmt, "HEAD").text


def commit_subject(subtask_id: str, description: str) -> tuple[str, str]:
    """``subtask 1.2: <description>`` within 72 characters, and the rest of the description
    when it did not fit (or had more lines)."""
    lines = " ".join(description.split()) or "(no description)"
    subject = f"subtask {subtask_id}: {lines}"
    if len(subject) <= SUBJECT_CHARS and "\n" not in description.strip():
        return subject, ""
    return subject[: SUBJECT_CHARS - 1].rstrip() + "…", description.strip()
