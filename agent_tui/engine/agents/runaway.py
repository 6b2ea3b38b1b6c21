"""A session that runs away: the same tool call over and over, or a context that keeps
growing turn after turn while no file changes.

Either bills the whole context again every turn, so a runaway can spend a month's credit in
an hour.  The detector is told each tool call, each file-changing call that succeeded and
each reply's input tokens; it says why to stop, once.  A file changed by another call is
progress: repeats of everything else start counting afresh (running the tests again after
an edit is no runaway), and the context's growth is measured from there.  The next prompt
of the subtask says why its last session was stopped (``runaway_prompt``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from agent_tui.engine.failures.kinds import ErrorKind
from agent_tui.engine.prompts import render
from agent_tui.engine.sandbox.guard import WRITE_TOOLS
from agent_tui.text import printable

RUNAWAY_PREFIX = "runaway: "
"""How a runaway session's message begins (its reason follows)."""
SHOWN_INPUT_CHARS = 120
"""How much of a repeated call's input the reason quotes."""


@dataclass(frozen=True)
class RunawayLimits:
    repeats: int = 8
    """The same call (tool and input) this many times with no other file change: stopped.
    0: never."""
    token_growth: int = 100_000
    """A reply's input tokens this many above the first reply after the last file change
    (or the session's first): stopped.  0: never."""


@dataclass
class RunawayDetector:
    limits: RunawayLimits
    _calls: Counter[str] = field(default_factory=Counter)
    _baseline: int | None = None
    reason: str | None = None
    """Why the session must stop (set once)."""

    def tool_call(self, name: str, tool_input: Any) -> str | None:
        """A tool call the model made; the reason to stop, the first time there is one."""
        limit = self.limits.repeats
        if self.reason is not None or limit <= 0:
            return None
        key = _call_key(name, tool_input)
        self._calls[key] += 1
        if self._calls[key] >= limit:
            return self._stop(
                f"it made the same {name} call {self._calls[key]} times "
                f"({_shown(tool_input)}) with no other file changed"
            )
        return None

    def file_changed(self, name: str, tool_input: Any) -> None:
        """A call that changed a file succeeded: progress."""
        key = _call_key(name, tool_input)
        kept = self._calls[key]
        self._calls.clear()
        self._calls[key] = kept  # the same edit over and over still counts
        self._baseline = None

    def reply(self, input_tokens: int) -> str | None:
        """A reply's input tokens (its whole context); the reason to stop, once."""
        limit = self.limits.token_growth
        if self.reason is not None or limit <= 0 or input_tokens <= 0:
            return None
        if self._baseline is None:
            self._baseline = input_tokens
            return None
        grown = input_tokens - self._baseline
        if grown >= limit:
            return self._stop(
                f"its context grew by {grown:,} tokens (to {input_tokens:,} per turn) "
                "with no file changed"
            )
        return None

    def _stop(self, reason: str) -> str:
        self.reason = reason
        return reason


def changes_files(name: str) -> bool:
    """A tool whose success changes a file (Bash may too, unseen: it counts as no change)."""
    return name in WRITE_TOOLS


def _call_key(name: str, tool_input: Any) -> str:
    return name + "\0" + json.dumps(tool_input, sort_keys=True, default=str)


def _shown(tool_input: Any) -> str:
    if isinstance(tool_input, dict) and isinstance(tool_input.get("command"), str):
        text = tool_input["command"]
    else:
        text = json.dumps(tool_input, sort_keys=True, default=str)
    text = printable(" ".join(text.split()))
    return text if len(text) <= SHOWN_INPUT_CHARS else text[: SHOWN_INPUT_CHARS - 1] + "…"


def runaway_prompt(attempts: list[dict[str, Any]]) -> str:
    """The next prompt's part when the subtask's last session was stopped as a runaway."""
    last = attempts[-1] if attempts else None
    if last is None or last.get("error_kind") != ErrorKind.RUNAWAY:
        return ""
    reason = str(last.get("message") or "it ran away").removeprefix(RUNAWAY_PREFIX)
    return render("runaway", reason=reason)
