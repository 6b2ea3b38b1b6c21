"""Packing what agent-tui wrote: its commits' objects, into a pack of their own.

agent-tui's git runs with ``gc.auto=0`` (an automatic gc may start hooks and a background
job in the user's repository), so nothing else packs the loose objects a run's commits
leave, one file each: thousands over a long run, which every git command then pays for.
So every ``PACK_EVERY`` commits a place packs the objects its commits added since it last
did (``pack-objects --revs --unpacked`` of its branch's tip, not what the last pack point
reaches), and removes the loose copies (``prune-packed``: only objects a pack holds).
Nothing else of the repository is read or rewritten: the work is that of the commits made
since, and the user's packs and loose objects stay as they are.  The git is agent-tui's
own (``workspace.git``): no hook, no fsmonitor, no configured program runs.
"""

from __future__ import annotations

from agent_tui.workspace.worktree import Worktree

PACK_EVERY = 32
"""Commits between two packs: a pack each costs about what two commits do."""


def pack_since(worktree: Worktree, since: str | None) -> str:
    """Pack the objects of the commits on the worktree's branch after ``since`` (None:
    the tip is the first point, nothing is packed); the tip, the next call's ``since``."""
    git = worktree.git
    tip = git.text("rev-parse", "HEAD")
    if since is None or since == tip:
        return tip
    common = worktree.location.common_dir
    assert common is not None
    git.run(
        "pack-objects", "--revs", "--unpacked", "--non-empty", "--delta-base-offset", "-q",
        str(common / "objects" / "pack" / "pack"),
        stdin=f"{tip}\n^{since}\n",
    )  # fmt: skip
    git.run("prune-packed", "-q")
    return tip
