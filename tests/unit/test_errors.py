"""Classification of each real error shape the bundled CLI produces (reference doc, section 2)."""

from __future__ import annotations

import pytest
from claude_agent_sdk import AssistantMessage, ResultMessage, SystemMessage, TextBlock

from agent_tui.engine.failures.kinds import (
    ErrorKind,
    classify_exception,
    classify_message,
    classify_text,
)


def assistant(text: str, error: str | None, model: str = "<synthetic>") -> AssistantMessage:
    return AssistantMessage(content=[TextBlock(text)], model=model, error=error)


def result(text: str, status: int | None, is_error: bool = True) -> ResultMessage:
    return ResultMessage(
        subtype="success",
        duration_ms=379,
        duration_api_ms=0,
        is_error=is_error,
        num_turns=1,
        session_id="s",
        result=text,
        api_error_status=status,
    )


CONCURRENCY = "API Error: 400 due to tool use concurrency issues."
RATE = (
    "API Error: Request rejected (429) · "
    "This request would exceed the rate limit for your organization."
)
OVERLOADED = (
    "API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again "
    "in a moment. If it persists, check your inference gateway (127.0.0.1:18329)."
)
SERVER = (
    "API Error: 500 Internal server error. This is a server-side issue, usually temporary — "
    "try again in a moment."
)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (assistant(CONCURRENCY, "invalid_request"), ErrorKind.TOOL_CONCURRENCY),
        (result(CONCURRENCY, 400), ErrorKind.TOOL_CONCURRENCY),
        (
            assistant("API Error: 400 max_tokens: field required", "invalid_request"),
            ErrorKind.OTHER,
        ),
        (result("API Error: 400 prompt is too long", 400), ErrorKind.OTHER),
        (assistant(RATE, "rate_limit"), ErrorKind.RATE_LIMIT),
        (result(RATE, None), ErrorKind.RATE_LIMIT),
        (result(RATE, 429), ErrorKind.RATE_LIMIT),
        (
            assistant("Invalid API key · Fix external API key", "authentication_failed"),
            ErrorKind.AUTH,
        ),
        (result("Invalid API key · Fix external API key", None), ErrorKind.AUTH),
        (assistant("Credit balance is too low", "billing_error"), ErrorKind.CREDIT),
        (assistant(OVERLOADED, "server_error"), ErrorKind.OVERLOADED),
        (result(OVERLOADED, 529), ErrorKind.OVERLOADED),
        (assistant(SERVER, "server_error"), ErrorKind.OTHER),
        (result(SERVER, 500), ErrorKind.OTHER),
        (
            SystemMessage(
                subtype="api_retry",
                data={
                    "type": "system",
                    "subtype": "api_retry",
                    "attempt": 1,
                    "max_retries": 2,
                    "retry_delay_ms": 1080,
                    "error_status": 429,
                    "error": "rate_limit",
                },
            ),
            ErrorKind.RATE_LIMIT,
        ),
        (
            SystemMessage(subtype="api_retry", data={"error_status": 529, "error": "overloaded"}),
            ErrorKind.OVERLOADED,
        ),
    ],
)
def test_real_error_shapes(message, kind):
    assert classify_message(message) == kind


@pytest.mark.parametrize(
    "message",
    [
        assistant("Hello", None, model="claude-sonnet-4-5"),
        result("Done.", None, is_error=False),
        SystemMessage(subtype="init", data={}),
    ],
)
def test_normal_messages_are_not_errors(message):
    assert classify_message(message) is None


def test_exception_text_is_the_fallback():
    raw = (
        "messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_01ABC. Each `tool_use` block must have a corresponding `tool_result` block."
    )
    assert classify_exception(RuntimeError(raw)) == ErrorKind.TOOL_CONCURRENCY
    assert classify_exception(RuntimeError("HTTP 429 Too Many Requests")) == ErrorKind.RATE_LIMIT
    assert classify_exception(RuntimeError("OAuth token has expired")) == ErrorKind.AUTH
    assert classify_exception(RuntimeError("connection reset")) == ErrorKind.OTHER
    assert classify_text("") is None
