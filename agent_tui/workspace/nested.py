"""Repositories inside the worktree: never staged, never recursed into, said once.

A directory with a ``.git`` of its own inside the worktree (the agent ran ``git init sub``,
or cloned something into ``vendor/``) has a config of its own: ``git add`` would record it
as a gitlink, and every later status, add or stash agent-tui runs would recurse into it and
run its filters.  An empty one makes ``git add -A`` fail outright.  So it is left out of
every pathspec agent-tui gives git (``:(exclude,literal)<path>``: ``add`` and ``stash``
have no ``--ignore-submodules``), together with the gitlinks already in the index (the
user's real submodules among them, never restaged), and the user is told once how to have
its files committed.

git lists such a directory, and only such a directory, as ``?? <path>/`` under
``--untracked-files=all``: an ordinary one expands into its files, an ignored one is not
listed.  A copy of a git directory staged as plain files (``HEAD``, ``objects/``,
``refs/``) is no repository in the worktree, but would be one once checked out in the
user's; it is taken out of the index.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

GITLINK_MODE = b"160000"


def untracked_repositories(status: bytes) -> list[str]:
    """The nested repositories in ``git status --porcelain=v1 -z --untracked-files=all``."""
    found = []
    entries = iter(status.split(b"\0"))
    for entry in entries:
        if b"R" in entry[:2] or b"C" in entry[:2]:
            next(entries, None)  # a rename's or copy's second field: its old path
        if entry.startswith(b"?? ") and entry.endswith(b"/"):
            found.append(entry[3:-1].decode("utf-8", "surrogateescape"))
    return found


def other_changes(status: bytes, nested: Iterable[str]) -> bool:
    """Whether the status lists any change besides the nested repositories."""
    skip = {f"?? {path}/".encode("utf-8", "surrogateescape") for path in nested}
    return any(entry and entry not in skip for entry in status.split(b"\0"))


def gitlinks(stage: bytes) -> list[str]:
    """The gitlinks (submodules, or repositories staged as one) in ``git ls-files -s -z``."""
    found = []
    for entry in stage.split(b"\0"):
        info, _, path = entry.partition(b"\t")
        if info.startswith(GITLINK_MODE + b" ") and path:
            found.append(path.decode("utf-8", "surrogateescape"))
    return found


class Link(Enum):
    """What is on disk where the index holds a gitlink."""

    REPOSITORY = "repository"
    """A repository (its ``.git`` is there): left out, and said."""
    FILES = "files"
    """Files and no ``.git``: the repository was undone, its files are the project's."""
    EMPTY = "empty"
    """Nothing: a submodule not checked out here (the user's), left as it is."""


def gitlink_kind(path: Path) -> Link:
    if os.path.lexists(path / ".git"):
        return Link.REPOSITORY
    try:
        with os.scandir(path) as entries:
            return Link.FILES if any(True for _ in entries) else Link.EMPTY
    except OSError:
        return Link.EMPTY


def excludes(paths: Iterable[str]) -> list[str]:
    return [f":(exclude,literal){path}" for path in paths]


def git_dir_copies(names: Iterable[str]) -> list[str]:
    """The directories whose files, checked out, make a git directory: ``HEAD`` beside
    ``objects`` and ``refs`` (or ``commondir``), compared as a case-insensitive disk
    would.  ``objects`` and ``refs`` count as folders holding files, and as a file or a
    link of that name too (git only asks that it can enter them: a link to ``.`` will do).
    The tree's root is none of them (the user's own ``.git`` comes first there)."""
    heads: dict[str, str] = {}
    inside: dict[str, set[str]] = {}
    for name in names:
        parts = name.split("/")
        folded = [part.casefold() for part in parts]
        if len(parts) >= 2 and folded[-1] in ("head", "commondir"):
            directory = "/".join(parts[:-1])
            if folded[-1] == "head":
                heads[directory.casefold()] = directory
            else:
                inside.setdefault(directory.casefold(), set()).add("commondir")
        for depth in range(1, len(parts)):
            if folded[depth] in ("objects", "refs"):
                key = "/".join(folded[:depth])
                inside.setdefault(key, set()).add(folded[depth])
    found = []
    for key, directory in heads.items():
        kinds = inside.get(key, set())
        if "commondir" in kinds or {"objects", "refs"} <= kinds:
            found.append(directory)
    return sorted(found)


def nested_notice(path: str) -> str:
    return (
        f"{path}/ is a separate git repository (it has its own .git): agent-tui leaves it out "
        f"of the work branch; if its files belong to the project, remove {path}/.git and they "
        "will be committed with the next subtask"
    )


def git_dir_notice(path: str) -> str:
    return (
        f"{path}/ holds a copy of a git directory (HEAD, objects/, refs/): agent-tui leaves it "
        "out of the work branch, since checked out it would be a repository whose config runs "
        "code; remove it from the worktree"
    )
