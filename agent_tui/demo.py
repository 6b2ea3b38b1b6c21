"""The demo: the bundled sample project, two throwaway profiles, and the sim on 127.0.0.1.

Nothing here needs credentials or a network: the real bundled Claude Code CLI talks to the
scripted Messages API, really edits the sample project, and marks subtasks in its plan.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from agent_tui.atomic import atomic_write_text
from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.loop import LoopConfig
from agent_tui.engine.runlock import RunLock, SpecBusy
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from agent_tui.workspace.location import in_place

DEMO_SPEC = "001-greeter"
DEMO_MODEL = "claude-sonnet-4-5"
DEMO_PROFILES = ("demo-a", "demo-b")
DEMO_MARKER = ".agent-tui-demo"
"""In a ``--workdir`` the demo has set up: only then may it replace what it made there."""


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
        shutil.rmtree(project_dir)
    _copy_tree(sample.joinpath("project"), project_dir)
    spec_dir = project_dir / ".auto-claude" / "specs" / DEMO_SPEC
    _copy_tree(sample.joinpath("spec"), spec_dir)
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
    return DemoWorkspace(root, project_dir, spec_dir, store, home, owns_root, tokens)


def demo_config(workspace: DemoWorkspace, sim: SimServer, **overrides: object) -> LoopConfig:
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        # Its own sample project, even in a --workdir inside a repository of the user's.
        workspace=in_place(workspace.project_dir, workspace.spec_dir, "the demo's sample"),
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


def start_sim(scenario: Scenario | None = None) -> SimServer:
    return SimServer(scenario or Scenario.bundled("demo")).start()
