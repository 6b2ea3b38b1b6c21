"""The HTTP errors the sim answers with, shaped like the real API's (status, body, headers).

The credit and spend-cap shapes are those the bundled CLI 2.1.331 was seen to act on (see
the project's notes on issue 25): a prepaid balance too low (400), usage credits used up or
required (429, with the unified headers a scenario step adds: ``quota``), a gateway's or a
workspace's spend cap (429 that must not be retried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ErrorName = Literal[
    "tool_concurrency",
    "rate_limit",
    "overloaded",
    "server_error",
    "auth",
    "bad_request",
    "credit_balance",
    "credit_balance_402",
    "payment_required",
    "out_of_credits",
    "credits_required",
    "spend_cap",
    "workspace_spend_limit",
]
CREDIT_BALANCE_TEXT = (
    "Your credit balance is too low to access the Anthropic API. "
    "Please go to Plans & Billing to upgrade or purchase credits."
)
RATE_LIMIT_TEXT = "This request would exceed the rate limit for your organization."


@dataclass(frozen=True)
class ErrorReply:
    status: int
    type: str
    message: str
    details: dict[str, Any] | None = None
    """``error.details`` (``error_code``, ``disabled_reason``…), which the CLI reads."""
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, message: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": message or self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"type": "error", "error": error}


ERROR_REPLIES: dict[str, ErrorReply] = {
    "tool_concurrency": ErrorReply(
        400,
        "invalid_request_error",
        "messages.{n}: `tool_use` ids were found without `tool_result` blocks immediately "
        "after: toolu_sim_orphan. Each `tool_use` block must have a corresponding "
        "`tool_result` block in the next message.",
    ),
    "bad_request": ErrorReply(400, "invalid_request_error", "max_tokens: field required"),
    "rate_limit": ErrorReply(429, "rate_limit_error", RATE_LIMIT_TEXT),
    "overloaded": ErrorReply(529, "overloaded_error", "Overloaded"),
    "server_error": ErrorReply(500, "api_error", "Internal server error"),
    "auth": ErrorReply(401, "authentication_error", "invalid x-api-key"),
    "credit_balance": ErrorReply(400, "invalid_request_error", CREDIT_BALANCE_TEXT),
    "credit_balance_402": ErrorReply(402, "billing_error", CREDIT_BALANCE_TEXT),
    "payment_required": ErrorReply(
        402, "billing_error", "Payment required: your prepaid credits are exhausted."
    ),
    "out_of_credits": ErrorReply(429, "rate_limit_error", RATE_LIMIT_TEXT),
    "credits_required": ErrorReply(
        429,
        "rate_limit_error",
        "Usage credits are required to use this model.",
        details={
            "error_code": "credits_required",
            "disabled_reason": "out_of_credits",
            "can_user_purchase_credits": False,
        },
    ),
    "spend_cap": ErrorReply(
        429,
        "billing_error",
        "spend limit reached · resets Aug 8 · request an increase at https://example.invalid/limits",
        headers={"x-should-retry": "false", "retry-after": "36000"},
    ),
    "workspace_spend_limit": ErrorReply(
        429,
        "rate_limit_error",
        "You have reached your specified workspace API usage limits.",
        details={"error_code": "enforced_spend_limit_reached"},
        headers={"x-should-retry": "false"},
    ),
}
"""``out_of_credits`` and ``spend_cap`` are what the CLI reads them as only with the unified
headers of a used-up credit (a step's ``quota``: ``window`` ``overage`` or none, an
``overage_disabled_reason``); an API key gets no such reading from the CLI."""

CREDITS_RAN_OUT = ErrorReply(
    429,
    "rate_limit_error",
    "Usage credits exhausted",
    details={"error_code": "extra_usage_out_of_credits"},
)
"""The ``error`` event that ends a stream when usage credits run out mid-reply."""
