"""Text for the user's screen: made safe for a terminal, and counts read as English.

What the agent prints (a Bash output, a plan field it wrote) reaches the user's terminal
through the app and headless mode; an OSC sequence there retitles the terminal or writes
its clipboard (OSC 52), a CSI one clears or moves the screen.  Newlines and tabs stay.
"""

from __future__ import annotations

import re

_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC … BEL or ST
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC … ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c)?"  # 8-bit DCS, SOS, OSC, PM, APC
    r"|\x1b[\x20-\x7e]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (``\\n``, ``\\t`` kept)."""
    if text.isprintable():
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, the noun in the plural unless the number is one."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def every(number: int, noun: str) -> str:
    """``all 5 subtasks``; of one, ``the one subtask`` (not ``all 1 subtask``)."""
    return f"the one {noun}" if number == 1 else f"all {counted(number, noun)}"
