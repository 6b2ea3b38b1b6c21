"""What Claude Code's sandbox leaves behind where the agent works: removed after each
session, and at the next start after a session that was killed (CLI 2.1.331).

For every Bash command the sandbox mounts over what must stay read-only, and for a path
that does not exist it first makes an empty one to mount on:

- in each git dir ``NOTES_MERGE_WORKTREE/``, ``glab-cli/``, ``remotes/``, ``worktrees/``,
  an empty ``config.worktree`` and ``objects/info/alternates``, and
  ``.claude-sandbox-noreplace/`` in ``info/``, ``objects/info/`` and
  ``objects/info/commit-graphs/``; and ``.claude/.cc-writes/``
  in the working directory and in the repository's own checkout (which the CLI takes for
  the project's root in a worktree): these stay when the command ends;
- for each file the CLI always protects in the working directory (``CLI_PROTECTED``), an
  empty file of mode 0444, which the CLI deletes when the command ends, unless it was
  killed (SIGKILL: a kill of agent-tui takes its CLI with it).

After a session only a path of these lists that was not there before and is still empty is
removed: anything else is someone's, and stays.  A run killed during a session leaves no
record of what was there before, so at the next start a file goes only with all of a
placeholder's traits: empty, regular, mode 0444, ours, and last changed while that session
ran (a user's ``touch`` since moves its change time past it).
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
    "objects/info/.claude-sandbox-noreplace",
    "objects/info/commit-graphs/.claude-sandbox-noreplace",
    "objects/info/commit-graphs",
    "objects/info/alternates",
    "worktrees",
)
"""Deepest first.  The ``objects/info`` ones and ``worktrees`` were seen in a project's own
``.git``, in place."""
FILES_IN_GIT_DIR = frozenset({"config.worktree", "objects/info/alternates"})
"""Of ``IN_GIT_DIR``, what the sandbox leaves as an empty file (the rest: empty dirs)."""
CLI_PROTECTED = (
    ".gitconfig", ".gitmodules", ".bashrc", ".bash_profile", ".zshrc", ".zprofile",
    ".profile", ".ripgreprc", ".mcp.json", ".vscode", ".idea",
    ".claude/settings.json", ".claude/settings.local.json", ".claude/skills",
    ".claude/hooks", ".claude/commands", ".claude/agents", ".claude/launch.json",
    ".claude/workflows", ".claude/routines", ".claude/output-styles",
    ".claude/scheduled_tasks.json", ".claude/loop.md",
)  # fmt: skip
"""What the CLI write-denies in its working directory whatever the settings say; a missing
one is a file while a command runs, even where the name is a directory's."""
IN_WORK_DIR = (*CLI_PROTECTED, ".claude/.cc-writes", ".claude")
"""Deepest first: ``.claude`` goes only if the sandbox made it and it is empty after."""
PLACEHOLDER_MODE = 0o444

Window = tuple[float, float]
"""When a session ran: epoch seconds, first and last."""


@dataclass(frozen=True)
class Leftovers:
    """The places a session's sandbox may leave mount points in."""

    git_dirs: tuple[Path, ...]
    work_dirs: tuple[Path, ...]
    """Where the session works, and the user's checkout of the repository."""

    def candidates(self) -> list[Path]:
        """Where the sandbox may have left a mount point; none through a link (a
        ``.claude`` the agent made a link would point the removals elsewhere)."""
        found = [(d, name) for d in self.git_dirs for name in IN_GIT_DIR]
        found += [(w, name) for w in dict.fromkeys(self.work_dirs) for name in IN_WORK_DIR]
        return [base / name for base, name in found if not _through_a_link(base, name)]

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

    def after_killed(self, window: Window, also: Iterable[Path] = ()) -> list[Path]:
        """Remove the placeholders of a session killed during ``window`` (the list's, and
        ``also``: files a rule of an earlier version denied); what was removed."""
        removed = []
        for path in [*self.candidates(), *also]:
            if is_placeholder(path, window):
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed.append(path)
        return removed


def hold(git_dir: Path) -> list[Path]:
    """Make ``git_dir``'s missing mount points now, as the sandbox leaves them, so that
    they stay while several lanes share it: one made or removed between another sandbox's
    listing and its mounts fails that command.  What was made (``release`` removes it)."""
    made = []
    for name in reversed(IN_GIT_DIR):  # a folder before what the sandbox makes in it
        path = git_dir / name
        if os.path.lexists(path) or not path.parent.is_dir() or not git_dir.is_dir():
            continue
        with contextlib.suppress(OSError):
            if name in FILES_IN_GIT_DIR:
                path.touch(exist_ok=False)
            else:
                path.mkdir()
            made.append(path)
    return made


def release(made: Iterable[Path]) -> list[Path]:
    """Remove what ``hold`` made that is still empty; what was removed."""
    return [path for path in reversed(list(made)) if _remove_if_empty(path)]


def is_placeholder(path: Path, window: Window | None = None) -> bool:
    """An empty read-only file of ours, as the sandbox makes one to mount on; with
    ``window``, also changed last during it (nobody has touched it since)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_size == 0
        and stat.S_IMODE(info.st_mode) == PLACEHOLDER_MODE
        and info.st_uid == os.getuid()
        and (window is None or window[0] <= info.st_ctime <= window[1])
    )


def _through_a_link(base: Path, name: str) -> bool:
    """Whether a dir between ``base`` and ``base / name`` is a link."""
    path = base
    for part in Path(name).parts[:-1]:
        path = path / part
        if os.path.islink(path):
            return True
    return False


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
