"""Counts in sentences the user reads: ``1 subtask``, ``5 subtasks``."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, the noun in the plural unless the number is one."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
