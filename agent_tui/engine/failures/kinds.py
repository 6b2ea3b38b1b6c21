"""Classify an API failure: structured fields first, text only as a fallback.

Through the SDK, API errors are messages, not exceptions (reference doc, section 2): an
``AssistantMessage`` with ``error`` set, a ``ResultMessage`` with ``is_error`` and
``api_error_status``, and ``SystemMessage(subtype="api_retry")`` while the CLI retries.

A used-up paid credit or spend cap (usage credits, the Agent SDK credit, a prepaid API
balance, an organisation's or a workspace's spend limit) is a ``CREDIT`` error, neither a
retryable error nor an auth one.  The CLI gives it no ``error`` value of its own: it
arrives as ``billing_error`` ("Credit balance is too low") or as ``rate_limit`` with the
CLI's own sentence ("You're out of usage credits · resets …"); the ``RateLimitEvent``
just before it tells a credit from a usage window where there is one (see
``events.quota.limit_kind``).  The texts below are the CLI 2.1.331's.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    TOOL_CONCURRENCY = "tool_concurrency"
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    AUTH = "auth"
    CREDIT = "credit"
    """A paid credit or a spend cap is used up: another profile may help, a retry will not."""
    BUDGET = "budget"
    """The session reached its own cap (``max_budget_usd``): agent-tui's limit, no API's."""
    RUNAWAY = "runaway"
    """agent-tui stopped the session: it repeated itself, or its context kept growing with
    no file changed."""
    OTHER = "other"


MORE_SPECIFIC = (ErrorKind.BUDGET, ErrorKind.CREDIT)
"""Kinds that win over what a later message of the same session says (its result's 429
is the same credit error, read from the status alone)."""

_CONCURRENCY = re.compile(
    r"tool use concurrency|tool_history_mismatch"
    r"|`?tool_use`? ids were found without `?tool_result`?",
    re.IGNORECASE,
)
_WINDOW_LIMIT = re.compile(r"you've hit your (5-hour|weekly|opus|sonnet) limit", re.IGNORECASE)
"""A usage window's own sentence, even when an admin's ends "· out of usage credits"."""
_CREDIT = re.compile(
    r"credit balance is too low|out of (usage )?credits|usage credits ran out"
    r"|usage credits are required|requires usage credits|org is out of usage"
    r"|spend limit|usage credit limit|pooled group budget|api usage limits"
    r"|usage is paused for your organization|seat type doesn't include usage"
    r"|usage allocation has been disabled|usage limit is set to \$0|api error: 402\b",
    re.IGNORECASE,
)
_RATE_LIMIT = re.compile(r"\b429\b|rate[ _-]?limit", re.IGNORECASE)
_OVERLOADED = re.compile(r"\b529\b|overloaded", re.IGNORECASE)
_AUTH = re.compile(
    r"\b401\b|\b403\b|authentication[_ ]error|invalid api key|invalid x-api-key|"
    r"oauth token has expired|please run /login|not logged in",
    re.IGNORECASE,
)
_BY_STATUS = {
    429: ErrorKind.RATE_LIMIT,
    529: ErrorKind.OVERLOADED,
    401: ErrorKind.AUTH,
    403: ErrorKind.AUTH,
    402: ErrorKind.CREDIT,
}
_BY_ASSISTANT_ERROR = {
    "rate_limit": ErrorKind.RATE_LIMIT,
    "authentication_failed": ErrorKind.AUTH,
    "billing_error": ErrorKind.CREDIT,
}
BUDGET_SUBTYPE = "error_max_budget_usd"
"""The result of a session that reached its ``max_budget_usd``."""


def credit_text(text: str | None) -> bool:
    """Whether the CLI's error text is about a used-up credit or spend cap."""
    if not text or _WINDOW_LIMIT.search(text):
        return False
    return _CREDIT.search(text) is not None


def classify_text(text: str | None) -> ErrorKind | None:
    """Kind of error a piece of error text describes; None when it names none."""
    if not text:
        return None
    if _CONCURRENCY.search(text):
        return ErrorKind.TOOL_CONCURRENCY
    if credit_text(text):
        return ErrorKind.CREDIT
    for pattern, kind in (
        (_RATE_LIMIT, ErrorKind.RATE_LIMIT),
        (_OVERLOADED, ErrorKind.OVERLOADED),
        (_AUTH, ErrorKind.AUTH),
    ):
        if pattern.search(text):
            return kind
    return None


def classify_exception(exc: BaseException) -> ErrorKind:
    return classify_text(f"{type(exc).__name__}: {exc}") or ErrorKind.OTHER


def classify_message(message: Any) -> ErrorKind | None:
    """Kind of error an SDK message reports; None for a message that is not an error."""
    from claude_agent_sdk import AssistantMessage, ResultMessage, SystemMessage

    if isinstance(message, AssistantMessage):
        return _assistant_error(message) if message.error is not None else None
    if isinstance(message, ResultMessage):
        if is_budget_result(message):
            return ErrorKind.BUDGET
        return _result_error(message) if message.is_error else None
    if isinstance(message, SystemMessage) and message.subtype == "api_retry":
        return _retry_error(message.data or {})
    return None


def is_budget_result(message: Any) -> bool:
    """The session ended at its ``max_budget_usd``: no API error, the CLI's own stop."""
    return (
        getattr(message, "subtype", None) == BUDGET_SUBTYPE
        or getattr(message, "terminal_reason", None) == "budget_exhausted"
    )


def _assistant_error(message: Any) -> ErrorKind:
    from claude_agent_sdk import TextBlock

    text = " ".join(b.text for b in message.content if isinstance(b, TextBlock))
    if message.error == "invalid_request":
        if _CONCURRENCY.search(text):
            return ErrorKind.TOOL_CONCURRENCY
        return ErrorKind.CREDIT if credit_text(text) else ErrorKind.OTHER
    if message.error in ("rate_limit", "unknown") and credit_text(text):
        return ErrorKind.CREDIT
    if message.error in _BY_ASSISTANT_ERROR:
        return _BY_ASSISTANT_ERROR[message.error]
    if message.error == "server_error":
        return ErrorKind.OVERLOADED if _OVERLOADED.search(text) else ErrorKind.OTHER
    return classify_text(text) or ErrorKind.OTHER


def _result_error(message: Any) -> ErrorKind:
    text = message.result or ""
    if credit_text(text):
        return ErrorKind.CREDIT
    if message.api_error_status == 400:
        return ErrorKind.TOOL_CONCURRENCY if _CONCURRENCY.search(text) else ErrorKind.OTHER
    if message.api_error_status in _BY_STATUS:
        return _BY_STATUS[message.api_error_status]
    return classify_text(text) or ErrorKind.OTHER


def _retry_error(data: dict[str, Any]) -> ErrorKind:
    status = data.get("error_status")
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return classify_text(str(data.get("error") or "")) or ErrorKind.OTHER
