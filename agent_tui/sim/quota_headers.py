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

WINDOW_PREFIX = {"five_hour": "5h", "seven_day": "7d"}
HEADER = "anthropic-ratelimit-unified-"


class QuotaHeaders(BaseModel):
    """The account's window as one reply reports it; the reset is relative to the reply."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["allowed", "allowed_warning", "rejected"] = "allowed"
    window: Literal["five_hour", "seven_day"] = "five_hour"
    utilization: float = Field(0.0, ge=0, le=1)
    resets_in_s: float = Field(3600.0, ge=0)


def unified_headers(quota: QuotaHeaders, now: float) -> dict[str, str]:
    """The headers for a reply sent at ``now`` (epoch seconds)."""
    reset = str(math.ceil(now + quota.resets_in_s))
    prefix = HEADER + WINDOW_PREFIX[quota.window]
    headers = {
        HEADER + "status": quota.status,
        HEADER + "reset": reset,
        HEADER + "representative-claim": quota.window,
        f"{prefix}-status": quota.status,
        f"{prefix}-utilization": f"{quota.utilization:g}",
        f"{prefix}-reset": reset,
    }
    if quota.status == "allowed_warning":
        # The CLI reports a warning only with the threshold the window passed.
        headers[f"{prefix}-surpassed-threshold"] = f"{math.floor(quota.utilization * 10) / 10:g}"
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
