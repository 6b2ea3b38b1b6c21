"""The session log saved as Markdown: every line the agent wrote stays inside a fence."""

from __future__ import annotations

import os

import pytest

from agent_tui.files import LinkRefused
from agent_tui.tui.log_markdown import log_markdown, save_log

TOKEN = "sk-ant-oat01-CANARY7777canary7777CANARY7777zzZZ"
LINES = [
    "  ◆ workspace: in place",
    "── session 1: coder subtask 1.1  profile a, attempt 1  → logs/session-001.jsonl",
    "# not a heading: the agent's words",
    "  ▶ Bash echo ```` and ![x](https://example.com/x.png)",
    "── session 1 success, $0.0100",
    "── session 2: coder subtask 1.2  profile a, attempt 1  → logs/session-002.jsonl",
    f"  ◀ export KEY={TOKEN}",
]


def outside_fences(text: str, fence: str) -> list[str]:
    """The lines a Markdown reader would render as Markdown (not inside a fence)."""
    outside, inside = [], False
    for line in text.splitlines():
        if line in (fence, f"{fence}text"):
            inside = not inside
        elif not inside:
            outside.append(line)
    return outside


def test_each_session_gets_our_heading_and_its_lines_stay_in_a_fence_they_cannot_close():
    text = log_markdown(LINES, spec_dir="/p/spec", saved_at=0.0, dropped=0)
    fence = "`````"  # longer than the longest run of backticks in the lines
    assert text.count(f"{fence}text\n") == 3  # before session 1, session 1, session 2
    outside = outside_fences(text, fence)
    assert [line for line in outside if line.startswith("#")] == [
        "# agent-tui session log",
        "## Session 1",
        "## Session 2",
    ]
    assert not any("example.com" in line or "not a heading" in line for line in outside)
    assert any("/p/spec" in line for line in outside)


def test_with_every_lane_shown_each_sessions_start_gets_a_heading_naming_its_lane():
    # Found by a newcomer: a lanes run's saved log was one block, its lines "L1 ── session…"
    lines = [
        "L1 ── session 3: coder subtask 1.1  profile a, attempt 1  → logs/session-003.jsonl",
        "L2 ── session 4: coder subtask 2.1  profile a, attempt 1  → logs/session-004.jsonl",
        "L1   ▶ Write f.txt",
        "L12 ── not a session start: L12 names no lane here",
    ]
    text = log_markdown(lines, spec_dir="/p/spec", saved_at=0.0, dropped=0)
    headings = [line for line in outside_fences(text, "```") if line.startswith("## ")]
    assert headings == ["## Session 3 · lane 1", "## Session 4 · lane 2"]


def test_a_saved_log_is_masked_again_and_says_what_scrolled_out():
    text = log_markdown(LINES, spec_dir="/p/spec", saved_at=0.0, dropped=120)
    assert TOKEN not in text and "sk-ant-oat01-…zzZZ" in text
    assert "Its first 120 lines had scrolled out" in text


def test_save_log_writes_a_new_file_for_the_user_alone_each_time(tmp_path):
    first = save_log(tmp_path, "one\n", 1_700_000_000.0)
    second = save_log(tmp_path, "two\n", 1_700_000_000.0)
    assert first.parent == second.parent == tmp_path / "logs" and first != second
    assert first.read_text() == "one\n" and second.read_text() == "two\n"
    assert os.stat(first).st_mode & 0o777 == 0o600


def test_save_log_refuses_a_logs_dir_that_is_a_link(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "logs").symlink_to(elsewhere)
    with pytest.raises(LinkRefused):
        save_log(spec, "x\n", 0.0)
    assert list(elsewhere.iterdir()) == []
