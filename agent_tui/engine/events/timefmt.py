"""Durations and instants in words, the same in the app, headless text and the CLI."""

from __future__ import annotations

import math
import time

SAME_DAY_S = 20 * 3600
"""An instant closer than this is shown as its time of day alone: it cannot be mistaken."""


def duration(seconds: float) -> str:
    """``45 s``, ``12 min 30 s``, ``2 h 09 min``: rounded up, so a wait is never undersold."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"
    hours, minutes = divmod(math.ceil(whole / 60), 60)
    return f"{hours} h {minutes:02d} min"


def countdown(seconds: float) -> str:
    """A ticking figure: ``42 s`` under 100 s, else ``1:02:03`` or ``4:05``."""
    whole = max(0, math.ceil(seconds))
    if whole < 100:
        return f"{whole:>2} s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def clock_time(epoch_s: float, now_epoch_s: float) -> str:
    """Local time of day (``20:50``) for an instant near ``now``; with the day when further."""
    moment = time.localtime(epoch_s)
    if abs(epoch_s - now_epoch_s) < SAME_DAY_S:
        return time.strftime("%H:%M", moment)
    return time.strftime("%a %d %b %H:%M", moment)
