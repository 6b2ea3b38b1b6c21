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
    "overage": "usage credits",
}
CREDIT_WINDOW = "overage"
"""The CLI's name for usage credits: what a used-up credit or spend cap is kept under."""


class LimitKind(StrEnum):
    """What a rejection reported by the CLI says ran out."""

    WINDOW = "window"
    """A usage window (five hours, seven days…): it opens again at its reset."""
    CREDIT = "credit"
    """Usage credits, or a spend cap (the user's, the organisation's): paid for, not waited
    out (a monthly reset, if any)."""
    TRANSIENT = "transient"
    """Plain throttling, or the server could not check the account: no limit of the account."""


class Quota(Record):
    """One profile's window as last reported; ``utilization`` is the share used, 0 to 1."""

    status: QuotaStatus
    window: str | None = None
    utilization: float | None = None
    resets_at: float | None = None
    seen_at: float = 0.0

    def exhausted_until(self, wall: float) -> float | None:
        """The reset of a used-up window still closed at ``wall``; None when it is open
        (or its reset is unknown: nothing to wait for).  Used-up usage credits are no window
        to wait for: they can be bought again at any time, and a try costs nothing."""
        if self.status != QuotaStatus.REJECTED or self.resets_at is None:
            return None
        if self.window == CREDIT_WINDOW:
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


def limit_kind(info: Any) -> LimitKind | None:
    """What an SDK ``RateLimitInfo`` says ran out; None when it reports no rejection.

    The CLI sends a window's name (``five_hour``…) for a window, ``overage`` (or none, with
    an overage field) for usage credits and spend caps, and a bare ``rejected`` for plain
    throttling; ``fetch_error`` means the server could not read its counter."""
    if info.status != QuotaStatus.REJECTED:
        return None
    raw = _raw(info)
    if raw.get("errorCode") == "credits_required" or raw.get("dailyCapPaused"):
        return LimitKind.CREDIT
    window = info.rate_limit_type if isinstance(info.rate_limit_type, str) else None
    if window == CREDIT_WINDOW:
        return LimitKind.CREDIT
    if window is not None:
        return LimitKind.WINDOW
    reason = info.overage_disabled_reason
    if info.overage_status == QuotaStatus.REJECTED or reason not in (
        None,
        "fetch_error",
        "unknown",
    ):
        return LimitKind.CREDIT
    return LimitKind.TRANSIENT


def on_credits(info: Any) -> bool:
    """A window is used up, yet requests succeed, billed to usage credits."""
    overage = info.overage_status in (QuotaStatus.ALLOWED, QuotaStatus.WARNING)
    return info.status == QuotaStatus.REJECTED and (
        overage or _raw(info).get("isUsingOverage") is True
    )


def _raw(info: Any) -> dict[str, Any]:
    return info.raw if isinstance(info.raw, dict) else {}


def from_rate_limit_info(info: Any, seen_at: float) -> Quota | None:
    """The ``Quota`` an SDK ``RateLimitInfo`` reports (None for a status this code does not
    know, and for a rejection that is no limit of the account).  The share used is the
    window's own, in ``raw["unifiedWindows"]``, when the top-level field is absent, as it is
    on an ``allowed`` status.  A window used up while requests go on, on usage credits, is
    kept as the credits' (open), not as an exhausted window; a used-up credit or spend cap
    as the credits' (rejected)."""
    try:
        status = QuotaStatus(info.status)
    except ValueError:
        return None
    if on_credits(info):
        warned = info.overage_status == QuotaStatus.WARNING
        return Quota(
            status=QuotaStatus.WARNING if warned else QuotaStatus.ALLOWED,
            window=CREDIT_WINDOW,
            resets_at=_number(info.overage_resets_at),
            seen_at=seen_at,
        )
    kind = limit_kind(info)
    if kind == LimitKind.TRANSIENT:
        return None
    if kind == LimitKind.CREDIT:
        return Quota(
            status=QuotaStatus.REJECTED,
            window=CREDIT_WINDOW,
            resets_at=_number(info.resets_at) or _number(info.overage_resets_at),
            seen_at=seen_at,
        )
    window = info.rate_limit_type if isinstance(info.rate_limit_type, str) else None
    utilization = _number(info.utilization)
    raw = _raw(info)
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
