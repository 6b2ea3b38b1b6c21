"""What Claude Code's sandbox leaves behind in a repository: removed after each session.

To keep git's own files read-only for Bash, the sandbox mounts over them, and for a path
that does not exist it first makes an empty one to mount on; they stay when it ends: in each
git dir ``NOTES_MERGE_WORKTREE/``, ``glab-cli/``, ``remotes/``, an empty ``config.worktree``
and ``info/.claude-sandbox-noreplace/``, and ``.claude/.cc-writes/`` in the working
directory and in the repository's own checkout, which the CLI takes for the project's root
when it runs in a worktree (CLI 2.1.331).  Only a path of that list that was not there
before the session and is still empty is removed: anything else is someone's, and stays.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

IN_GIT_DIR = (
    "NOTES_MERGE_WORKTREE",
    "glab-cli",
    "remotes",
    "config.worktree",
    "info/.claude-sandbox-noreplace",
)
IN_WORK_DIR = (".claude/.cc-writes", ".claude")
"""Deepest first: ``.claude`` goes only if the sandbox made it and it is empty after."""


@dataclass(frozen=True)
class Leftovers:
    """The places a session's sandbox may leave mount points in."""

    git_dirs: tuple[Path, ...]
    work_dirs: tuple[Path, ...]
    """Where the session works, and the user's checkout of the repository."""

    def candidates(self) -> list[Path]:
        found = [d / name for d in self.git_dirs for name in IN_GIT_DIR]
        return found + [w / name for w in dict.fromkeys(self.work_dirs) for name in IN_WORK_DIR]

    def before(self) -> frozenset[Path]:
        """What of the list exists before a session: never removed after it."""
        return frozenset(p for p in self.candidates() if os.path.lexists(p))

    def tidy(self, existed: Iterable[Path]) -> list[Path]:
        """Remove what the session's sandbox made and left empty; what was removed."""
        keep = set(existed)
        removed = []
        for path in self.candidates():
            if path not in keep and _remove_if_empty(path):
                removed.append(path)
        return removed


def _remove_if_empty(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(info.st_mode):
            os.rmdir(path)  # fails unless empty
            return True
        if stat.S_ISREG(info.st_mode) and info.st_size == 0:
            os.unlink(path)
            return True
    return False
