"""Profiles read again mid-run (the ``a`` key): the read denies follow the profiles, while
how the run is contained (mode, hosts, tools) stays as it was decided at the start."""

from __future__ import annotations

import json

import pytest

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.workspace.location import in_place
from tests.unit.loop_harness import ScriptedSessions, mark_completed, of, write_plan


def write_profiles(path, mode: str, profiles: list[dict] | None = None) -> None:
    settings = {"containment": mode, "allowed_hosts": ["pypi.org"], "extra_tools": []}
    if mode == "off":
        settings["allowed_hosts"] = []
    path.write_text(json.dumps({"profiles": profiles or [], "settings": settings}))


@pytest.mark.parametrize(
    ("sandbox", "changed_to"),
    [(SandboxCheck(), "off"), (SandboxCheck(("socat not installed",)), "required")],
)
async def test_a_reload_mid_run_keeps_the_containment_the_run_began_with(
    tmp_path, sandbox, changed_to
):
    store_path = tmp_path / "profiles.json"
    write_profiles(store_path, "auto")
    spec_dir = tmp_path / "project" / ".auto-claude" / "specs" / "001-x"
    write_plan(spec_dir, ["1.1", "1.2"])
    plan_path = spec_dir / "implementation_plan.json"
    added_dir = tmp_path / "added-config"
    added_dir.mkdir()
    events: list[ev.Event] = []
    reloads: list[str | None] = []

    async def sink(event: ev.Event) -> None:
        events.append(event)

    def settings_changed_elsewhere_then_a(spec, n: int) -> SessionOutcome:
        if n == 1:  # ``settings set`` in another terminal, and a profile added
            added = [{"name": "added", "config_dir": str(added_dir)}]
            write_profiles(store_path, changed_to, added)
            reloads.append(loop.reload_profiles())
        mark_completed(plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success")

    sessions = ScriptedSessions(plan_path, settings_changed_elsewhere_then_a)
    project = tmp_path / "project"
    config = LoopConfig(
        project_dir=project,
        spec_dir=spec_dir,
        sandbox=sandbox,
        workspace=in_place(project, spec_dir, "not a git repository"),
    )
    loop = CoderLoop(
        config, ProfileStore.load(store_path), sink, clock=VirtualClock(), session_factory=sessions
    )
    assert await loop.run() == 0
    assert reloads == [None]
    first, second = (spec.containment for spec in sessions.specs)
    assert (second.mode, second.sandboxed) == (first.mode, first.sandboxed)
    assert second.allowed_hosts == first.allowed_hosts == ("pypi.org",)
    assert str(added_dir) in second.read_denied and str(added_dir) not in first.read_denied
    assert len(of(events, ev.ContainmentStatus)) == 1  # and it is still true
