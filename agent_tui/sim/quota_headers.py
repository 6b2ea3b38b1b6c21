"""The unified rate-limit headers a subscription's replies carry, for the sim to send.

With an OAuth token, the CLI turns them into ``RateLimitEvent`` messages whenever the
status changes (reference doc, section 5): a scenario that sets them drives the loop's
quota handling through the real CLI.
"""

from __future__ import annotations

import math
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

WINDOW_PREFIX = {"five_hour": "5h", "seven_day": "7d", "overage": "overage"}
HEADER = "anthropic-ratelimit-unified-"
Status = Literal["allowed", "allowed_warning", "rejected"]


class QuotaHeaders(BaseModel):
    """The account's window as one reply reports it; the reset is relative to the reply.

    ``window`` ``overage`` is usage credits (the CLI's claim for them); None sends no claim
    (a spend cap's shape).  The ``overage_*`` fields are the usage credits' own headers,
    beside any window's: whether they are in use, used up, and why not available."""

    model_config = ConfigDict(extra="forbid")

    status: Status = "allowed"
    window: Literal["five_hour", "seven_day", "overage"] | None = "five_hour"
    utilization: float = Field(0.0, ge=0, le=1)
    resets_in_s: float = Field(3600.0, ge=0)
    overage_status: Status | None = None
    overage_disabled_reason: str | None = None
    """Seen: out_of_credits, org_level_disabled_until, org_spend_cap_reached,
    overage_not_provisioned, member_level_disabled, fetch_error."""
    overage_resets_in_s: float | None = Field(None, ge=0)
    overage_utilization: float | None = Field(None, ge=0, le=1)
    overage_in_use: bool = False
    overage_scope: Literal["group_pool", "channel"] | None = None
    overage_period: Literal["daily", "weekly", "monthly"] | None = None
    daily_cap_paused: bool = False


def unified_headers(quota: QuotaHeaders, now: float) -> dict[str, str]:
    """The headers for a reply sent at ``now`` (epoch seconds)."""
    reset = str(math.ceil(now + quota.resets_in_s))
    headers = {HEADER + "status": quota.status, HEADER + "reset": reset}
    if quota.window is not None:
        prefix = HEADER + WINDOW_PREFIX[quota.window]
        headers[HEADER + "representative-claim"] = quota.window
        headers[f"{prefix}-status"] = quota.status  # for "overage": the -overage-status
        headers[f"{prefix}-utilization"] = f"{quota.utilization:g}"
        headers[f"{prefix}-reset"] = reset
        if quota.status == "allowed_warning":
            # The CLI reports a warning only with the threshold the window passed.
            threshold = math.floor(quota.utilization * 10) / 10
            headers[f"{prefix}-surpassed-threshold"] = f"{threshold:g}"
    headers.update(_overage_headers(quota, now))
    return headers


def _overage_headers(quota: QuotaHeaders, now: float) -> dict[str, str]:
    overage = HEADER + "overage-"
    headers = {}
    if quota.overage_status is not None:
        headers[overage + "status"] = quota.overage_status
    if quota.overage_resets_in_s is not None:
        headers[overage + "reset"] = str(math.ceil(now + quota.overage_resets_in_s))
    if quota.overage_utilization is not None:
        headers[overage + "utilization"] = f"{quota.overage_utilization:g}"
    flags = {
        "disabled-reason": quota.overage_disabled_reason,
        "in-use": "true" if quota.overage_in_use else None,
        "scope": quota.overage_scope,
        "period": quota.overage_period,
        "daily-cap-paused": "true" if quota.daily_cap_paused else None,
    }
    headers.update({overage + name: value for name, value in flags.items() if value})
    return headers


def headers_for(quota: QuotaHeaders | None) -> dict[str, str]:
    """The headers of a reply sent now; none for a reply that reports no window."""
    return unified_headers(quota, time.time()) if quota is not None else {}


class SendsQuotaHeaders:
    """A request handler mixin: ``quota_headers`` go out with the reply's other headers."""

    quota_headers: dict[str, str] = {}

    def end_headers(self) -> None:
        for name, value in self.quota_headers.items():
            self.send_header(name, value)  # type: ignore[attr-defined]
        super().end_headers()  # type: ignore[misc]
