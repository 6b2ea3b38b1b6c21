"""Where a spec's work happens: its own git worktree, or the project itself.

A git project gets a worktree per spec on branch ``agent-tui/<spec-dir-name>`` (for a spec
outside the repository root's ``.auto-claude/specs``, ``agent-tui/<folder>-<hash>/<spec>``:
a project below the root has a branch of its own), made from the user's HEAD and kept under
agent-tui's data dir (``<data>/worktrees/<repo>-<hash>/[<folder>-<hash>/]<spec>``), not in
the repository: nothing there shows in the user's ``git status``, and the CLI treats every
file under a ``.git`` directory as sensitive (an edit there asks for a permission no
unattended session can give).

``locate`` only reads: the checks before a run call it (they write nothing), and the run
opens, repairs or makes the worktree (``worktree.open_worktree``).  A project worked on in
place before, then without a ``.git``, that has one now is refused (``in_place_record``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from agent_tui.workspace.git import Git, GitError, git_installed
from agent_tui.workspace.in_place_record import became_repository

BRANCH_PREFIX = "agent-tui/"
_BRANCH_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SPECS_HOME = (".auto-claude", "specs")


class WorkspaceMode(StrEnum):
    """``worktree``: the spec's own worktree and branch; ``in_place``: the project itself
    (``--in-place``, or not a git repository: no branch, no commits, no rollback)."""

    WORKTREE = "worktree"
    IN_PLACE = "in_place"


class WorkspaceRefused(Exception):
    """The run cannot have its worktree as things are; one sentence saying what to do."""


@dataclass(frozen=True)
class Location:
    """A spec's workspace as found before the run: small and picklable."""

    mode: WorkspaceMode
    project_dir: Path
    spec_dir: Path
    reason: str = ""
    """Why the work happens in place (empty for a worktree)."""
    repo_root: Path | None = None
    common_dir: Path | None = None
    """The user's ``.git``: refs, objects and every worktree's admin dir."""
    worktree: Path | None = None
    branch: str | None = None
    head: str = ""
    """The user's HEAD as the branch starts from it: ``main``, or ``detached at 1a2b3c4``."""
    uncommitted: int = 0
    """Files with changes not committed in the user's checkout: not in a new worktree."""

    @property
    def isolated(self) -> bool:
        return self.mode is WorkspaceMode.WORKTREE

    @property
    def agent_project_dir(self) -> Path:
        """The project as the agent sees it: its place inside the worktree."""
        if self.worktree is None or self.repo_root is None:
            return self.project_dir
        return self.worktree / self.project_dir.relative_to(self.repo_root)

    @property
    def agent_spec_dir(self) -> Path:
        """The spec dir's copy the agent reads and edits (the user's own, in place)."""
        if self.worktree is None or self.repo_root is None:
            return self.spec_dir
        return self.worktree / self.spec_dir.relative_to(self.repo_root)

    @property
    def spec_pathspec(self) -> str:
        """The spec dir, relative to the worktree's root: left out of every commit."""
        assert self.repo_root is not None
        return self.spec_dir.relative_to(self.repo_root).as_posix()

    @property
    def project_pathspec(self) -> str:
        assert self.repo_root is not None
        return self.project_dir.relative_to(self.repo_root).as_posix() or "."


def in_place(project_dir: Path, spec_dir: Path, reason: str) -> Location:
    return Location(WorkspaceMode.IN_PLACE, project_dir, spec_dir, reason=reason)


def _ref_safe(text: str, fallback: str) -> str:
    """``text`` as one component of a ref name (spaces and the like become -)."""
    name = _BRANCH_UNSAFE.sub("-", text).strip(".-")
    return re.sub(r"\.{2,}", ".", name).removesuffix(".lock").strip(".-") or fallback


def spec_qualifier(repo_root: Path, spec_dir: Path) -> str:
    """What tells this spec's branch and worktree from a same-named spec's elsewhere in the
    repository: empty for a spec in the root's ``.auto-claude/specs`` (the names runs there
    have always had), else ``<folder slug>-<hash of the folder>``, safe for one ref
    component, since a slug alone can be two folders' (``a b`` and ``a-b``).

    ``ValueError`` when the spec dir is not inside ``repo_root``."""
    folder = spec_dir.parent.relative_to(repo_root)
    if folder.parts == _SPECS_HOME:
        return ""
    shown = folder.parts[:-2] if folder.parts[-2:] == _SPECS_HOME else folder.parts
    slug = _ref_safe("-".join(shown), "project")[:40].rstrip(".-")
    digest = hashlib.sha256(os.fsencode(folder.as_posix())).hexdigest()[:8]
    return f"{slug}-{digest}"


def branch_name(spec_dir_name: str, qualifier: str = "") -> str:
    """``agent-tui/<spec>``, or ``agent-tui/<qualifier>/<spec>``, safe for a ref."""
    name = _ref_safe(spec_dir_name, "spec")
    return BRANCH_PREFIX + (f"{qualifier}/{name}" if qualifier else name)


def worktree_path(
    root: Path, repo_root: Path, common_dir: Path, spec_dir_name: str, qualifier: str = ""
) -> Path:
    """``root/<repo name>-<hash of its .git>/[<qualifier>/]<spec>``: two repositories with
    one name, a repository moved, or two same-named specs never share a directory."""
    digest = hashlib.sha256(os.fsencode(os.path.realpath(common_dir))).hexdigest()[:8]
    base = root / f"{repo_root.name}-{digest}"
    return (base / qualifier if qualifier else base) / spec_dir_name


@dataclass(frozen=True)
class Registered:
    """One entry of ``git worktree list --porcelain``."""

    path: Path
    branch: str | None
    prunable: bool
    main: bool


def registered_worktrees(git: Git) -> list[Registered]:
    out = git.run("worktree", "list", "--porcelain", "-z").out.decode("utf-8", "replace")
    entries: list[Registered] = []
    for block in out.split("\0\0"):
        fields = [f for f in block.split("\0") if f]
        if not fields or not fields[0].startswith("worktree "):
            continue
        values = {f.partition(" ")[0]: f.partition(" ")[2] for f in fields}
        branch = values.get("branch", "").removeprefix("refs/heads/") or None
        entries.append(
            Registered(Path(values["worktree"]), branch, "prunable" in values, not entries)
        )
    return entries


def locate(
    project_dir: Path,
    spec_dir: Path,
    *,
    root: Path,
    in_place_asked: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Location:
    """The spec's workspace; ``WorkspaceRefused`` when a worktree is due but cannot be had."""
    if in_place_asked:
        return in_place(project_dir, spec_dir, "--in-place")
    refused = became_repository(project_dir)
    if refused:
        raise WorkspaceRefused(refused)
    if not git_installed(environ):
        return in_place(project_dir, spec_dir, "git is not installed")
    git = Git(project_dir, environ=environ)
    inside = git.run("rev-parse", "--is-inside-work-tree", check=False)
    if not inside.ok or inside.text != "true":
        return in_place(project_dir, spec_dir, "not a git repository")
    try:
        top, common = git.text("rev-parse", "--show-toplevel", "--git-common-dir").splitlines()
        repo_root = Path(top).resolve()
        common_dir = (project_dir / common).resolve()
        return _worktree_location(git, project_dir, spec_dir, repo_root, common_dir, root)
    except (GitError, ValueError) as exc:
        raise WorkspaceRefused(f"cannot read the git repository at {project_dir}: {exc}") from None


def _worktree_location(
    git: Git,
    project_dir: Path,
    spec_dir: Path,
    repo_root: Path,
    common_dir: Path,
    root: Path,
) -> Location:
    if _under(repo_root, root.resolve()):
        raise WorkspaceRefused(
            f"{project_dir} is inside one of agent-tui's worktrees: give --project the "
            "repository itself"
        )
    sent_away = repo_root / ".git" / "commondir"
    if (repo_root / ".git").is_dir() and os.path.lexists(sent_away):
        raise WorkspaceRefused(
            f"{sent_away} sends git to another folder for this repository's config and "
            "history (a repository's own .git has none; an agent working in place could "
            "have written it): check it, remove it, then run again"
        )
    if not git.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).ok:
        raise WorkspaceRefused(
            f"the repository at {repo_root} has no commit yet, so there is nothing to branch "
            "from: make a first commit (git commit --allow-empty -m start), or run --in-place"
        )
    qualifier = spec_qualifier(repo_root, spec_dir)
    branch = branch_name(spec_dir.name, qualifier)
    path = worktree_path(root, repo_root, common_dir, spec_dir.name, qualifier)
    for entry in registered_worktrees(git):
        if entry.branch != branch or entry.prunable:
            continue
        if entry.main:
            raise WorkspaceRefused(
                f"{branch} is checked out in {entry.path}: switch that checkout to another "
                "branch first (the run works on it in its own worktree)"
            )
        ours = _under(entry.path.resolve(), root.resolve()) and entry.path.name == path.name
        if entry.path.resolve() != path and not ours:
            raise WorkspaceRefused(
                f"{branch} is checked out in {entry.path}: remove that worktree "
                f"(git worktree remove {entry.path}), or run --in-place"
            )
        path = entry.path  # ours, from before the repository moved
    return Location(
        WorkspaceMode.WORKTREE,
        project_dir,
        spec_dir,
        repo_root=repo_root,
        common_dir=common_dir,
        worktree=path,
        branch=branch,
        head=_head_text(git),
        uncommitted=_uncommitted(git),
    )


def _uncommitted(git: Git) -> int:
    """Tracked files changed in the user's checkout (read without touching its index)."""
    status = git.run("status", "--porcelain", "-z", "--untracked-files=no", check=False)
    return len([entry for entry in status.out.split(b"\0") if entry.strip()])


def _head_text(git: Git) -> str:
    branch = git.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if branch.ok:
        return branch.text
    return f"detached at {git.text('rev-parse', '--short', 'HEAD')}"


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
