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

from agent_tui.workspace import nested
from agent_tui.workspace.git import UNSIGNED, Git
from agent_tui.workspace.location import Location
from agent_tui.workspace.scan import Finding, scan_stream
from agent_tui.workspace.worktree import Worktree

TRAILER = "Agent-Tui-Subtask"
SUBJECT_CHARS = 72
PATCH_LIMIT = 5 * 1024 * 1024
"""The most of a patch agent-tui keeps (a rolled-back try's, a worktree's before a merge);
past it, a summary of what changed is kept instead."""
SUMMARY_LIMIT = 1024 * 1024


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


@dataclass(frozen=True)
class Survey:
    """The worktree as git sees it before agent-tui stages anything."""

    specs: list[str]
    """The project, without its spec dir, a nested repository or a gitlink: what git may
    touch without recursing anywhere."""
    nested: tuple[str, ...]
    """Nested repositories (untracked, or staged as a gitlink by an older agent-tui): left
    out, and said."""
    unlinked: tuple[str, ...] = ()
    """Gitlinks whose directory holds files but no ``.git`` any more: committed as files."""
    changed: bool = False
    """Whether anything besides a nested repository differs from the last commit."""


def survey(worktree: Worktree) -> Survey:
    git = worktree.git
    base = pathspecs(worktree)
    status = git.run("status", "--porcelain=v1", "-z", "--untracked-files=all", *base).out
    found = nested.untracked_repositories(status)
    links = nested.gitlinks(git.run("ls-files", "-s", "-z", *base).out)
    kinds = {path: nested.gitlink_kind(worktree.root / path) for path in links}
    repositories = [p for p in links if kinds[p] is nested.Link.REPOSITORY]
    unlinked = tuple(p for p in links if kinds[p] is nested.Link.FILES)
    left_out = [*found, *(p for p in links if p not in unlinked)]
    return Survey(
        [*base, *nested.excludes(dict.fromkeys(left_out))],
        tuple(dict.fromkeys([*found, *repositories])),
        unlinked,
        nested.other_changes(status, found) or bool(unlinked),
    )


def head(worktree: Worktree) -> str:
    return worktree.git.text("rev-parse", "HEAD")


def has_changes(worktree: Worktree) -> bool:
    """Whether the worktree differs from its last commit (untracked files count; a nested
    repository does not: it is never committed)."""
    return survey(worktree).changed


@contextmanager
def _scratch_index(worktree: Worktree) -> Iterator[_WithIndex]:
    """Git with an index of its own, filled from HEAD: a diff of the worktree that counts
    new files, without touching the worktree's own index."""
    handle, name = tempfile.mkstemp(prefix="agent-tui-index-")
    os.close(handle)
    os.unlink(name)  # git makes it; an empty file is not an index
    git = worktree.git
    env = {"GIT_INDEX_FILE": name}
    try:
        git.run("read-tree", "HEAD", extra_env=env)
        specs = survey(worktree).specs
        git.run("add", "-A", *specs, extra_env=env)
        yield _WithIndex(git, env, specs)
    finally:
        if os.path.exists(name):
            os.unlink(name)


@dataclass(frozen=True)
class _WithIndex:
    git: Git
    env: dict[str, str]
    specs: list[str]

    def run(self, *args: str, limit: int | None = None):
        return self.git.run(*args, extra_env=self.env, limit=limit)


def uncommitted_diff(worktree: Worktree, limit: int = PATCH_LIMIT) -> bytes:
    """What the worktree holds beyond its last commit, as a patch (new files included); a
    patch longer than ``limit`` is replaced by a summary of it (a header line saying so,
    then ``--stat`` and ``--summary``)."""
    with _scratch_index(worktree) as git:
        patch = git.run("diff", "--cached", "--binary", "HEAD", *git.specs, limit=limit)
        if not patch.truncated:
            return patch.out
        summary = git.run(
            "diff", "--cached", "--stat=200", "--summary", "HEAD", *git.specs,
            limit=SUMMARY_LIMIT,
        )  # fmt: skip
    header = (
        f"# agent-tui: the patch is larger than {limit // 2**20} MB and was not kept; what "
        "changed:\n"
    )
    return header.encode() + summary.out


def rollback(worktree: Worktree) -> str:
    """Put the worktree back at its last commit, which is returned; files git ignores
    (caches, build output) stay, as does the spec dir.  A nested repository goes too
    (``clean -ff``): it was the failed try's.  Take ``uncommitted_diff`` first: what is
    undone here is gone."""
    good = head(worktree)
    seen = survey(worktree)
    worktree.git.run("restore", f"--source={good}", "--staged", "--worktree", *seen.specs)
    worktree.git.run("clean", "-f", "-f", "-d", "-q", *pathspecs(worktree))
    worktree.git.lfs_checkout()
    return good


@dataclass(frozen=True)
class Committed:
    commit: str | None
    """The new commit; None when a secret stopped it (nothing was committed)."""
    files: int = 0
    findings: tuple[Finding, ...] = ()
    nested: tuple[str, ...] = ()
    """Nested repositories left out of it (see ``nested``)."""
    git_dirs: tuple[str, ...] = ()
    """Copies of a git directory taken out of it."""


def commit_subtask(worktree: Worktree, subtask_id: str, description: str, body: str) -> Committed:
    """Stage everything, scan the staged diff, and commit it as the subtask's one commit
    (empty if the subtask changed no file).  A token-looking string unstages it all.

    Files git takes for binary (a NUL byte) are not read: a secret the agent could put
    there is one it made up, as its sandbox reads no credential."""
    staged = _stage_scanned(worktree)
    if staged.findings:
        return staged
    if not staged.files and last_subtask(worktree) == subtask_id:
        return _with_commit(staged, head(worktree))  # committed already, by a run killed
    subject, rest = commit_subject(subtask_id, description)
    message = "\n\n".join(
        part for part in (subject, rest, body, f"{TRAILER}: {subtask_id}") if part
    )
    _commit(worktree, message, "--allow-empty")
    return _with_commit(staged, head(worktree))


def commit_work(worktree: Worktree, subject: str, body: str) -> Committed | None:
    """Commit all the worktree holds beyond its last commit (not the spec dir), scanned as
    a subtask's commit is; None when nothing changed.  A token-looking string unstages it
    all (no commit in the result)."""
    staged = _stage_scanned(worktree)
    if staged.findings:
        return staged
    if not staged.files:
        return None
    _commit(worktree, f"{subject}\n\n{body}" if body else subject)
    return _with_commit(staged, head(worktree))


def _with_commit(staged: Committed, commit: str) -> Committed:
    return Committed(commit, staged.files, (), staged.nested, staged.git_dirs)


MAX_FINDINGS = 100


def _stage_scanned(worktree: Worktree) -> Committed:
    """Stage everything (the spec dir and nested repositories aside; a copy of a git
    directory taken out again) and scan the staged diff as git prints it: what was staged
    (no commit yet), or what the scan found, in which case nothing is left staged."""
    git = worktree.git
    seen = survey(worktree)
    for path in seen.unlinked:
        git.run("rm", "--cached", "-q", "--", f":(literal){path}")
    git.run("add", "-A", *seen.specs)
    indexed = git.run("ls-files", "-z", *seen.specs).out.decode("utf-8", "surrogateescape")
    copies = tuple(nested.git_dir_copies(indexed.split("\0")))
    for path in copies:
        git.run("rm", "--cached", "-r", "-q", "--", f":(literal){path}")
    specs = [*seen.specs, *nested.excludes(copies)]
    # --text: a file the agent's .gitattributes calls binary is scanned all the same
    with git.stream("diff", "--cached", "-U0", "--no-renames", "--text", *specs) as diff:
        findings = tuple(scan_stream(diff, MAX_FINDINGS))
    if findings:
        git.run("reset", "--quiet")
        return Committed(None, findings=findings, nested=seen.nested, git_dirs=copies)
    listed = git.run("diff", "--cached", "--name-only", "-z", *specs).out
    files = len([name for name in listed.split(b"\0") if name])
    return Committed(None, files, (), seen.nested, copies)


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
