"""The runs list fits the screen: the spec, the last event and the project's path are cut,
with an ellipsis, rather than the table running off its right edge."""

from __future__ import annotations

from rich.text import Text

from agent_tui.runproc.record import RunRecord, RunState
from agent_tui.tui.screens.runs_list import CELL_PADDING, COLUMNS, fitted, row_of

SPEC = "001-add-a-verbose-flag-that-logs-each-file"
PROJECT = "/home/someone/code/projects/work/a-rather-long-project-name"
LAST = "session 7 ended: subtask 2.3 success, its check passed, queued for merge"


def rows() -> list[tuple[Text, ...]]:
    long = RunRecord(
        key="a", spec=SPEC, spec_dir="/s",
        project_dir=PROJECT, pid=1, socket="", log="", state=RunState.RUNNING, done=3,
        total=12, lanes=4, lanes_busy=3, spend_usd=1.5, last_event=LAST,
    )  # fmt: skip
    short = RunRecord(
        key="b", spec="002-x", spec_dir="/t", project_dir="/tmp/p", pid=2, socket="", log="",
        state=RunState.FINISHED, outcome="complete", last_event="complete",
    )  # fmt: skip
    return [row_of(long), row_of(short)]


def table_width(cut: list[tuple[Text, ...]]) -> int:
    widths = [
        max([len(title)] + [row[i].cell_len for row in cut]) for i, title in enumerate(COLUMNS)
    ]
    return sum(widths) + CELL_PADDING * len(COLUMNS)


def test_a_wide_screen_shows_every_cell_whole():
    assert [[c.plain for c in r] for r in fitted(rows(), 400)] == [
        [c.plain for c in r] for r in rows()
    ]


def test_a_narrower_screen_cuts_the_long_cells_with_an_ellipsis_and_fits():
    cut = fitted(rows(), 100)
    assert table_width(cut) <= 100
    state, spec, progress, lanes, spend, last, project = (c.plain for c in cut[0])
    assert (state, progress, lanes, spend) == ("running", "3/12", "3/4", "$1.50")  # whole
    assert spec.endswith("…") and SPEC.startswith(spec[:-1])
    assert last.endswith("…") and LAST.startswith(last[:-1])
    assert project.startswith("…") and PROJECT.endswith(project[1:])  # its name stays
    assert [c.plain for c in cut[1]][1] == "002-x"  # a short cell is not cut
    assert cut[0][6].style == rows()[0][6].style


def test_a_screen_too_narrow_keeps_each_cut_column_at_its_least():
    cut = fitted(rows(), 40)
    assert [cut[0][i].cell_len for i in (1, 5, 6)] == [12, 16, 12]
