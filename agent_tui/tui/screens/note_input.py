"""Leave a note for the next session: one line, sent with the next session's prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from textual.app import App

    from agent_tui.engine.loop import CoderLoop


class NoteInput(ModalScreen[str | None]):
    """Dismisses with the note typed (Enter), or None (Escape)."""

    CSS_PATH = "note_input.tcss"

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="note.close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="note") as box:
            box.border_subtitle = "Enter: send with the next session · Esc: close"
            yield Label("A note for the next session", id="note-title")
            yield Input(placeholder="e.g. use pathlib, not os.path", id="note-text")
            yield Label(
                "Kept in HUMAN_INPUT.md in the spec dir (you may edit it there) until a "
                "session has read it.",
                id="note-help",
            )

    @on(Input.Submitted)
    def send(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def ask_for_note(app: App, loop: CoderLoop) -> None:
    """Open the input; a note typed goes to the loop, and the app says where it went."""

    def typed(text: str | None) -> None:
        if not text or not text.strip():
            return
        try:
            loop.add_note(text)
        except (OSError, UnicodeDecodeError) as exc:
            app.notify(f"The note was not kept: {exc}", title="Note", severity="error")
            return
        app.notify("The next session's prompt carries your note.", title="Note")

    app.push_screen(NoteInput(), typed)
