"""A profile's usage window, as the CLI last reported it (``RateLimitEvent``).

A subscription's five-hour and seven-day windows belong to the account, not to a run (the
book of them, on disk, is ``quota_book``).  Every time here is epoch seconds, the CLI's
``resetsAt``; turning one into a wait on the loop's clock is the loop's business.  Light to
import: the events module, loaded before the app's first frame, uses it.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from agent_tui.engine.events.record import Record
from agent_tui.engine.events.timefmt import clock_time


class QuotaStatus(StrEnum):
    ALLOWED = "allowed"
    WARNING = "allowed_warning"
    """Allowed, but past a share of the window the API warns about."""
    REJECTED = "rejected"
    """The window is used up: requests fail until it resets."""


WINDOW_LABELS = {
    "five_hour": "5h",
    "seven_day": "7d",
    "seven_day_opus": "7d opus",
    "seven_day_sonnet": "7d sonnet",
    "overage": "overage",
}


class Quota(Record):
    """One profile's window as last reported; ``utilization`` is the share used, 0 to 1."""

    status: QuotaStatus
    window: str | None = None
    utilization: float | None = None
    resets_at: float | None = None
    seen_at: float = 0.0

    def exhausted_until(self, wall: float) -> float | None:
        """The reset of a used-up window still closed at ``wall``; None when it is open
        (or its reset is unknown: nothing to wait for)."""
        if self.status != QuotaStatus.REJECTED or self.resets_at is None:
            return None
        return self.resets_at if self.resets_at > wall else None

    def used(self, wall: float) -> float:
        """The share of the window used at ``wall``: 0 once it has reset, 0 when unknown."""
        if self.resets_at is not None and self.resets_at <= wall:
            return 0.0
        if self.status == QuotaStatus.REJECTED:
            return 1.0
        return self.utilization or 0.0

    @property
    def label(self) -> str:
        return WINDOW_LABELS.get(self.window or "", self.window or "usage")


def from_rate_limit_info(info: Any, seen_at: float) -> Quota | None:
    """The ``Quota`` an SDK ``RateLimitInfo`` reports (None for a status this code does not
    know).  The share used is the window's own, in ``raw["unifiedWindows"]``, when the
    top-level field is absent, as it is on an ``allowed`` status."""
    try:
        status = QuotaStatus(info.status)
    except ValueError:
        return None
    window = info.rate_limit_type if isinstance(info.rate_limit_type, str) else None
    utilization = _number(info.utilization)
    raw = info.raw if isinstance(info.raw, dict) else {}
    windows = raw.get("unifiedWindows")
    if utilization is None and isinstance(windows, dict) and isinstance(windows.get(window), dict):
        utilization = _number(windows[window].get("utilization"))
    return Quota(
        status=status,
        window=window,
        utilization=utilization,
        resets_at=_number(info.resets_at),
        seen_at=seen_at,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def quota_text(quota: Quota | None, wall: float) -> str:
    """A few words for a status line or a listing: ``5h 91% · resets 20:50``."""
    if quota is None:
        return "usage unknown"
    label = quota.label
    if quota.resets_at is None:
        if quota.status == QuotaStatus.REJECTED:
            return f"{label} limit reached · reset unknown"
        return f"{label} {_share(quota)}"
    when = clock_time(quota.resets_at, wall)
    if quota.resets_at <= wall:
        return f"{label} window reset at {when}"
    if quota.status == QuotaStatus.REJECTED:
        return f"{label} limit reached · resets {when}"
    return f"{label} {_share(quota)} · resets {when}"


def _share(quota: Quota) -> str:
    if quota.utilization is not None:
        return f"{math.floor(quota.utilization * 100)}%"
    return "near its limit" if quota.status == QuotaStatus.WARNING else "allowed"
