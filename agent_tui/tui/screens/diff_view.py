"""One subtask's changes: its commit(s) on the work branch, or, while it is worked on, what
the worktree holds so far.  Read with the keys; Escape closes it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import RichLog

from agent_tui.engine.events import core as ev
from agent_tui.engine.progress.checkpoints import WorkspaceFailed
from agent_tui.text import printable
from agent_tui.workspace.review import LineKind, line_kinds

if TYPE_CHECKING:
    from textual.app import App

    from agent_tui.engine.loop import CoderLoop

MAX_LINES = 20_000
"""Past this a diff is for ``agent-tui diff``: the view stays quick to open and scroll."""
STYLES = {
    LineKind.COMMIT: "yellow",
    LineKind.HEADER: "bold",
    LineKind.HUNK: "cyan",
    LineKind.ADDED: "green",
    LineKind.REMOVED: "red",
}
"""git's own colours: commits yellow, file headers bold, hunks cyan, added lines green,
removed red."""


class DiffView(ModalScreen[None]):
    CSS_PATH = "diff_view.tcss"

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="diff.close"),
        Binding("d", "dismiss", "Close", show=False),
    ]

    def __init__(self, subtask: ev.SubtaskView, diff: str) -> None:
        super().__init__()
        self.subtask = subtask
        self.lines = printable(diff).splitlines()

    def compose(self) -> ComposeResult:
        with Vertical(id="diff") as box:
            title = printable(f"{self.subtask.id} {self.subtask.description}")[:80]
            box.border_title = Text(title)  # the plan's words: no markup
            box.border_subtitle = "Esc: close · ↑ ↓ ← → PgUp PgDn Home End: scroll"
            yield RichLog(id="diff-lines", wrap=False, highlight=False, markup=False)

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        for line, kind in line_kinds(self.lines[:MAX_LINES]):
            log.write(Text(line, style=STYLES.get(kind, "")), scroll_end=False)
        if len(self.lines) > MAX_LINES:
            more = len(self.lines) - MAX_LINES
            hint = f"… {more} more lines: agent-tui diff --subtask {self.subtask.id} prints them"
            log.write(Text(hint, style="dim"), scroll_end=False)
        log.focus()


def show_diff(app: App, loop: CoderLoop, subtask: ev.SubtaskView) -> None:
    """Read the subtask's diff off the event loop (git runs), then show it."""

    async def load() -> None:
        try:
            diff = await asyncio.to_thread(loop.subtask_diff, subtask.id)
        except WorkspaceFailed as exc:
            app.notify(f"No diff: {exc}", title="Diff", severity="error")
            return
        if not diff.strip():
            app.notify(f"Subtask {subtask.id} has changed nothing yet.", title="Diff")
        elif not isinstance(app.screen, ModalScreen):
            app.push_screen(DiffView(subtask, diff))

    app.run_worker(load(), group="diff", exclusive=True, exit_on_error=False)
