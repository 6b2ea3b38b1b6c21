"""One line: profile, model, session, subtask, cost and tokens, and the loop's state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

STATE_STYLES = {
    "starting": "dim",
    "running": "bold green",
    "pausing…": "bold yellow",
    "paused": "bold yellow",
    "backing off": "bold magenta",
    "stuck": "bold red",
    "complete": "bold green",
    "stopped": "bold red",
    "error": "bold red",
}


def _tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


class StatusBar(Static):
    profile: reactive[str] = reactive("-")
    model: reactive[str] = reactive("default")
    session: reactive[int] = reactive(0)
    subtask: reactive[str] = reactive("-")
    session_cost: reactive[float] = reactive(0.0)
    total_cost: reactive[float] = reactive(0.0)
    total_tokens: reactive[tuple[int, int]] = reactive((0, 0))
    state: reactive[str] = reactive("starting")
    detail: reactive[str] = reactive("")

    def render(self) -> Text:
        tokens_in, tokens_out = self.total_tokens
        state_style = STATE_STYLES.get(self.state, "bold")
        sep = (" │ ", "dim")
        parts = [
            (self.profile, "bold cyan"),
            sep,
            (self.model, ""),
            sep,
            (f"session {self.session or '-'}", ""),
            (f" · {self.subtask}", "bold"),
            sep,
            (f"${self.session_cost:.4f}", ""),
            (f" / ${self.total_cost:.4f}", "dim"),
            sep,
            (f"{_tokens(tokens_in)} in · {_tokens(tokens_out)} out", "dim"),
            sep,
            (f"● {self.state}", state_style),
        ]
        text = Text.assemble(*parts)
        if self.detail:
            text.append(f" {self.detail}", style=state_style)
        return text
