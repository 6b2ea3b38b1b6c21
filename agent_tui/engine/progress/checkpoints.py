"""The run's workspace as the stages use it: where the agent works, its spec copy kept in
step with the user's, a commit per completed subtask, and a failed try rolled back.

In a git repository the agent works in the spec's own worktree (``workspace.location``);
otherwise, or with ``--in-place``, in the project itself, where there is nothing to commit
or roll back and every step here but the status is a no-op.  Git runs off the event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent_tui.config import worktrees_dir
from agent_tui.engine.agents.transcript import next_transcript_path, unfinished_window
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.sandbox.containment import USER_CONTROLS_IN_SPEC
from agent_tui.engine.sandbox.reads import Workplace
from agent_tui.files import atomic_write_bytes, real_dir
from agent_tui.workspace import commits, in_place_record, lanes, leftovers, packing, review
from agent_tui.workspace.config_secrets import credentials_in_config
from agent_tui.workspace.git import GitError
from agent_tui.workspace.lanes import Replayed, lane_location
from agent_tui.workspace.leftovers import Leftovers
from agent_tui.workspace.location import Location, WorkspaceRefused, locate
from agent_tui.workspace.nested import git_dir_notice, nested_notice
from agent_tui.workspace.scan import masked_bytes
from agent_tui.workspace.spec_sync import SpecMirror, Tree
from agent_tui.workspace.worktree import Worktree, open_worktree


class WorkspaceFailed(Exception):
    """The worktree cannot be made or used; one sentence (the run stops, or cannot start)."""


class Checkpoints:
    """A place an agent works: the spec's own (its worktree, or the project in place), or
    with several lanes a lane's worktree beside it (``of_spec`` is then the spec's)."""

    def __init__(
        self,
        config: LoopConfig,
        emit: ev.EventSink,
        history: AttemptHistory,
        *,
        lane: int = 1,
        of_spec: Checkpoints | None = None,
    ) -> None:
        self.config = config
        self.emit = emit
        self.history = history
        self.lane = lane
        self.of_spec = of_spec
        self.plan_lock: asyncio.Lock = of_spec.plan_lock if of_spec else asyncio.Lock()
        """Held while a sync reads or writes the user's spec dir: the plan tracker's (the
        loop shares it), so no status it writes and no lane's pulled edit undoes another."""
        self.last_commit: str | None = None
        """The commit ``commit`` made last."""
        self.location: Location | None = config.workspace
        self.worktree: Worktree | None = None
        self.mirror: SpecMirror | None = None
        self._leftovers: Leftovers | None = None
        self._held: list[Path] = []
        """Mount points made for the lanes' time: see ``hold_shared_mount_points``."""
        self._existed: frozenset[Path] = frozenset()
        self._opening_notes: list[str] = []
        self._swept: list[Path] = []
        self._config_notes: list[str] = []
        self._left_out: set[str] = set()
        """Nested repositories and git-dir copies a notice has named (once a run)."""
        self._packed_at: str | None = None
        """The tip this place last packed its objects at (``workspace.packing``)."""
        self._unpacked = 0
        """Commits made here since."""

    # ------------------------------------------------------------ where the agent works

    @property
    def isolated(self) -> bool:
        return self.worktree is not None

    @property
    def project_dir(self) -> Path:
        return self.location.agent_project_dir if self.location else self.config.project_dir

    @property
    def spec_dir(self) -> Path:
        return self.location.agent_spec_dir if self.location else self.config.spec_dir

    @property
    def plan_path(self) -> Path:
        return self.spec_dir / self.config.plan_path.name

    def git_dirs(self) -> tuple[Path, ...]:
        """The repository's git dirs the agent must not write: all of ``.git`` for a
        worktree (refs, objects, its own index), and in place all of the project's ``.git``
        too, or where there is none, ``.git`` itself (one the agent made, agent-tui would
        trust).  Not only hooks and config: ``commondir``, ``config.worktree``, a
        submodule's config or ``objects/info/alternates`` would each hand git a config
        or objects of the agent's, for your git and agent-tui's next runs there."""
        if self.worktree is not None:
            assert self.location is not None and self.location.common_dir is not None
            return (self.location.common_dir, self.worktree.root / ".git")
        git_dir = self.config.project_dir / ".git"
        if git_dir.is_dir():
            return (git_dir,)
        # Nor the project itself a bare repository: git takes a folder with HEAD, objects
        # and refs for one, and with no .git there, your git would run its config.
        return (git_dir, self.config.project_dir / "HEAD")

    def workplace(self) -> Workplace:
        """Where a session here works, and the user's checkout beside it."""
        location = self.location
        if self.worktree is None or location is None:
            return Workplace(self.project_dir)
        return Workplace(
            self.project_dir,
            worktree=self.worktree.root,
            checkout=location.repo_root,
            git_common=location.common_dir,
        )

    async def open(self) -> None:
        """Find the spec's workspace, and make or repair its worktree."""
        config = self.config
        try:
            if self.of_spec is not None:
                assert self.of_spec.location is not None
                self.location = lane_location(self.of_spec.location, self.lane)
            elif self.location is None:
                root = config.worktrees_dir or worktrees_dir()
                self.location = await asyncio.to_thread(
                    locate, config.project_dir, config.spec_dir, root=root,
                    in_place_asked=config.in_place,
                )  # fmt: skip
            if self.location.isolated:
                self.worktree = await asyncio.to_thread(open_worktree, self.location)
            elif self.of_spec is None:
                await asyncio.to_thread(in_place_record.remember, config.project_dir)
            if self.of_spec is None:
                self._config_notes = await asyncio.to_thread(credentials_in_config, self.location)
        except (WorkspaceRefused, GitError, OSError) as exc:
            raise WorkspaceFailed(_sentence(exc)) from None
        if self.worktree is not None and not self.project_dir.is_dir():
            raise WorkspaceFailed(
                f"{config.project_dir} is in no commit of the repository, so its worktree has "
                "no such directory: commit it first, or run --in-place"
            )
        if self.worktree is not None:
            agent_parts = self.spec_dir.relative_to(self.worktree.root).parts
            user = Tree(config.spec_dir)
            self.mirror = SpecMirror(user, Tree(self.worktree.root, agent_parts))
            assert self.location.common_dir is not None
            git_dirs = (self.location.common_dir, self.worktree.admin_dir)
            work_dirs = (self.project_dir, self.worktree.root, self.location.repo_root)
            self._leftovers = Leftovers(git_dirs, tuple(d for d in work_dirs if d is not None))
            # The user's spec dir is the truth while no session runs: the copy is an earlier
            # run's (a claim its check refuted, one made as that run was killed), and a pull
            # measured against no base would take all of it as the agent's new edits.
            async with self.plan_lock:
                self._opening_notes = await asyncio.to_thread(self.mirror.push)
            self._packed_at = await self._git(commits.head)
        else:  # in place: the sandbox's mount points in the project's own .git too
            git_dir = self.project_dir / ".git"
            git_dirs = (git_dir,) if git_dir.is_dir() and not git_dir.is_symlink() else ()
            self._leftovers = Leftovers(git_dirs, (self.project_dir,))
        self._swept = await asyncio.to_thread(self._sweep_killed)

    def _sweep_killed(self) -> list[Path]:
        """What the sandbox of a session killed with its run left (the spec's controls, as
        earlier versions denied them file by file, included): removed before any session."""
        window = unfinished_window(self.config.logs_dir)
        if window is None or self._leftovers is None:
            return []
        controls = [self.config.spec_dir / name for name in USER_CONTROLS_IN_SPEC]
        if self.worktree is None:  # in place: the mount point on a denied HEAD (git_dirs)
            controls.append(self.project_dir / "HEAD")
        return self._leftovers.after_killed(window, controls)

    async def announce(self) -> None:
        """Say where the agent works, and what was repaired to get there."""
        location = self.location
        assert location is not None
        await self.emit(
            wev.WorkspaceStatus(
                mode=str(location.mode),
                path=str(self.project_dir),
                branch=location.branch,
                base=location.head,
                reason=location.reason,
            )
        )
        for note in self.worktree.repaired if self.worktree else ():
            await self.emit(ev.Notice(level="warning", message=f"workspace: {note}"))
        await self._notes(self._opening_notes)
        if self._swept:
            names = ", ".join(_shown(p, self.project_dir) for p in self._swept)
            message = f"workspace: removed what a killed session's sandbox left: {names}"
            await self.emit(ev.Notice(level="info", message=message))
        for note in self._config_notes:
            await self.emit(ev.Notice(level="warning", message=f"git config: {note}"))
        if self.worktree is not None and self.worktree.created and location.uncommitted:
            files = "1 file" if location.uncommitted == 1 else f"{location.uncommitted} files"
            message = (
                f"workspace: {files} changed in your checkout and not committed: the worktree "
                f"starts from {location.head} without them"
            )
            await self.emit(ev.Notice(level="warning", message=message))

    # ------------------------------------------------------------------ the spec copy

    async def push(self) -> None:
        """Before a session: the agent's spec copy becomes the user's spec dir as it is."""
        await self.before_sandbox()
        if self.mirror is None:
            return
        async with self.plan_lock:
            notes = await asyncio.to_thread(self.mirror.push)
        await self._notes(notes)

    async def before_sandbox(self) -> None:
        """Before the CLI runs here (a session, a check): what of its sandbox's leftovers
        is there already, and so is not its to remove."""
        if self._leftovers is not None:
            self._existed = await asyncio.to_thread(self._leftovers.before)

    async def hold_shared_mount_points(self) -> None:
        """Several lanes are about to share the repository's git dir: its sandbox mount
        points are made now and kept until ``release_shared_mount_points``, rather than
        made and tidied by each session while another lane's sandbox is mounting them."""
        common = self.location.common_dir if self.location is not None else None
        if common is not None and self.worktree is not None:
            self._held = await asyncio.to_thread(leftovers.hold, common)

    async def release_shared_mount_points(self) -> None:
        await asyncio.to_thread(leftovers.release, self._held)
        self._held = []

    async def after_sandbox(self) -> None:
        """What the CLI's sandbox made and left empty, removed."""
        if self._leftovers is not None:
            await asyncio.to_thread(self._leftovers.tidy, self._existed)

    async def pull(self) -> None:
        """Bring back what the agent changed in its spec copy (its version of a file the
        user changed too is kept as ``logs/session-NNN.agent/<name>``, NNN its session)."""
        if self.mirror is None:
            return
        async with self.plan_lock:
            _, notes = await asyncio.to_thread(self.mirror.pull, self._keep_as)
        await self._notes(notes)

    def _keep_as(self) -> str:
        """Where the agent's version of a file both sides changed goes: its session's name
        (the logs are listed only then: they grow with the run)."""
        session = next_transcript_path(self.config.logs_dir)[0] - 1
        return f"session-{session:03d}.agent"

    async def after_session(self) -> None:
        """After a session: what its sandbox left removed, the agent's spec edits back."""
        await self.after_sandbox()
        if self.mirror is None:
            return
        await self.pull()

    async def _notes(self, notes: list[str]) -> None:
        for note in notes:
            await self.emit(ev.Notice(level="warning", message=f"spec sync: {note}"))

    # ------------------------------------------------------------ commits and rollbacks

    async def commit(self, subtask_id: str, description: str) -> str | None:
        """Commit the subtask's work; the reason it was not (a secret in it), or None."""
        if self.worktree is None:
            return None
        body = commit_body(self.history.attempts(subtask_id), self.config.spec_dir.name)
        done = await self._git(commits.commit_subtask, subtask_id, description, body)
        await self._say_left_out(done)
        self.last_commit = done.commit
        if done.commit is not None:
            await self._committed()
        if done.commit is None:
            first = done.findings[0]
            more = f" (and {len(done.findings) - 1} more)" if len(done.findings) > 1 else ""
            return (
                f"subtask {subtask_id} is not committed: {first.sentence()}{more}; nothing was "
                f"committed: remove it in {self.worktree.root}, then resume (or run again)"
            )
        if self.of_spec is None:  # a lane's commit is not on the spec's branch yet: the queue's is
            await self.emit(
                wev.SubtaskCommitted(id=subtask_id, commit=done.commit, files=done.files)
            )
        return None

    async def _say_left_out(self, done: commits.Committed) -> None:
        said = (self.of_spec or self)._left_out
        sentences = [(p, nested_notice(p)) for p in done.nested]
        sentences += [(p, git_dir_notice(p)) for p in done.git_dirs]
        for path, sentence in sentences:
            if path not in said:
                said.add(path)
                await self.emit(ev.Notice(level="warning", message=f"workspace: {sentence}"))

    async def roll_back(self, subtask_id: str, session: int | None = None) -> None:
        """Undo what the worktree holds beyond its last commit (a try that did not complete
        its subtask), its patch kept first; nothing when the setting is off."""
        worktree = self.worktree
        if worktree is None or not self.config.rollback_failed_tries:
            return
        pending = self.history.pending_commit() if self.of_spec is None else None
        if pending is not None:  # that work is done: it is committed, never undone
            raise WorkspaceFailed(
                f"the worktree holds subtask {pending}'s work, not committed yet: not rolled back"
            )
        if not await self._git(commits.has_changes):
            return
        if session is None:  # left by a session of an earlier run: the latest one
            session = next_transcript_path(self.config.logs_dir)[0] - 1
        patch = await self._git(commits.uncommitted_diff)
        logs = real_dir(self.config.logs_dir)
        path, number = logs / f"session-{session:03d}.rollback.diff", 1
        while path.exists():  # a second rollback for one session keeps the first's patch
            number += 1
            path = logs / f"session-{session:03d}.rollback-{number}.diff"
        await asyncio.to_thread(atomic_write_bytes, path, masked_bytes(patch))
        good = await self._git(commits.rollback)
        diff = os.path.relpath(path, self.config.spec_dir)
        await asyncio.to_thread(self.history.record_rollback, subtask_id, session, diff, good)
        await self.emit(
            wev.TryRolledBack(subtask_id=subtask_id, session=session, commit=good, diff=diff)
        )

    async def _git(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(call, self.worktree, *args)
        except (GitError, OSError) as exc:
            raise WorkspaceFailed(f"the worktree: {_sentence(exc)}") from None

    # ------------------------------------------------------------------------ lanes

    async def tip(self) -> str:
        """The last commit of this place's branch."""
        assert self.worktree is not None
        return await self._git(commits.head)

    async def start_from(self, commit: str) -> None:
        """A lane's try starts from ``commit`` (the spec branch's tip): its branch and files
        become that commit's; what it held was a try's, rolled back (and kept) already."""
        if self.worktree is not None:
            await self._git(lanes.start_from, commit)

    async def keep(self, subtask_id: str, commit: str) -> str:
        """Keep a lane's commit reachable while it waits to be merged; the ref."""
        return await self._git(lanes.keep, subtask_id, commit)

    async def let_go(self, ref: str) -> None:
        await self._git(lanes.let_go, ref)

    async def replay(self, commit: str) -> Replayed:
        """A lane's commit made onto this (the spec's) branch's tip; ``move_to`` then puts
        the branch and its worktree there."""
        replayed = await self._git(lanes.replay, commit)
        if replayed.commit is not None:
            await self._committed()
        return replayed

    async def _committed(self) -> None:
        """Every ``PACK_EVERY`` commits, their objects are packed (``workspace.packing``)."""
        self._unpacked += 1
        if self._unpacked >= packing.PACK_EVERY:
            self._packed_at = await self._git(packing.pack_since, self._packed_at)
            self._unpacked = 0

    async def leftovers_aside(self) -> None:
        """A lane's worktree as a killed run left it: what it held beyond its last commit
        is kept as ``logs/lane-N.leftover[-K].diff`` and undone (no subtask's try owns it
        now)."""
        if self.worktree is None or not await self._git(commits.has_changes):
            return
        patch = await self._git(commits.uncommitted_diff)
        logs = real_dir(self.config.logs_dir)
        path, number = logs / f"lane-{self.lane}.leftover.diff", 1
        while path.exists():
            number += 1
            path = logs / f"lane-{self.lane}.leftover-{number}.diff"
        await asyncio.to_thread(atomic_write_bytes, path, masked_bytes(patch))
        await self._git(commits.rollback)
        message = f"lane {self.lane}: what a stopped run left there is kept as logs/{path.name}"
        await self.emit(ev.Notice(level="warning", message=message))

    async def close_lane(self) -> None:
        """The run is over: a lane's worktree and branch go."""
        if self.worktree is not None and self.of_spec is not None:
            await self._git(lanes.remove)
            self.worktree = None

    async def move_to(self, commit: str, expected: str) -> None:
        """Put this branch (and its files) at ``commit`` from ``expected`` (a replay's
        result, or an undo)."""
        await self._git(lanes.move_to, commit, expected)

    # ------------------------------------------------------------------------ review

    def subtask_diff(self, subtask_id: str, *, in_progress: bool) -> str:
        """The subtask's committed diff, or while it is worked on, what the worktree holds
        beyond its last commit (blocking: run it off the event loop)."""
        if self.location is None or not self.location.isolated:
            return ""
        try:
            text = review.Review.of(self.location).subtask_diff(subtask_id)
            if not text and in_progress:
                text = review.work_in_progress(self.worktree)
        except (GitError, OSError) as exc:
            raise WorkspaceFailed(_sentence(exc)) from None
        return masked_bytes(text).decode("utf-8", "replace")

    # ------------------------------------------------------------------------ QA fixes

    async def commit_qa_fix(self, subject: str, body: str) -> str | None:
        """Commit what a QA fixer session changed, so a merge takes it and a later rollback
        keeps it; the reason it was not (a secret in it), or None.  A fix that changed no
        file makes no commit; in place there is nothing to commit."""
        if self.worktree is None:
            return None
        done = await self._git(commits.commit_work, subject, body)
        if done is None:
            return None
        await self._say_left_out(done)
        if done.commit is None:
            first = done.findings[0]
            more = f" (and {len(done.findings) - 1} more)" if len(done.findings) > 1 else ""
            return (
                f"{subject.split(':', 1)[0]} is not committed: {first.sentence()}{more}; "
                f"nothing was committed: remove it in {self.worktree.root}, then resume "
                "(or run again)"
            )
        files = "1 file" if done.files == 1 else f"{done.files} files"
        message = f"workspace: committed {subject!r} as {done.commit[:12]} ({files})"
        await self.emit(ev.Notice(level="info", message=message))
        return None


def commit_body(attempts: list[dict[str, Any]], spec: str) -> str:
    """The sessions that went into a subtask: their numbers, the profiles and the cost."""
    sessions = [str(a.get("session")) for a in attempts if a.get("session")]
    profiles = sorted({str(a["profile"]) for a in attempts if a.get("profile")})
    cost = sum(float(a.get("cost_usd") or 0) for a in attempts)
    lines = [f"Sessions: {', '.join(sessions) or '-'}"]
    if profiles:
        lines.append(f"Profile{'s' if len(profiles) > 1 else ''}: {', '.join(profiles)}")
    lines += [f"Cost: ${cost:.4f}", f"Spec: {spec}"]
    return "\n".join(lines)


def _shown(path: Path, project_dir: Path) -> str:
    """``path`` as the log names it: from the project where it is in there."""
    return str(path.relative_to(project_dir)) if path.is_relative_to(project_dir) else str(path)


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})" if exc.filename else exc.strerror
    return str(exc)
