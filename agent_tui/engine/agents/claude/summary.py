"""One-line summaries of tool calls and results for the log: masked, then cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_tui.auth.redaction import redact

SUMMARY_WIDTH = 100


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


def summarize_result(content: Any, cwd: Path | None = None) -> str:
    if isinstance(content, list):
        content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    text = str(content or "")
    if cwd is not None:
        text = text.replace(str(cwd) + "/", "")
    return _one_line(text)
