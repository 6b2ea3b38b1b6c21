"""What the sim keeps of each request: the tests' evidence of what the CLI sent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordedRequest:
    """What one request to the sim carried (tests assert on these)."""

    session_id: str | None
    script: str | None
    turn: int
    authorization: str | None
    api_key: str | None
    model: str | None
    status: int
    prompt: str = ""
    """The conversation's first user message: the prompt, and what the CLI attached to it."""
    tool_results: tuple[str, ...] = ()
    """The text of every ``tool_result`` the request carried: what the agent's tools
    brought back to the model (tests look there for anything that must not reach it)."""
    streamed: bool = True
    """False: the CLI's request without streaming (its retry after a broken stream)."""

    @property
    def bearer(self) -> str | None:
        if self.authorization and self.authorization.lower().startswith("bearer "):
            return self.authorization[7:]
        return None
