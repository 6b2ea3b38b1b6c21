"""Classify an API failure: structured fields first, text only as a fallback.

Through the SDK, API errors are messages, not exceptions (reference doc, section 2): an
``AssistantMessage`` with ``error`` set, a ``ResultMessage`` with ``is_error`` and
``api_error_status``, and ``SystemMessage(subtype="api_retry")`` while the CLI retries.
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
    OTHER = "other"


_CONCURRENCY = re.compile(
    r"tool use concurrency|tool_history_mismatch"
    r"|`?tool_use`? ids were found without `?tool_result`?",
    re.IGNORECASE,
)
_RATE_LIMIT = re.compile(r"\b429\b|rate[ _-]?limit", re.IGNORECASE)
_OVERLOADED = re.compile(r"\b529\b|overloaded", re.IGNORECASE)
_AUTH = re.compile(
    r"\b401\b|\b403\b|authentication[_ ]error|invalid api key|invalid x-api-key|"
    r"oauth token has expired|please run /login|not logged in|credit balance",
    re.IGNORECASE,
)
_BY_STATUS = {
    429: ErrorKind.RATE_LIMIT,
    529: ErrorKind.OVERLOADED,
    401: ErrorKind.AUTH,
    403: ErrorKind.AUTH,
}
_BY_ASSISTANT_ERROR = {
    "rate_limit": ErrorKind.RATE_LIMIT,
    "authentication_failed": ErrorKind.AUTH,
    "billing_error": ErrorKind.AUTH,
}


def classify_text(text: str | None) -> ErrorKind | None:
    """Kind of error a piece of error text describes; None when it names none."""
    if not text:
        return None
    for pattern, kind in (
        (_CONCURRENCY, ErrorKind.TOOL_CONCURRENCY),
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
        return _result_error(message) if message.is_error else None
    if isinstance(message, SystemMessage) and message.subtype == "api_retry":
        return _retry_error(message.data or {})
    return None


def _assistant_error(message: Any) -> ErrorKind:
    from claude_agent_sdk import TextBlock

    text = " ".join(b.text for b in message.content if isinstance(b, TextBlock))
    if message.error == "invalid_request":
        return ErrorKind.TOOL_CONCURRENCY if _CONCURRENCY.search(text) else ErrorKind.OTHER
    if message.error in _BY_ASSISTANT_ERROR:
        return _BY_ASSISTANT_ERROR[message.error]
    if message.error == "server_error":
        return ErrorKind.OVERLOADED if _OVERLOADED.search(text) else ErrorKind.OTHER
    return classify_text(text) or ErrorKind.OTHER


def _result_error(message: Any) -> ErrorKind:
    text = message.result or ""
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
