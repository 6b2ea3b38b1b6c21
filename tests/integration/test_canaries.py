"""Three canary tokens, three profiles (a .credentials.json, a keychain entry, a token
variable), each in turn the active one: the agent reaches for all of them, and none shows
in what the model receives, on screen, in events, transcripts or the history."""

from __future__ import annotations

import io

import pytest

from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.headless import format_json, format_text
from agent_tui.tui.app import AgentApp
from tests.integration import test_containment_attacks as attacks
from tests.integration.containment_setup import CANARIES, CANARY_CORES, hostile_setting
from tests.integration.helpers import coder_steps
from tests.tui.conftest import screen_text, wait_until

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("active", ["file", "keychain", "env"])
async def test_no_canary_shows_anywhere(tmp_path, monkeypatch, memory_keyring, active):
    for name in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    hostile = hostile_setting(tmp_path, monkeypatch, memory_keyring, active=active)
    hostile.write_plan(["1.1"])
    own = CANARIES[active]
    leak = {"text": f"Look: {own}…", "tools": [{"name": "Bash", "input": {"command": "true"}}]}
    steps = [*attacks._read_stores(hostile), *attacks._environment(hostile), leak]
    sim = hostile.start({"1.1": [[*steps, *coder_steps("1.1")]]})
    clock = VirtualClock()
    app = AgentApp(lambda sink: hostile.loop(sink, clock), clock=clock)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(pilot, lambda: app.exit_code is not None, "the run to finish")
            await pilot.pause()
            log = app.main_screen.log_view
            lines = ["".join(segment.text for segment in strip) for strip in log.lines]
            shown = screen_text(app.screen) + "\n".join(lines)
            screenshot = app.export_screenshot()
    finally:
        hostile.evil.stop()
        sim.stop()

    assert app.exit_code == 0
    assert next(e for e in hostile.events if isinstance(e, ev.ContainmentStatus)).sandboxed
    used = {r.bearer for r in sim.requests if r.bearer}
    assert used == {own}  # the active profile's token really was the session's
    rendered = io.StringIO()
    for event in hostile.events:
        rendered.write(f"{format_json(event)}\n{format_text(event) or ''}\n{event!r}\n")
    records = [p.read_text() for p in (hostile.spec_dir / "logs").glob("*.jsonl")]
    records.append((hostile.spec_dir / "memory" / "attempt_history.json").read_text())
    places = {
        "what the model received": "\n".join(
            hostile.tool_results + [r.prompt for r in sim.requests]
        ),
        "the screen": shown + screenshot,
        "events": rendered.getvalue(),
        "transcripts and history": "\n".join(records),
    }
    for where, text in places.items():
        for core in CANARY_CORES:
            assert core not in text, f"{core} in {where}"
    assert "Look: sk-ant-oat01-…" in rendered.getvalue()  # the model's own echo, masked
