"""What a session has spent so far, estimated from the tokens its replies reported.

The CLI gives a session's cost (``total_cost_usd``) only in its result; a session killed
before it (agent-tui killed with it) would leave no cost at all.  So each reply's usage is
priced here as it arrives, at the list prices the CLI 2.1.331 was measured to use, and the
result's own figure replaces the estimate at the end.  A reply's output tokens are known
only once it has streamed, which the SDK does not report: the estimate counts input (the
bulk of an agent's spend: the whole context, every turn) and undercounts output.
"""

from __future__ import annotations

from typing import Any

PRICES_PER_MTOK = (("haiku", 1.0, 5.0), ("sonnet", 3.0, 15.0), ("opus", 4.0, 20.0))
"""Model family → $ per million input and output tokens (the CLI's list prices)."""
UNKNOWN_MODEL_PRICES = (4.0, 20.0)
"""What the CLI charges for a model it does not know."""
CACHE_READ_SHARE = 0.1
CACHE_WRITE_SHARE = 1.25


def prices(model: str | None) -> tuple[float, float]:
    name = (model or "").lower()
    for family, input_price, output_price in PRICES_PER_MTOK:
        if family in name:
            return input_price, output_price
    return UNKNOWN_MODEL_PRICES


def reply_cost(model: str | None, usage: dict[str, Any]) -> float:
    """The list price of one reply's usage (input, cache reads and writes, output)."""
    input_price, output_price = prices(model)
    tokens = (
        _count(usage, "input_tokens")
        + CACHE_READ_SHARE * _count(usage, "cache_read_input_tokens")
        + CACHE_WRITE_SHARE * _count(usage, "cache_creation_input_tokens")
    )
    return (tokens * input_price + _count(usage, "output_tokens") * output_price) / 1_000_000


def input_tokens(usage: dict[str, Any]) -> int:
    """A reply's whole context: fresh input, cache reads and cache writes."""
    return (
        _count(usage, "input_tokens")
        + _count(usage, "cache_read_input_tokens")
        + _count(usage, "cache_creation_input_tokens")
    )


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
