"""Every run on this machine: the ones that need you first; Enter attaches to one.

Read from the runs' records in the state dir, again every ``REFRESH_S``: a run started,
ended or killed meanwhile shows without a key.  ``x`` forgets a finished run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label

from agent_tui.runproc.record import RunRecord, RunState
from agent_tui.text import printable
from agent_tui.tui.widgets.key_bar import KeyBar
from agent_tui.tui.widgets.title_bar import TitleBar

REFRESH_S = 2.0
COLUMNS = ("State", "Spec", "Progress", "Lanes", "Spend", "Last event", "Project")
STATE_STYLES = {
    RunState.NEEDS_YOU: "bold red",
    RunState.STUCK: "red",
    RunState.WAITING: "yellow",
    RunState.PAUSED: "yellow",
    RunState.RUNNING: "green",
    RunState.FINISHED: "dim",
}
NO_RUNS = "No runs on this machine yet: start one with agent-tui run --project DIR."


PATH_COLUMN = COLUMNS.index("Project")
"""Cut from its start: a path's end names the project."""
FLEXIBLE = {COLUMNS.index("Spec"): 12, COLUMNS.index("Last event"): 16, PATH_COLUMN: 12}
"""The columns cut to fit the screen (Spec, Last event, Project), each no narrower than
this; the others always show whole."""
CELL_PADDING = 2
"""What the table adds to each column (a cell each side)."""


def row_of(record: RunRecord) -> tuple[Text, ...]:
    lanes = f"{record.lanes_busy}/{record.lanes}"
    last = f"needs you: {record.needs_you}" if record.needs_you else record.last_event
    return (
        Text(record.state_text(), style=STATE_STYLES[record.state]),
        Text(printable(record.spec)),
        Text(f"{record.done}/{record.total}"),
        Text(lanes),
        Text(f"${record.spend_usd:.2f}"),
        Text(printable(last), style="red" if record.needs_you else ""),
        Text(printable(record.project_shown()), style="dim"),
    )


def fitted(rows: list[tuple[Text, ...]], width: int) -> list[tuple[Text, ...]]:
    """``rows`` with the flexible columns cut, with an ellipsis, so that the table fits in
    ``width`` cells (a path loses its start, the rest their end); a screen too narrow for
    every column at its least still scrolls."""
    natural = [
        max([len(COLUMNS[i])] + [row[i].cell_len for row in rows]) for i in range(len(COLUMNS))
    ]
    fixed = sum(natural[i] for i in range(len(COLUMNS)) if i not in FLEXIBLE)
    room = width - fixed - CELL_PADDING * len(COLUMNS)
    widths = {i: min(natural[i], least) for i, least in FLEXIBLE.items()}
    room -= sum(widths.values())
    while room > 0 and (wanting := [i for i in widths if widths[i] < natural[i]]):
        for i in wanting[:room]:  # a cell each in turn: the room is shared evenly
            widths[i] += 1
            room -= 1
    return [
        tuple(
            _cut(cell, widths[i], from_start=i == PATH_COLUMN) if i in widths else cell
            for i, cell in enumerate(row)
        )
        for row in rows
    ]


def _cut(cell: Text, width: int, from_start: bool) -> Text:
    if cell.cell_len <= width:
        return cell
    if not from_start:
        cut = cell.copy()
        cut.truncate(width, overflow="ellipsis")
        return cut
    kept = cell.plain
    while cell_len(kept) > width - 1:
        kept = kept[1:]
    return Text("…" + kept, style=cell.style)


class RunsList(Screen[None]):
    """Its stylesheet, ``runs_list.tcss``, is loaded by the app (see ``RunsApp``)."""

    BINDINGS = [
        # Before the table's own enter (select the row), so the footer says what it does.
        Binding("enter", "attach", "Attach", id="runs.attach", priority=True),
        Binding("x", "dismiss_run", "Dismiss", id="runs.dismiss"),
    ]

    @dataclass
    class Chosen(Message):
        """Enter on a run: attach to it."""

        record: RunRecord

    def __init__(
        self, list_runs: Callable[[], list[RunRecord]], dismiss: Callable[[RunRecord], bool]
    ) -> None:
        super().__init__()
        self.list_runs = list_runs
        self.forget = dismiss
        self.records: list[RunRecord] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        yield Label(NO_RUNS, id="no-runs")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = "Runs"
        table.border_subtitle = "enter: attach · x: dismiss a finished run"
        self.refresh_runs()
        self.set_interval(REFRESH_S, self.refresh_runs)

    def on_screen_resume(self) -> None:
        self.refresh_runs()

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_runs)  # the columns fit the new width

    @property
    def highlighted(self) -> RunRecord | None:
        row = self.query_one(DataTable).cursor_row
        return self.records[row] if 0 <= row < len(self.records) else None

    def refresh_runs(self) -> None:
        """The runs as their records say now; the cursor stays on the run it was on."""
        try:
            records = self.list_runs()
        except OSError as exc:
            self.notify(f"The runs cannot be read: {exc}", severity="error")
            return
        table = self.query_one(DataTable)
        was = self.highlighted
        self.records = records
        table.clear(columns=True)  # and their widths, which only grow otherwise
        table.add_columns(*COLUMNS)
        rows = fitted([row_of(record) for record in records], table.scrollable_content_region.width)
        for record, row in zip(records, rows, strict=True):
            table.add_row(*row, key=record.key)
        keys = [r.key for r in records]
        if was is not None and was.key in keys:
            table.move_cursor(row=keys.index(was.key), animate=False)
        self.query_one("#no-runs").display = not records
        table.display = bool(records)
        if records:
            table.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        record = self.highlighted
        if action == "dismiss_run":
            return record is not None and record.finished
        if action == "attach":
            return record is not None
        return True

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        """A click on a row (enter is the screen's own)."""
        self.action_attach()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_attach(self) -> None:
        record = self.highlighted
        if record is None:
            return
        if record.finished:
            said = f": {record.message}" if record.message else ""
            step = record.next_step()
            self.notify(
                f"{record.spec} finished, {record.outcome}{said}" + (f"\n{step}" if step else ""),
                title="Finished: nothing to attach to",
                timeout=12,
            )
            return
        self.post_message(self.Chosen(record))

    def action_dismiss_run(self) -> None:
        record = self.highlighted
        if record is not None and self.forget(record):
            self.refresh_runs()
