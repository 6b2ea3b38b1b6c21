"""Ask before discarding the plan under review: the run ends, and what the command made
for it goes."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmDiscard(ModalScreen[bool]):
    CSS_PATH = "confirm_discard.tcss"

    BINDINGS = [
        Binding("y", "answer(True)", "Discard", id="discard.yes"),
        Binding("n,escape", "answer(False)", "Keep", id="discard.no"),
    ]

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="discard"):
            question = f"Discard this plan? Nothing is coded, the run ends, and {self.note}."
            yield Label(Text(question))  # the note names a path: no markup
            with Horizontal(id="discard-buttons"):
                yield Button("Discard (y)", variant="error", id="yes")
                yield Button("Keep (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # a stray Enter keeps it; discarding takes y

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, discard: bool) -> None:
        self.dismiss(discard)
