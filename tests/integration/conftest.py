"""Integration fixtures: the real SDK and bundled CLI against the sim, all state in tmp dirs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer

pytestmark = pytest.mark.integration

TOKEN_ENV = "AGENT_TUI_TEST_TOKEN"
TEST_API_KEY = "sk-ant-api03-integration-test-key"


@dataclass
class Run:
    project: Path
    spec_dir: Path
    sim: SimServer
    clock: VirtualClock
    events: list[ev.Event] = field(default_factory=list)
    exit_code: int | None = None
    on_event: Callable[[list[ev.Event]], None] | None = None

    def of(self, cls: type[ev.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    @property
    def plan(self) -> dict[str, Any]:
        return json.loads((self.spec_dir / "implementation_plan.json").read_text())

    def statuses(self) -> dict[str, str]:
        return {s["id"]: s["status"] for p in self.plan["phases"] for s in p["subtasks"]}


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """The CLI's HOME and config dir in tmp, so a test never reads a developer's login."""
    home = tmp_path / "home"
    home.mkdir()
    for name in (
        "ANTHROPIC_API_KEY",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "CLAUDE_CONFIG_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def make_run(tmp_path, isolated_home):
    """Build a project with a plan and a scenario; ``await run.go()`` runs the loop to its end."""
    servers: list[SimServer] = []

    def factory(
        plan: dict[str, Any] | None,
        scripts: list[dict[str, Any]],
        *,
        profiles: ProfileStore | None = None,
        environ: dict[str, str] | None = None,
        clock: Any = None,
        check_clock: Any = None,
        **config: Any,
    ):
        project = tmp_path / "project"
        spec_dir = project / ".auto-claude" / "specs" / "001-test"
        spec_dir.mkdir(parents=True)
        (spec_dir / "spec.md").write_text("# test spec\n")
        if plan is not None:
            (spec_dir / "implementation_plan.json").write_text(json.dumps(plan, indent=2) + "\n")
        sim = SimServer(Scenario.model_validate({"name": "test", "scripts": scripts})).start()
        servers.append(sim)
        # The sim's usage resets are real epoch seconds: the loop's calendar starts there too.
        clock = clock or VirtualClock(wall_start=time.time())
        run = Run(project, spec_dir, sim, clock)
        if profiles is None:
            config_dir = tmp_path / "claude-config"
            config_dir.mkdir()
            profile = Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)
            profiles = ProfileStore.in_memory([profile], active="test")
        env = {
            "ANTHROPIC_BASE_URL": sim.base_url,
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(isolated_home),
        }
        env.update(config.pop("extra_env", {}))
        options = {
            "model": "claude-sonnet-4-5",
            "pause_between_s": 0.0,
            "idle_timeout_s": 60.0,
            "pause_on_problem": False,
            **config,
        }
        loop_config = LoopConfig(project_dir=project, spec_dir=spec_dir, extra_env=env, **options)
        run.config = loop_config

        async def sink(event: ev.Event) -> None:
            run.events.append(event)
            if run.on_event is not None:
                run.on_event(run.events)

        async def go() -> Run:
            loop_environ = {TOKEN_ENV: TEST_API_KEY} if environ is None else environ
            loop = CoderLoop(
                loop_config,
                profiles,
                sink,
                clock=clock,
                environ=loop_environ,
                check_clock=check_clock,
            )
            run.loop = loop
            run.exit_code = await loop.run()
            return run

        run.go = go
        return run

    yield factory
    for server in servers:
        server.stop()
