"""Pick the lane the log follows: every lane (each line prefixed with its lane), or one."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from agent_tui.text import printable
from agent_tui.tui.lanes_view import ALL, LanesView

EVERY = "all"
"""The option id of the view of every lane."""


class LanePicker(ModalScreen[int | str | None]):
    """Dismisses with the chosen lane, ``EVERY`` for every lane, or None on Escape."""

    CSS_PATH = "lane_picker.tcss"

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="lanes.close")]

    def __init__(self, lanes: LanesView) -> None:
        super().__init__()
        self.lanes = lanes

    def compose(self) -> ComposeResult:
        with Vertical(id="lane-picker") as box:
            box.border_subtitle = "Enter: follow · Esc: close"
            yield Label("The lane the log follows", id="lane-picker-title")
            yield OptionList(*self._options(), id="lane-picker-list")

    def _options(self) -> list[Option]:
        view = self.lanes
        options = [Option(self._label(view.following is ALL, "all lanes", ""), id=EVERY)]
        for lane in range(1, view.lanes + 1):
            subtask = view.busy.get(lane)
            doing = f"subtask {subtask}" if subtask else "free"
            options.append(
                Option(self._label(view.following == lane, f"lane {lane}", doing), id=str(lane))
            )
        return options

    @staticmethod
    def _label(followed: bool, name: str, doing: str) -> Text:
        return Text.assemble(
            ("● " if followed else "  ", "bold cyan"),
            (f"{name:<10}", "bold"),
            (printable(doing), "dim"),
        )

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        following = self.lanes.following
        option_list.highlighted = 0 if following is ALL else following
        option_list.focus()

    @on(OptionList.OptionSelected)
    def choose(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        self.dismiss(EVERY if chosen == EVERY else int(chosen or 0))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
