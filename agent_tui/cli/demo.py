"""The demo: the bundled sample project, two throwaway profiles, and the sim on 127.0.0.1.

Nothing here needs credentials or a network: the real bundled Claude Code CLI talks to the
scripted Messages API, really edits the sample project, and marks subtasks in its plan.

Where git is installed the sample is laid out as a repository with one commit, so the run
shows what a run on the user's own repository does: the agent in the spec's worktree,
a commit per subtask, ``d`` for a subtask's diff, then ``agent-tui diff``/``merge``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.clock import Clock
from agent_tui.engine.control.runlock import RunLock, SpecBusy
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.files import atomic_write_text
from agent_tui.plan.commands import finish_steps
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from agent_tui.workspace.git import Git, GitError, git_installed
from agent_tui.workspace.location import (
    branch_name,
    in_place,
    registered_worktrees,
)

DEMO_SPEC = "001-greeter"
DEMO_MODEL = "claude-sonnet-4-5"
DEMO_PROFILES = ("demo-a", "demo-b")
DEMO_MARKER = ".agent-tui-demo"
"""In a ``--workdir`` the demo has set up: only then may it replace what it made there."""
DEMO_BRANCH = branch_name(DEMO_SPEC)
SAMPLE_IGNORED = ".auto-claude/\n__pycache__/\n"
"""The spec dir is ignored, as upstream's ``.auto-claude/`` is; Python's caches (the
verification imports the package) would otherwise land in the subtasks' commits."""
SAMPLE_COMMITTER = (
    "user.name=agent-tui demo",
    "user.email=demo@agent-tui.invalid",
    "commit.gpgsign=false",
)
"""The sample's first commit is the demo's, made the same on every machine: the user's
identity is not asked for, and their signing setup (which may prompt) is not used."""


class DemoWorkspaceError(Exception):
    """The demo cannot be laid out where it was asked to be; the message says why."""


@dataclass
class DemoWorkspace:
    root: Path
    project_dir: Path
    spec_dir: Path
    profiles: ProfileStore
    home: Path
    owns_root: bool = False
    tokens: dict[str, str] = field(default_factory=dict)
    lock: RunLock | None = None
    """Held while the demo runs: a second demo in the same --workdir would delete its project."""
    worktrees_dir: Path | None = None
    """Where the run keeps the sample's worktree.  A temp-dir demo's own root, removed with
    it, so nothing is left in agent-tui's data dir; None (the data dir) for a --workdir
    demo, whose work stays where ``agent-tui diff`` and ``merge`` look for it."""
    in_place_reason: str = ""
    """Why the sample is not a git repository (the run then works on it in place)."""

    @property
    def repository(self) -> bool:
        return not self.in_place_reason

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def _copy_tree(source: resources.abc.Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def create_workspace(root: Path | None = None) -> DemoWorkspace:
    """Lay out a fresh sample project and two demo profiles under ``root`` (a temp dir if None).

    A ``root`` an earlier demo set up is reused: its sample project starts afresh.  Any other
    directory must be new or empty: what is in it is the user's, and is left alone
    (``DemoWorkspaceError``).
    """
    owns_root = root is None
    where = tempfile.gettempdir() if root is None else root
    try:
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="agent-tui-demo-"))
        else:
            root = root.resolve()
            _claim(root)
        lock = _hold(root)
        workspace = _lay_out(root, owns_root)
        workspace.lock = lock
        return workspace
    except OSError as exc:
        reason = exc.strerror or str(exc)
        path = f" ({exc.filename})" if exc.filename else ""
        raise DemoWorkspaceError(f"cannot set up the demo in {where}: {reason}{path}") from None


def _claim(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise DemoWorkspaceError(f"{root} is not a directory: give --workdir a directory")
    root.mkdir(parents=True, exist_ok=True)
    marker = root / DEMO_MARKER
    if marker.exists():
        return
    if any(root.iterdir()):
        raise DemoWorkspaceError(
            f"{root} is not empty and no earlier demo used it: "
            "give --workdir an empty or new directory"
        )
    marker.write_text(
        "made by agent-tui demo: each run lays out greeter/ and profiles/ here afresh "
        "(home/ is the CLI's, kept)\n"
    )


def _hold(root: Path) -> RunLock:
    lock = RunLock(root)
    try:
        lock.acquire()
    except SpecBusy:
        raise DemoWorkspaceError(
            f"another agent-tui demo is using {root}: stop it first, or give another --workdir"
        ) from None
    return lock


def _lay_out(root: Path, owns_root: bool) -> DemoWorkspace:
    sample = resources.files("agent_tui.sim").joinpath("sample")
    project_dir = root / "greeter"
    if project_dir.exists():
        _remove_worktrees(project_dir)
        shutil.rmtree(project_dir)
    _copy_tree(sample.joinpath("project"), project_dir)
    spec_dir = project_dir / ".auto-claude" / "specs" / DEMO_SPEC
    _copy_tree(sample.joinpath("spec"), spec_dir)
    in_place_reason = _make_repository(project_dir)
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    profiles = []
    tokens = {}
    expires_ms = int((time.time() + 7 * 24 * 3600) * 1000)
    for name in DEMO_PROFILES:
        config_dir = root / "profiles" / name
        token = f"sk-ant-oat01-demo-{name}-not-a-real-token"
        payload = {
            "claudeAiOauth": {
                "accessToken": token,
                "refreshToken": f"sk-ant-ort01-demo-{name}-not-a-real-token",
                "expiresAt": expires_ms,
                "scopes": ["user:inference"],
                "subscriptionType": "demo",
            }
        }
        atomic_write_text(config_dir / ".credentials.json", json.dumps(payload), mode=0o600)
        profiles.append(Profile(name=name, config_dir=str(config_dir), description="demo profile"))
        tokens[name] = token
    store = ProfileStore.in_memory(profiles, active=DEMO_PROFILES[0])
    return DemoWorkspace(
        root,
        project_dir,
        spec_dir,
        store,
        home,
        owns_root,
        tokens,
        worktrees_dir=root / "worktrees" if owns_root else None,
        in_place_reason=in_place_reason,
    )


def _make_repository(project_dir: Path) -> str:
    """Make the sample a git repository with one commit (its own, even in a --workdir
    inside a repository of the user's); "" when done, else why the run works in place.
    No template is copied, so the repository has no hook."""
    if not git_installed():
        return "git is not installed"
    (project_dir / ".gitignore").write_text(SAMPLE_IGNORED)
    git = Git(project_dir)
    try:
        git.run("init", "--quiet", "--template=")
        git.run("symbolic-ref", "HEAD", "refs/heads/main")  # whatever init.defaultBranch says
        git.run("add", "--all")
        git.run("commit", "--quiet", "-m", "The greeter sample", config=SAMPLE_COMMITTER)
    except GitError as exc:
        shutil.rmtree(project_dir / ".git", ignore_errors=True)
        (project_dir / ".gitignore").unlink()
        return f"git could not make the sample a repository: {exc}"
    return ""


def _remove_worktrees(project_dir: Path) -> None:
    """Remove the worktrees an earlier run made of the demo's sample, before the sample is
    replaced: one kept in agent-tui's data dir would otherwise be left there, in the way
    of the next run's.  Only agent-tui's branches' worktrees: another is the user's."""
    if not (project_dir / ".git").is_dir() or not git_installed():
        return
    # Pinned to the sample's own .git: a broken one (a removal cut short) must not send git
    # up to a repository around the workdir, whose worktrees are the user's.
    git = Git(project_dir, git_dir=project_dir / ".git", work_tree=project_dir)
    try:
        top = git.run("rev-parse", "--show-toplevel").text.strip()
        entries = registered_worktrees(git)
    except GitError:
        return  # not a repository git can read: it goes with the sample
    if Path(top).resolve() != project_dir.resolve():
        return
    for entry in entries:
        if not entry.main and entry.branch == DEMO_BRANCH:
            git.run("worktree", "remove", "--force", "--force", str(entry.path), check=False)


def demo_config(workspace: DemoWorkspace, sim: SimServer, **overrides: object) -> LoopConfig:
    reason = workspace.in_place_reason
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        workspace=in_place(workspace.project_dir, workspace.spec_dir, reason) if reason else None,
        worktrees_dir=workspace.worktrees_dir,
        model=DEMO_MODEL,
        pause_between_s=1.0,
        idle_timeout_s=120.0,
        extra_env={
            "ANTHROPIC_BASE_URL": sim.base_url,
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(workspace.home),
        },
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def demo_loop(
    workspace: DemoWorkspace, config: LoopConfig, sink: ev.EventSink, clock: Clock | None = None
) -> CoderLoop:
    """The coder loop on the sample.  On a repository a notice at the run's end says what
    becomes of the work.  It comes just before ``loop_finished``, not after: headless
    takes that to be the last event (a reader gone by then stops nothing)."""

    async def with_ending(event: ev.Event) -> None:
        if isinstance(event, ev.LoopFinished) and workspace.repository:
            await sink(ev.Notice(level="info", message=f"demo: {ending_notice(workspace)}"))
        await sink(event)

    return CoderLoop(config, workspace.profiles, with_ending, clock=clock)


def ending_notice(workspace: DemoWorkspace) -> str:
    if workspace.owns_root:
        return (
            f"{DEMO_BRANCH} and its worktree go with the demo's temp dir when it ends; "
            "agent-tui demo --workdir DIR keeps them, to try agent-tui diff and merge"
        )
    return f"the work is on {DEMO_BRANCH}: {review_commands(workspace.project_dir)}"


def review_commands(project_dir: Path) -> str:
    """How to review and finish the demo's work, as commands that run as printed."""
    return ", ".join(
        f"{command} {what}" for command, what in finish_steps(project_dir, None, "main")
    )


def start_sim(scenario: Scenario | None = None) -> SimServer:
    return SimServer(scenario or Scenario.bundled("demo")).start()
