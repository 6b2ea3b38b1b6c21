"""Ask before quitting while a session is running (quitting interrupts it)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmQuit(ModalScreen[bool]):
    """``detachable``: the run goes on in its own process, which ``q`` stops too (and
    ``ctrl+d`` would leave going): said, so that nobody stops an overnight run unaware."""

    CSS_PATH = "confirm_quit.tcss"

    BINDINGS = [
        Binding("y", "answer(True)", "Quit", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "Stay", id="confirm.no"),
    ]

    def __init__(self, detachable: bool = False) -> None:
        super().__init__()
        self.detachable = detachable

    def compose(self) -> ComposeResult:
        question = "A session is running. Quit now? It will be interrupted and recorded."
        if self.detachable:
            question = (
                "A session is running. Stop the run and quit? Its session is interrupted and "
                "recorded. (ctrl+d leaves the run going without this app.)"
            )
        with Vertical(id="confirm"):
            yield Label(question)
            with Horizontal(id="confirm-buttons"):
                yield Button("Quit (y)", variant="error", id="yes")
                yield Button("Stay (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # a stray Enter stays; quitting takes y

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, quit_now: bool) -> None:
        self.dismiss(quit_now)
