"""The ``/`` prompt: what to find in the session log."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input


class SearchPrompt(ModalScreen[str | None]):
    """One line over the foot of the log, as in ``less``: dismisses with the text typed
    (Enter) or None (Escape).  The screen behind stays in sight and keeps running."""

    CSS_PATH = "log_search.tcss"
    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="search.close")]

    def __init__(self, last: str = "") -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        prompt = Input(value=self.last, placeholder="find in the log", id="search-text")
        prompt.border_title = "/"
        prompt.border_subtitle = "Enter: find · then n, N · Esc: close"
        yield prompt

    @on(Input.Submitted)
    def find(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
