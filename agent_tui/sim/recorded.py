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
    """The conversation's first user message: the prompt agent-tui sent."""

    @property
    def bearer(self) -> str | None:
        if self.authorization and self.authorization.lower().startswith("bearer "):
            return self.authorization[7:]
        return None
