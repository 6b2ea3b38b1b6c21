"""The session log as a Markdown file in the spec's ``logs/``: a heading per session, its
lines as they were shown, in a fence nothing in them can close."""

from __future__ import annotations

import re
import time
from pathlib import Path

from agent_tui.auth.redaction import redact
from agent_tui.files import atomic_write_text, real_dir

SESSION_START = re.compile(r"(?:L(\d+) )?── session (\d+): ")
"""The log's line for a session's start (``── session 3: coder subtask 1.3 …``; with
every lane shown, ``L2 ── session 3: …``)."""
BACKTICKS = re.compile(r"`+")


def log_markdown(lines: list[str], *, spec_dir: Path, saved_at: float, dropped: int) -> str:
    """``lines`` (the log as shown, oldest first) as Markdown, a heading per session.
    Everything in them came from the agent, the plan or a tool: it stays inside fences,
    masked again; the headings are ours (``## Session 3``, ``## Session 3 · lane 2``)."""
    lines = [redact(line) for line in lines]
    longest = max((len(run) for line in lines for run in BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved_at))
    out = ["# agent-tui session log", "", f"Saved {when} from the app, for the spec in {spec_dir}."]
    if dropped:
        out.append(
            f"Its first {dropped} lines had scrolled out of the app; each session's whole "
            "transcript is in `logs/session-NNN.jsonl`."
        )
    block: list[str] = []

    def close() -> None:
        if block:
            out.extend(["", f"{fence}text", *block, fence])
            block.clear()

    for line in lines:
        start = SESSION_START.match(line)
        if start is not None:
            close()
            lane = f" · lane {start.group(1)}" if start.group(1) else ""
            out.extend(["", f"## Session {start.group(2)}{lane}"])
        block.append(line)
    close()
    return "\n".join(out) + "\n"


def save_log(spec_dir: Path, markdown: str, saved_at: float) -> Path:
    """Write ``markdown`` to a new file in ``spec_dir/logs`` (a real directory, as for the
    transcripts), readable by the user alone, as the transcripts are; its path."""
    logs = real_dir(spec_dir / "logs")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(saved_at))
    path = logs / f"app-log-{stamp}.md"
    number = 1
    while path.exists():
        number += 1
        path = logs / f"app-log-{stamp}-{number}.md"
    atomic_write_text(path, markdown, mode=0o600)
    return path
