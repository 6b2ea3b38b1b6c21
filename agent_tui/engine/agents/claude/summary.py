"""One-line summaries of tool calls and results for the log: masked, then cut."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent_tui.auth.redaction import redact

SUMMARY_WIDTH = 100
CLI_NOTES = (" (file state is current in your context — no need to Read it back)",)
"""What the CLI appends to a tool result for the model, not for the user: left out."""
_NUMBERED = re.compile(r"\s*(\d+)(?:\t|→)(.*)")
"""A line of a file as Read returns it: its number, a tab (an arrow in older CLIs), the line."""


def summarize_tool(name: str, tool_input: dict[str, Any], cwd: Path | None = None) -> str:
    """One line that says what a tool call does: its path, command or pattern."""
    value: Any = None
    for key in ("command", "file_path", "notebook_path", "pattern", "path", "url", "query"):
        if tool_input.get(key):
            value = tool_input[key]
            break
    if value is None:
        value = next((v for v in tool_input.values() if isinstance(v, str) and v), "")
    text = str(value)
    if cwd is not None and text.startswith(str(cwd) + "/"):
        text = text[len(str(cwd)) + 1 :]
    return _one_line(text)


def _one_line(text: str) -> str:
    """Masked first, then cut: a token cut short would no longer look like one."""
    text = redact(" ".join(text.split()))
    if len(text) > SUMMARY_WIDTH:
        text = text[: SUMMARY_WIDTH - 1] + "…"
    return text


def summarize_result(content: Any, cwd: Path | None = None, tool: str | None = None) -> str:
    """One line for a tool's result; ``tool`` is the name of the tool that returned it."""
    if isinstance(content, list):
        content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    text = str(content or "")
    if cwd is not None:
        text = text.replace(str(cwd) + "/", "")
    for note in CLI_NOTES:
        text = text.replace(note, "")
    if tool == "Read":
        lines = _lines_read(text)
        if lines is not None:
            return lines
    return _one_line(text)


def _lines_read(text: str) -> str | None:
    """Which lines a file read returned (``5 lines``, ``lines 40-80``), rather than the
    file run together with its line numbers; None when ``text`` is not a numbered file."""
    numbered = []
    for row in text.splitlines():
        match = _NUMBERED.fullmatch(row)
        if match is None:
            break
        numbered.append((int(match.group(1)), match.group(2)))
    if len(numbered) > 1 and not numbered[-1][1]:
        numbered.pop()  # the CLI numbers the empty line after a file's last newline
    if not numbered:
        return None
    first, last = numbered[0][0], numbered[-1][0]
    if first == 1:
        return "1 line" if last == 1 else f"{last} lines"
    return f"lines {first}-{last}"
