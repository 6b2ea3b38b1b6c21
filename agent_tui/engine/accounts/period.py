"""A profile's billing period: the calendar month, or the month from a reset day.

A plan's monthly credit (and the budget the user sets for an account) resets once a month:
on the 1st (the calendar month), or on the day the user's billing cycle starts.  A reset day
past the end of a short month falls on its last day (the 31st in February is the 28th or
29th).  Periods begin at midnight in a time zone: the machine's local one unless one is
given, so a session at 23:30 on 31 January in New York counts in January there although it
is February in UTC.  Daylight-saving changes are the time zone's business: a period is from
one local midnight to the next period's.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, tzinfo

MONTH_NAMES = tuple(calendar.month_abbr)


@dataclass(frozen=True)
class Period:
    start: float
    """Epoch seconds: the first instant in it."""
    end: float
    """Epoch seconds: the first instant of the next one."""
    label: str
    """``June 2026``, or ``15 Jun to 14 Jul 2026`` for a cycle from a reset day."""
    next_reset: str
    """When the next one starts, in words: ``1 Jul``."""

    def holds(self, epoch_s: float) -> bool:
        return self.start <= epoch_s < self.end


def period_of(epoch_s: float, reset_day: int | None = None, tz: tzinfo | None = None) -> Period:
    """The period ``epoch_s`` falls in: its calendar month (``reset_day`` None or 1), else
    the month that began on the latest reset day at or before it.  ``tz`` None: local time."""
    day = reset_day or 1
    moment = datetime.fromtimestamp(epoch_s, tz)
    year, month = moment.year, moment.month
    if moment < _start(year, month, day, tz):
        year, month = _previous(year, month)
    start = _start(year, month, day, tz)
    end = _start(*_following(year, month), day, tz)
    if day == 1:
        label = f"{calendar.month_name[month]} {year}"
    else:
        last = datetime.fromtimestamp(end.timestamp() - 1, tz)
        label = (
            f"{start.day} {MONTH_NAMES[month]} to {last.day} {MONTH_NAMES[last.month]} {last.year}"
        )
    return Period(
        start=start.timestamp(),
        end=end.timestamp(),
        label=label,
        next_reset=f"{end.day} {MONTH_NAMES[end.month]}",
    )


def _start(year: int, month: int, day: int, tz: tzinfo | None) -> datetime:
    """Midnight of ``day`` (or the month's last day) in ``year``-``month``: naive (local)
    when ``tz`` is None, which ``timestamp()`` reads with the machine's daylight saving."""
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, min(day, last), tzinfo=tz)


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _following(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)
