"""A canary token the agent prints and echoes never reaches stdout, transcripts or events."""

from __future__ import annotations

import io
import json

from agent_tui.engine.events import core as ev
from agent_tui.headless import format_json, format_text
from tests.integration.helpers import coder_steps, plan_doc, script

CANARY = "sk-ant-oat01-CANARYcanaryCANARY0123456789abc"


async def test_canary_is_masked_everywhere(make_run, capsys):
    leak = [
        {
            "text": f"My token is {CANARY} oops.",
            "tools": [
                {"name": "Bash", "input": {"command": f"echo {CANARY}", "description": "print it"}}
            ],
        }
    ]
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [leak + coder_steps("1.1")])],
        environ={"AGENT_TUI_TEST_TOKEN": CANARY},
    )
    await run.go()
    assert run.exit_code == 0

    rendered = io.StringIO()
    for event in run.events:
        rendered.write(format_json(event) + "\n")
        rendered.write((format_text(event) or "") + "\n")
        rendered.write(repr(event) + "\n")
    assert CANARY not in rendered.getvalue()
    assert "sk-ant-oat01-…9abc" in rendered.getvalue()
    for transcript in (run.spec_dir / "logs").glob("*.jsonl"):
        text = transcript.read_text()
        assert CANARY not in text
        assert all(json.loads(line) for line in text.splitlines())
    assert CANARY not in (run.spec_dir / "memory" / "attempt_history.json").read_text()
    assert CANARY not in capsys.readouterr().out
    assert any(isinstance(e, ev.ToolResult) and "…9abc" in e.summary for e in run.events)
    assert {r.bearer or r.api_key for r in run.sim.requests} == {CANARY}  # it was really used
