"""What the agent writes never drives the user's terminal: escapes are gone before display."""

from __future__ import annotations

import json

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.headless import format_json, format_text
from agent_tui.text import printable

HOSTILE = [
    "\x1b]0;pwned title\x07",  # OSC: window title
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # OSC 52: clipboard
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink, ST-terminated
    "\x1b[2J\x1b[H",  # CSI: clear, home
    "\x9b31m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC
    "\x1bP1$qm\x1b\\",  # DCS
    "bell\x07 back\x08 cr\r del\x7f",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_sequences_and_controls_are_removed(text):
    shown = printable(f"before {text} after")
    assert shown.startswith("before ") and shown.endswith(" after")
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


def test_newlines_tabs_and_unicode_stay():
    assert printable("line 1\n\tline 2 — ✓ é") == "line 1\n\tline 2 — ✓ é"


@pytest.mark.parametrize("text", HOSTILE)
def test_no_event_carries_an_escape_to_headless_output(text):
    events = [
        ev.ToolResult(session=1, tool_use_id="t", is_error=False, summary=f"out {text}"),
        ev.AssistantText(session=1, text=f"said {text}"),
        ev.PlanLoaded(
            spec_dir="/s",
            feature=f"feature {text}",
            phases=(
                ev.PhaseView(
                    id="1",
                    name=f"phase {text}",
                    subtasks=(
                        ev.SubtaskView(
                            id="1.1", description=f"d {text}", status="pending", phase_id="1"
                        ),
                    ),
                ),
            ),
            total=1,
            completed=0,
        ),
    ]
    for event in events:
        for line in (format_text(event) or "", format_json(event)):
            assert "\x1b" not in line and "\x9b" not in line and "\x07" not in line
        assert "\x1b" not in json.dumps(event.to_dict(), ensure_ascii=False)
