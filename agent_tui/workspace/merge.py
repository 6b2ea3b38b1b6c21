"""Bring a spec's work into the user's branch, or throw it away.

``merge`` merges the work branch into the user's current branch with its history
(``--no-ff``: a merge commit over the subtasks' commits), or as one commit with
``--squash``.  It refuses, changing nothing, on a tree with uncommitted changes (the spec
dir aside: the run keeps its plan up to date there), a detached HEAD, or a merge already in
progress; a conflict is aborted, leaving the tree as it was, and named file by file.  Only
after a merge has succeeded are the worktree and the branch removed.
"""

from __future__ import annotations

import itertools
import os
import re
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass

from agent_tui.files import LinkRefused, atomic_write_bytes, real_dir
from agent_tui.text import counted
from agent_tui.workspace.commits import has_changes, project_pathspecs, uncommitted_diff
from agent_tui.workspace.git import UNSIGNED, Git, GitError, first_line
from agent_tui.workspace.location import Location, registered_worktrees
from agent_tui.workspace.review import Review
from agent_tui.workspace.scan import masked_bytes
from agent_tui.workspace.worktree import Worktree, admin_dir_of

SHOWN_FILES = 8


class MergeRefused(Exception):
    """Nothing was merged or removed; one sentence saying why and what to do."""


class MergeConflict(MergeRefused):
    """The merge met conflicts and was aborted: the tree is as it was."""


@dataclass(frozen=True)
class Branch:
    """A spec's work branch, its worktree if it still has one, and the user's checkout."""

    location: Location
    environ: Mapping[str, str] | None = None

    @property
    def name(self) -> str:
        assert self.location.branch is not None
        return self.location.branch

    @property
    def repo(self) -> Git:
        assert self.location.repo_root is not None
        return Git(self.location.repo_root, environ=self.environ)

    def worktree(self) -> Worktree | None:
        location = self.location
        assert location.common_dir is not None and location.worktree is not None
        admin = admin_dir_of(location.common_dir, location.worktree)
        if admin is None or not (location.worktree / ".git").is_file():
            return None
        return Worktree(location, admin, environ=self.environ)

    def remove(self) -> None:
        """Remove the worktree (whatever is in it) and then the branch."""
        path = self.location.worktree
        assert path is not None
        if self.worktree() is not None or admin_dir_of(self.location.common_dir, path):
            self.repo.run("worktree", "remove", "--force", "--force", str(path))
        # The repository's folder of worktrees (and a qualified spec's folder in it), when
        # empty: agent-tui/<qualifier>/<spec> has one folder more.
        for folder in (path.parent, path.parent.parent)[: self.name.count("/")]:
            try:
                folder.rmdir()
            except OSError:
                break
        self.repo.run("branch", "-D", self.name)


def merge(location: Location, *, squash: bool, environ: Mapping[str, str] | None = None) -> str:
    """Merge the spec's work into the user's branch; one line saying what was done."""
    branch = Branch(location, environ)
    repo = branch.repo
    review = Review(location, repo)
    if not review.exists():
        raise MergeRefused(f"there is no work branch {branch.name}: nothing to merge")
    current = _current_branch(repo, branch.name)
    _refuse_if_busy(repo)
    _refuse_if_dirty(repo, location)
    _refuse_to_overwrite_untracked(repo, branch)
    ahead = review.commits()
    tip = repo.text("rev-parse", "--short", branch.name)
    kept = _keep_uncommitted(branch)  # before the merge: one it cannot save refuses it
    if not ahead:
        branch.remove()
        return f"{branch.name} is already in {current}: its worktree and branch are removed{kept}"
    before = repo.text("rev-parse", "HEAD")
    config, unsigned = _signing(repo, location)
    if squash:
        _squash(repo, branch, ahead, config)
    else:
        subject = f"Merge {branch.name} ({counted(len(ahead), 'subtask commit')}) into {current}"
        args = ["merge", "--no-ff", "--no-edit", "-m", subject, branch.name]
        _run_merge(repo, branch, args, config)
    after = repo.text("rev-parse", "--short", "HEAD")
    if repo.text("rev-parse", "HEAD") == before:
        raise MergeRefused(f"git merged nothing from {branch.name}: kept its worktree and branch")
    repo.lfs_checkout()
    branch.remove()
    how = "squashed into one commit" if squash else "with its history"
    return (
        f"merged {branch.name} ({len(ahead)} commits, {how}) into {current} at {after}; its "
        f"worktree and branch (was {tip}) are removed{kept}{unsigned}"
    )


def merged_at(location: Location, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The commit of the user's HEAD that a ``merge`` of the spec's branch made (short
    hash), if there is one: a merge's subject and a squash's message both name the branch."""
    branch = Branch(location, environ)
    found = branch.repo.run(
        "log", "-20", "--format=%h%x1f%B%x1e", "--fixed-strings", f"--grep={branch.name}",
        "HEAD", "--", check=False,
    )  # fmt: skip
    named = re.compile(rf"(^|\s){re.escape(branch.name)}(\s|$)")
    for record in found.out.decode("utf-8", "replace").split("\x1e"):
        short, _, message = record.strip().partition("\x1f")
        if short and named.search(message):
            return short
    return None


def _signing(repo: Git, location: Location) -> tuple[list[str], str]:
    """The merge's ``-c`` settings: the user's identity, and no signing when a signing
    setting comes from a file in a working tree (a tracked file a config includes, or
    one in a worktree: a branch, the agent's among them, can change it, and its
    ``gpg.program`` would run); the words that say so."""
    config = repo.identity()
    pattern = r"^(gpg\.|user\.signingkey$|commit\.gpgsign$)"
    listed = repo.read_config("-z", "--show-origin", "--name-only", "--get-regexp", pattern)
    fields = listed.out.decode("utf-8", "surrogateescape").split("\0")
    trees = [entry.path.resolve() for entry in registered_worktrees(repo)]
    common = (location.common_dir or repo.cwd / ".git").resolve()
    for origin, key in zip(fields[::2], fields[1::2], strict=False):
        if not origin.startswith("file:"):
            continue
        path = (repo.cwd / origin.removeprefix("file:")).resolve()
        if common == path or common in path.parents:
            continue
        if any(tree == path or tree in path.parents for tree in trees):
            note = f"; not signed: {key} is set in {path}, a file a branch can change"
            return [*config, UNSIGNED], note
    return config, ""


def discard(location: Location, *, environ: Mapping[str, str] | None = None) -> str:
    """Remove the spec's worktree and branch; one line saying how to get the branch back."""
    branch = Branch(location, environ)
    if not Review(location, branch.repo).exists():
        path = location.worktree
        if path is not None and location.common_dir and admin_dir_of(location.common_dir, path):
            branch.repo.run("worktree", "remove", "--force", "--force", str(path))
            return f"removed the worktree at {path} (its branch {branch.name} was gone already)"
        raise MergeRefused(f"there is no work branch {branch.name}: nothing to discard")
    tip = branch.repo.text("rev-parse", branch.name)
    branch.remove()
    return (
        f"discarded {branch.name} and its worktree; until git collects it, "
        f"git branch {branch.name} {tip[:12]} brings the branch back"
    )


def _current_branch(repo: Git, work_branch: str) -> str:
    found = repo.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if not found.ok:
        raise MergeRefused(
            "your HEAD is detached: check out the branch to merge into, then merge again"
        )
    if found.text == work_branch:
        raise MergeRefused(f"{work_branch} is checked out here: check out your own branch first")
    return found.text


def _refuse_if_busy(repo: Git) -> None:
    for ref, what in (("MERGE_HEAD", "a merge"), ("REBASE_HEAD", "a rebase")):
        if repo.run("rev-parse", "--quiet", "--verify", ref, check=False).ok:
            raise MergeRefused(f"{what} is in progress here: finish or abort it first")


def _refuse_if_dirty(repo: Git, location: Location) -> None:
    specs = project_pathspecs(location)
    specs[1] = ":(top)"  # the whole checkout, the spec dir aside
    status = repo.run("status", "--porcelain", "-z", "--untracked-files=no", *specs)
    changed = [entry[3:] for entry in status.out.decode("utf-8", "replace").split("\0") if entry]
    if changed:
        shown = ", ".join(changed[:SHOWN_FILES]) + (", …" if len(changed) > SHOWN_FILES else "")
        raise MergeRefused(
            f"your working tree has uncommitted changes ({shown}): commit or stash them, then "
            "merge again; nothing was merged"
        )


def _refuse_to_overwrite_untracked(repo: Git, branch: Branch) -> None:
    """Refuse a merge that would put the work branch's new files where the user's checkout
    has files git does not track: git's merge replaces an ignored one (a ``.env``, another
    spec's plan, a whole ignored folder or a link) without a word, even with
    ``--no-overwrite-ignore``, and the agent can stop ignoring any path in its commits."""
    added = repo.run(
        "diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", f"HEAD...{branch.name}",
    ).out  # fmt: skip
    if not added:
        return
    listed = repo.run("ls-tree", "-r", "-z", "--full-tree", "--name-only", "HEAD").out
    tracked = set(listed.split(b"\0"))
    root = branch.location.repo_root
    assert root is not None
    in_the_way: list[str] = []
    for name in filter(None, added.split(b"\0")):
        if name in tracked:
            continue  # git merges it as a tracked file (the tree is clean)
        parts = name.split(b"/")
        for depth in range(1, len(parts) + 1):
            here = b"/".join(parts[:depth])
            try:
                mode = os.lstat(root / os.fsdecode(here)).st_mode
            except OSError:
                break  # nothing there: git makes it
            if depth == len(parts) or not stat.S_ISDIR(mode):
                if here not in tracked:  # (a tracked one is git's to change)
                    in_the_way.append(os.fsdecode(here))
                break
    if in_the_way:
        found = sorted(set(in_the_way))
        shown = ", ".join(found[:SHOWN_FILES]) + (", …" if len(found) > SHOWN_FILES else "")
        it = "it" if len(found) == 1 else "them"
        raise MergeRefused(
            f"{branch.name} adds {shown}, which you have here untracked or ignored (git would "
            f"replace {it} without asking): move {it} aside, then merge again; nothing was merged"
        )


def _keep_uncommitted(branch: Branch) -> str:
    """Save what the worktree holds beyond its last commit (it goes with the worktree);
    ``MergeRefused`` when it cannot be saved, since it would be lost with the worktree.

    Saved before the merge is tried, so a merge that then fails leaves a copy in the logs
    beside changes still in the worktree: nothing is lost either way."""
    worktree = branch.worktree()
    if worktree is None or not has_changes(worktree):
        return ""
    logs = branch.location.spec_dir / "logs"
    path = logs / f"uncommitted-{time.strftime('%Y%m%d-%H%M%S')}.diff"
    try:
        atomic_write_bytes(real_dir(logs) / path.name, masked_bytes(uncommitted_diff(worktree)))
    except OSError as exc:
        reason = str(exc) if isinstance(exc, LinkRefused) else (exc.strerror or str(exc))
        raise MergeRefused(
            f"cannot save the changes its worktree ({worktree.root}) holds uncommitted in "
            f"{logs} ({reason}): nothing was merged"
        ) from None
    return f"; what it held uncommitted is in {os.path.relpath(path, branch.location.spec_dir)}"


def _run_merge(repo: Git, branch: Branch, args: list[str], config: list[str]) -> None:
    done = repo.run(*args, check=False, config=config)
    if done.ok:
        return
    conflicted = _conflicted(repo)
    if conflicted:
        _abort(repo)
        shown = ", ".join(conflicted[:SHOWN_FILES]) + (
            ", …" if len(conflicted) > SHOWN_FILES else ""
        )
        raise MergeConflict(
            f"merging {branch.name} conflicts in {shown}: aborted, your tree is as it was; "
            f"merge it yourself to resolve them (git merge {branch.name})"
        )
    _abort(repo)
    reason = _reason(done.err) or _reason(done.out.decode("utf-8", "replace"))
    raise MergeRefused(f"git could not merge {branch.name} ({reason}): nothing was merged")


def _reason(text: str) -> str:
    """git's first line, and the files it lists under it when that line ends in a colon
    (``… would be overwritten by merge:``), since such a line names none itself."""
    head = first_line(text)
    if not head.endswith(":"):
        return head
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip()[:300] == head), len(lines))
    listed = itertools.takewhile(
        lambda line: line[:1] in ("\t", " ") and line.strip(), lines[at + 1 :]
    )
    files = [line.strip() for line in listed]
    if not files:
        return head
    shown = ", ".join(files[:SHOWN_FILES]) + (", …" if len(files) > SHOWN_FILES else "")
    return f"{head} {shown}"[:300]


def _conflicted(repo: Git) -> list[str]:
    out = repo.run("diff", "--name-only", "--diff-filter=U", "-z", check=False).out
    return [name for name in out.decode("utf-8", "replace").split("\0") if name]


def _abort(repo: Git) -> None:
    """Undo a merge that stopped half way: with MERGE_HEAD ``merge --abort``, else (a
    squash) ``reset --merge``; both keep local changes the merge did not touch."""
    if repo.run("rev-parse", "--quiet", "--verify", "MERGE_HEAD", check=False).ok:
        repo.run("merge", "--abort", check=False)
    else:
        repo.run("reset", "--merge", check=False)


def _squash(repo: Git, branch: Branch, commits: list[tuple[str, str]], config: list[str]) -> None:
    _run_merge(repo, branch, ["merge", "--squash", branch.name], config)
    lines = "\n".join(subject for _, subject in commits)
    subtasks = counted(len(commits), "subtask")
    message = f"{branch.location.spec_dir.name}: {subtasks} from {branch.name}\n\n{lines}\n"
    try:
        repo.run("commit", "--quiet", "--no-verify", "-F", "-", config=config, stdin=message)
    except GitError:
        _abort(repo)
        raise
