"""A project worked on in place, with no ``.git`` then: one that has a ``.git`` later is
not trusted.

In place the agent writes the project itself.  Its sandbox cannot make a ``.git`` there
(the path is write-denied before it exists), but a session that ran unsandboxed could have,
with a config whose filters and hooks agent-tui's next run would meet as the user's own
repository.  So a run in place records that the project had no ``.git``, in agent-tui's
state dir (out of the agent's reach), and a later start that finds one refuses before any
git command runs there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from agent_tui.config import app_state_dir
from agent_tui.files import atomic_write_text
from agent_tui.workspace.leftovers import is_placeholder


def record_path(project_dir: Path) -> Path:
    digest = hashlib.sha256(os.fsencode(os.path.realpath(project_dir))).hexdigest()[:16]
    return app_state_dir() / "in-place" / f"{digest}.json"


def remember(project_dir: Path) -> None:
    """Record that ``project_dir`` has no ``.git`` now (nothing when it has one)."""
    if os.path.lexists(project_dir / ".git"):
        return
    path = record_path(project_dir)
    if path.exists():
        return
    since = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    atomic_write_text(path, json.dumps({"project": str(project_dir), "since": since}) + "\n")


def became_repository(project_dir: Path) -> str | None:
    """The sentence refusing a project that has a ``.git`` it did not have when a run
    worked in it in place; None when it is as it was, or was never worked in place."""
    git_dir = project_dir / ".git"
    try:
        made = os.lstat(git_dir).st_mtime
    except OSError:
        return None
    record = record_path(project_dir)
    if not record.exists():
        return None
    if is_placeholder(git_dir):  # the sandbox's mount point for the denied .git, left
        # by a session killed with its run: an empty .git is no repository, and holds nothing
        with contextlib.suppress(OSError):
            os.unlink(git_dir)
        return None
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(made))
    return (
        f"{project_dir} became a git repository after agent-tui worked in it in place "
        f"({git_dir} made {when}): agent-tui will not run git in a repository the agent may "
        f"have made; remove {git_dir}, or if you made it, check its config and hooks and "
        f"remove {record}, then run again"
    )
