"""The widgets on their own, in a bare app: the tree, the key bar, the status line."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding

from agent_tui.tui.app import AgentApp
from agent_tui.tui.messages import LoopDone
from agent_tui.tui.widgets.key_bar import KeyBar
from agent_tui.tui.widgets.session_log import SessionLog
from agent_tui.tui.widgets.status_bar import StatusBar
from agent_tui.tui.widgets.subtask_tree import EXPAND_ALL_UP_TO, NO_PLAN_YET, SubtaskTree
from benchmarks.common import big_plan, plan_view
from tests.tui.conftest import count_layouts, screen_text, wait_until


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SubtaskTree()


async def test_the_cursor_follows_the_current_subtask_into_a_collapsed_phase():
    phases = EXPAND_ALL_UP_TO + 4
    view = plan_view(big_plan(phases * 10, per_phase=10))
    app = TreeApp()
    async with app.run_test(size=(80, 30)) as pilot:
        tree = app.query_one(SubtaskTree)
        tree.show_plan(view)
        # No refresh in between: the tree's line numbers are stale at this point.
        tree.update_subtask(f"{phases}.3", status="in_progress")
        assert tree.cursor_node is not None and tree.cursor_node.data == f"{phases}.3"
        await pilot.pause()
        assert tree.cursor_node.data == f"{phases}.3"
        assert tree.cursor_node.parent.is_expanded


async def test_the_same_plan_again_leaves_the_tree_alone():
    view = plan_view(big_plan(20, per_phase=10))
    app = TreeApp()
    async with app.run_test():
        tree = app.query_one(SubtaskTree)
        tree.show_plan(view)
        tree.update_subtask("1.2", status="completed")
        tree.show_plan(view)
        assert tree.status_of("1.2") == "completed"
        changed = plan_view(big_plan(30, per_phase=10))
        tree.show_plan(changed)
        assert tree.status_of("1.2") == "pending" and tree.counts() == (0, 30)


class KeysApp(App[None]):
    BINDINGS = [
        Binding("x", "toggle", "Toggle"),
        Binding("y", "noop", "Other"),
        Binding("z", "on", "Switch on"),
        Binding("z", "off", "Switch off"),
    ]
    shown = True
    on = False

    def compose(self) -> ComposeResult:
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("on", "off"):
            return self.on == (action == "off")
        return self.shown if action == "noop" else True

    def action_on(self) -> None:
        self.on = True
        self.refresh_bindings()

    def action_off(self) -> None:
        self.on = False
        self.refresh_bindings()

    def action_toggle(self) -> None:
        self.shown = not self.shown
        self.refresh_bindings()


async def test_the_key_bar_follows_the_keys_that_apply_without_widgets_or_a_layout():
    # Textual's Footer mounted a widget per key afresh on each change, each time a full
    # layout; its old key widgets stayed alive, bound to the footer (~8 per session).
    app = KeysApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        assert {"x", "y"} <= set(bar.shown)
        layouts = count_layouts(app.screen)
        await pilot.press("x")
        await pilot.pause()
        assert "y" not in bar.shown and "Other" not in bar.render().plain
        await pilot.press("x")
        await pilot.pause()
        assert bar.shown["y"] == "Other"
        assert not bar.children and layouts == []


async def test_a_key_that_changes_what_it_says_is_redrawn_in_place():
    app = KeysApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        assert bar.shown["z"] == "Switch on"
        await pilot.press("z")
        await pilot.pause()
        assert bar.shown["z"] == "Switch off"
        assert "Switch off" in app.export_screenshot().replace("&#160;", " ")
        await pilot.press("z")
        await pilot.pause()
        assert bar.shown["z"] == "Switch on"


async def test_a_click_on_a_key_presses_it():
    app = KeysApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        line = bar.render().plain
        await pilot.click(KeyBar, offset=(line.index("Toggle"), 0))
        await pilot.pause()
        assert not app.shown


async def test_a_collapsed_phase_gets_its_subtasks_when_opened_with_their_latest_status():
    phases = EXPAND_ALL_UP_TO + 2
    view = plan_view(big_plan(phases * 10, per_phase=10))
    app = TreeApp()
    async with app.run_test(size=(80, 30)) as pilot:
        tree = app.query_one(SubtaskTree)
        tree.show_plan(view)
        assert tree.is_built("1.0") and not tree.is_built("2.0")
        assert tree.counts() == (0, phases * 10)
        tree.update_subtask("2.4", status="completed", attempts=2)
        assert tree.counts() == (1, phases * 10)
        phase = next(n for n in tree.root.children if n.data == "2")
        assert "(1/10)" in str(phase.label)
        await pilot.pause()
        tree.move_cursor(phase)
        tree.focus()
        await pilot.press("space")
        await pilot.pause()
        assert phase.is_expanded and tree.is_built("2.4")
        leaf = next(n for n in phase.children if n.data == "2.4")
        assert str(leaf.label).startswith("✔ 2.4") and "try 2" in str(leaf.label)
        await pilot.press("space")  # collapse and open again: nothing is added twice
        await pilot.press("space")
        await pilot.pause()
        assert len(phase.children) == 10


async def test_the_tree_says_there_is_no_plan_yet_until_one_is_shown():
    app = TreeApp()
    async with app.run_test():
        tree = app.query_one(SubtaskTree)
        assert [str(node.label) for node in tree.root.children] == [NO_PLAN_YET]
        tree.show_plan(plan_view(big_plan(3, per_phase=3)))
        assert [str(node.label) for node in tree.root.children] == ["○ Phase 1 (0/3)"]


class StatusApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


@pytest.mark.parametrize(
    ("width", "shown", "dropped"),
    [
        (
            200,
            ["work-account", "claude-sonnet-4-5", "session 12 · 3.4", "tokens 120.0k in · 4.0k out",
             "cost $0.12 session · $1.50 this run · $4.20 this spec"],
            [],
        ),
        (
            120,
            ["work-account", "session 12 · 3.4",
             "cost $0.12 session · $1.50 this run · $4.20 this spec"],
            ["claude-sonnet", " in · "],
        ),
        (
            100,
            ["work-account", "session 12 · 3.4", "cost $0.12 · $1.50 run"],
            ["claude-sonnet", " in · ", "this run", "spec"],
        ),
        (60, ["work-account"], ["claude-sonnet", "$0.12", "session 12"]),
    ],
)  # fmt: skip
async def test_a_narrow_status_line_keeps_the_loop_state(width, shown, dropped):
    app = StatusApp()
    async with app.run_test(size=(width, 3)):
        bar = app.query_one(StatusBar)
        bar.profile, bar.model = "work-account", "claude-sonnet-4-5"
        bar.session, bar.subtask = 12, "3.4"
        bar.session_cost, bar.total_cost, bar.spec_cost = 0.1234, 1.5, 4.2
        bar.total_tokens = (120_000, 4_000)
        bar.state, bar.detail = "paused", "p resumes"
        text = bar.render().plain
        assert "● paused · p resumes" in text
        assert len(text) <= width
        for part in shown:
            assert part in text
        for part in dropped:
            assert part not in text


async def test_a_long_state_detail_is_cut_rather_than_push_the_cost_off_the_line():
    # Found by a newcomer: at 120 columns the cost went once the run ended, as its detail
    # ("all 5 subtasks completed" and more) took the room; the usage window stayed.
    app = StatusApp()
    async with app.run_test(size=(120, 3)):
        bar = app.query_one(StatusBar)
        bar.profile, bar.quota = "demo-a", "5h 42% · resets 07:34"
        bar.session, bar.subtask = 7, "2.2"
        bar.session_cost, bar.total_cost, bar.spec_cost = 0.038, 0.21, 0.3
        bar.sandboxed = True
        bar.state = "complete"
        bar.detail = "all 5 subtasks completed; the work is on agent-tui/001-greeter"
        text = bar.render().plain
        assert len(text) <= 120 and "$0.21" in text and "usage 5h 42%" in text
        assert "● complete · all 5 subtasks" in text and text.endswith("…")


async def test_each_status_field_says_what_it_is_and_none_is_shown_before_it_has_a_value():
    app = StatusApp()
    async with app.run_test(size=(200, 3)):
        bar = app.query_one(StatusBar)
        bar.profile = "work"
        assert bar.render().plain == "profile work │ model default │ ● starting"
        bar.model, bar.session, bar.subtask = "claude-sonnet-4-5", 3, "1.2"
        bar.session_cost, bar.total_cost, bar.total_tokens = 0.037, 0.2157, (12_300, 450)
        assert bar.render().plain == (
            "profile work │ model claude-sonnet-4-5 │ session 3 · 1.2 │ "
            "cost $0.0370 session · $0.22 this run │ tokens 12.3k in · 450 out │ ● starting"
        )
        assert bar.text_of("cost") == "cost $0.0370 session · $0.22 this run"
        bar.spec_cost = 4.5
        bar.budget, bar.forecast = "$4.50 of $5.00 spec budget (90%)", "≈ $6.10 · 40 min left"
        assert bar.text_of("cost") == "cost $0.0370 session · $0.22 this run · $4.50 this spec"
        assert bar.text_of("budget") == "budget $4.50 of $5.00 spec budget (90%)"
        assert bar.text_of("forecast") == "forecast ≈ $6.10 · 40 min left"


@pytest.mark.parametrize("width", [160, 60])
async def test_unsandboxed_stays_on_the_status_line_however_narrow(width):
    app = StatusApp()
    async with app.run_test(size=(width, 3)):
        bar = app.query_one(StatusBar)
        bar.profile, bar.model, bar.session, bar.state = "work", "claude-sonnet-4-5", 3, "running"
        assert "sandboxed" not in bar.render().plain  # not known yet: nothing claimed
        bar.sandboxed = False
        text = bar.render()
        assert " UNSANDBOXED " in text.plain and "● running" in text.plain
        span = next(s for s in text.spans if text.plain[s.start : s.end] == " UNSANDBOXED ")
        assert "red" in str(span.style)
        bar.sandboxed = True
        assert "│ sandboxed │" in bar.render().plain


class LogApp(App[None]):
    """The log alone, styled as in the app (its scrollbar always shown, so the width it
    wraps at does not change when the lines come to fill the pane)."""

    CSS_PATH = AgentApp.CSS_PATH

    def compose(self) -> ComposeResult:
        yield SessionLog(id="log")


async def test_the_log_wraps_long_lines_to_a_narrow_pane_and_loses_nothing():
    line = '  ▶ Bash python3 -c "import tests.test_core as t; t.test_greet(); t.test_farewell()"'
    app = LogApp()
    async with app.run_test(size=(50, 10)) as pilot:
        log = app.query_one(SessionLog)
        log.add(line)
        log.flush()
        await pilot.pause()
        width = log.scrollable_content_region.width
        rendered = [strip.text for strip in log.lines]
        assert len(rendered) > 1
        assert all(len(text.rstrip()) <= width for text in rendered)
        assert "".join(rendered).replace(" ", "") == line.replace(" ", "")


async def test_a_line_after_its_lanes_prefix_wraps_under_the_text_after_it():
    # Found watching four lanes: "L1     ◀ The file … has been updated" went on at column 0.
    lines = [
        "L1     ◀ The file .auto-claude/specs/001-x/plan.json has been updated successfully.",
        "L2 The agent reads greeter/core.py and writes tests for it, empty names included.",
    ]
    app = LogApp()
    async with app.run_test(size=(50, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines)
        await pilot.pause()
        rows = [strip.text.rstrip() for strip in log.lines]
        second = next(n for n, row in enumerate(rows) if row.startswith("L2 "))
        result, said = rows[:second], rows[second:]
        assert len(result) > 1 and len(said) > 1
        assert all(row.startswith(" " * 9) and row[9] != " " for row in result[1:])
        assert all(row.startswith(" " * 3) and row[3] != " " for row in said[1:])
        assert unwrapped(log) == "".join(lines).replace(" ", "")


async def test_a_very_narrow_pane_still_shows_every_character():
    # Found trying a 50-column terminal: lines were wrapped at 20 columns in a 16-column pane,
    # so four characters of every screen line were cut off.
    line = "  ▶ Read .auto-claude/specs/001-greeter/implementation_plan.json"
    app = LogApp()
    async with app.run_test(size=(20, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, [line])
        await pilot.pause()
        width = log.scrollable_content_region.width
        assert width < 20
        shown = [log.render_line(y).text for y in range(log.size.height)]
        assert all(len(text) == width for text in shown)
        assert "".join(shown).replace(" ", "") == line.replace(" ", "")


async def test_the_log_keeps_its_newest_lines_and_shows_them_at_the_bottom(monkeypatch):
    from agent_tui.tui.widgets import session_log

    monkeypatch.setattr(session_log, "MAX_LINES", 5)
    app = LogApp()
    async with app.run_test(size=(40, 4)) as pilot:
        log = app.query_one(SessionLog)
        for number in range(1, 9):
            log.add(f"line {number}")
        assert log.backlog == 8
        log.flush()
        await pilot.pause()
        assert log.backlog == 0 and log.lines_written == 8
        assert [strip.text.rstrip() for strip in log.lines] == [f"line {n}" for n in range(4, 9)]
        # Following: the last lines fill the pane, the newest at the bottom.
        shown = [log.render_line(y).text.rstrip() for y in range(log.size.height)]
        assert shown[-1] == "line 8"
        assert shown == [f"line {n}" for n in range(9 - len(shown), 9)]


def numbered(count: int) -> list[str]:
    """Lines that wrap in a narrow pane, each starting with its number."""
    return [f"{n:03} the agent reads greeter/core.py and writes tests for it" for n in range(count)]


def write(log: SessionLog, lines: list[str]) -> None:
    """Queue ``lines`` and write them at once, as the log's timer would."""
    for line in lines:
        log.add(line)
    log.flush()


def unwrapped(log: SessionLog) -> str:
    return "".join(strip.text for strip in log.lines).replace(" ", "")


async def test_a_narrower_pane_wraps_the_kept_lines_again_and_loses_nothing():
    # Found in tmux: after the terminal was narrowed, lines wrapped at the old width were cut.
    lines = numbered(30)
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines)
        assert len(log.lines) == 30
        await pilot.resize_terminal(40, 10)
        await wait_until(pilot, lambda: log.wrap_width < 60, "the new width to be seen")
        await wait_until(pilot, lambda: log.rewrapping is None, "the lines to be wrapped again")
        width = log.scrollable_content_region.width
        assert log.wrap_width == width and len(log.lines) > 30
        assert all(len(strip.text.rstrip()) <= width for strip in log.lines)
        assert unwrapped(log) == "".join(lines).replace(" ", "")
        # Still following: the newest line ends at the bottom of the pane.
        shown = [log.render_line(y).text.rstrip() for y in range(log.size.height)]
        assert shown[-1] and "029" in "".join(shown[-3:])


async def test_lines_long_out_of_the_wrapped_ones_are_drawn_as_they_were_written():
    # Only the last WRAPPED_TEXTS lines are kept wrapped; a reader scrolled far back gets
    # the older ones wrapped again, the same rows at the same places.
    from agent_tui.tui.widgets.session_log import WRAPPED_TEXTS

    lines = numbered(WRAPPED_TEXTS * 3)
    app = LogApp()
    async with app.run_test(size=(40, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines)
        await pilot.pause()
        rows = [row.text.rstrip() for row in log.lines]
        assert len(rows) == 2 * len(lines)  # two screen lines each at this width
        assert unwrapped(log) == "".join(lines).replace(" ", "")
        log.scroll_to(y=2 * 10, animate=False, immediate=True)
        await pilot.pause()
        shown = [log.render_line(y).text.rstrip() for y in range(log.size.height)]
        assert shown[0].startswith("010") and shown[:4] == rows[20:24]


async def test_a_reader_scrolled_up_keeps_their_line_at_the_top_when_the_pane_narrows():
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, numbered(40))
        await pilot.pause()
        log.scroll_to(y=12, animate=False, immediate=True)
        await pilot.pause()
        assert log.scrolled_away and log.render_line(0).text.startswith("012")
        await pilot.resize_terminal(40, 10)
        await wait_until(pilot, lambda: log.wrap_width < 60, "the new width to be seen")
        await wait_until(pilot, lambda: log.rewrapping is None, "the lines to be wrapped again")
        await pilot.pause()
        assert log.scroll_y == 24  # each line takes two screen lines now
        assert log.render_line(0).text.startswith("012") and log.scrolled_away


@pytest.fixture
def held_rewraps(monkeypatch) -> list[Callable[[], None]]:
    """The log's rewrap threads, held: each runs when the test calls it, on its own thread."""
    from agent_tui.tui.widgets import session_log

    started: list[Callable[[], None]] = []

    class HeldThread:
        def __init__(self, target, name, daemon):
            self.target = target

        def start(self):
            started.append(self.target)

    monkeypatch.setattr(session_log, "Thread", HeldThread)
    return started


async def test_lines_written_or_dropped_while_rewrapping_are_kept_in_order(
    monkeypatch, held_rewraps
):
    from agent_tui.tui.widgets import session_log

    started = held_rewraps
    monkeypatch.setattr(session_log, "MAX_LINES", 30)
    lines = numbered(30)
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines[:20])
        await pilot.resize_terminal(40, 10)
        await wait_until(pilot, lambda: started, "a rewrap to start")
        # While it runs, ten lines come at the new width (two screen lines each): with the
        # twenty one-line ones that is forty, so the oldest ten go.
        write(log, lines[20:])
        assert [text.plain for text in log._texts] == lines[10:]
        started[0]()
        await wait_until(pilot, lambda: log.rewrapping is None, "the rewrap to land")
        # Wrapped again, the ten older ones take two lines each too: five more go.
        assert [text.plain for text in log._texts] == lines[15:]
        assert len(log.lines) == 30
        assert unwrapped(log) == "".join(lines[15:]).replace(" ", "")


async def test_while_a_rewrap_runs_each_line_is_drawn_whole_as_it_was_counted(held_rewraps):
    # Found in review: with rows wrapped only when drawn, the older lines were wrapped at the
    # new width but placed by their old counts until the rewrap landed: half of each line
    # narrowed, each line twice widened.
    started = held_rewraps
    lines = numbered(8)
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines[:4])
        await pilot.resize_terminal(40, 10)
        await wait_until(pilot, lambda: started, "a rewrap to start")
        write(log, lines[4:])  # at the new width: two rows each
        assert len(log.lines) == 4 + 8
        assert unwrapped(log) == "".join(lines).replace(" ", "")
        await pilot.resize_terminal(100, 10)
        await wait_until(pilot, lambda: len(started) == 2, "a second rewrap to start")
        assert unwrapped(log) == "".join(lines).replace(" ", "")


async def test_only_the_newest_rewrap_is_used_when_the_width_comes_back(held_rewraps):
    # Found in review: narrowed, widened with lines written, then narrowed to the first
    # width again, the first rewrap was taken and left the lines written between unwrapped.
    started = held_rewraps
    lines = numbered(12)
    app = LogApp()
    async with app.run_test(size=(100, 10)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines[:6])
        for count, size in enumerate(((40, 10), (70, 10)), start=1):
            await pilot.resize_terminal(*size)
            await wait_until(pilot, lambda n=count: len(started) == n, "a rewrap to start")
        write(log, lines[6:])
        await pilot.resize_terminal(40, 10)
        await wait_until(pilot, lambda: len(started) == 3, "the third rewrap to start")
        for rewrap in started:
            rewrap()
        await wait_until(pilot, lambda: log.rewrapping is None, "the rewrap to land")
        width = log.scrollable_content_region.width
        assert log.wrap_width == width
        assert all(len(strip.text.rstrip()) <= width for strip in log.lines)
        assert unwrapped(log) == "".join(lines).replace(" ", "")


async def test_the_subtask_detail_masks_tokens_shows_why_it_is_stuck_and_cuts_long_messages():
    from agent_tui.engine.events import core as ev
    from agent_tui.tui.screens.subtask_detail import MESSAGE_CHARS, SubtaskDetail

    token = "sk-ant-oat01-DETAILcanary0000000000000000"
    subtask = ev.SubtaskView(
        id="2.1",
        description=f"Use {token} nowhere",
        status="failed",
        phase_id="2",
        attempts=2,
        stuck=True,
    )
    attempts = [
        {
            "session": 4,
            "ts": "2026-11-24T10:00:00+00:00",
            "outcome": "error",
            "error_kind": "other",
            "message": f"CLI said {token}",
        },
        {
            "session": 5,
            "ts": "2026-11-24T10:05:00+00:00",
            "outcome": "error",
            "error_kind": "other",
            "message": "x" * (MESSAGE_CHARS * 2),
        },
        {
            "session": 6,
            "ts": "2026-11-24T10:09:00",
            "outcome": "interrupted",
            "message": "interrupted",
        },
    ]
    app = App()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(SubtaskDetail(subtask, "Command line", attempts, "other error 3 times"))
        await pilot.pause()
        shown = screen_text(app.screen)
        assert token not in shown and "sk-ant-oat01-…" in shown
        assert "⚠ 2.1  stuck  ·  Command line" in shown
        assert "stuck: other error 3 times" in shown
        assert "1. session 4  2026-11-24 10:00:00  error (other)" in shown
        assert "x" * (MESSAGE_CHARS * 2) not in shown.replace("\n", "").replace(" ", "")
        assert "…" in shown
        assert shown.count("interrupted") == 1  # the outcome, not again as its message
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SubtaskDetail)


async def test_the_subtask_detail_shows_the_end_of_a_failed_checks_output():
    from agent_tui.engine.events import core as ev
    from agent_tui.tui.screens.subtask_detail import CHECK_TAIL_LINES, SubtaskDetail

    token = "sk-ant-oat01-CHECKcanary00000000000000000"
    output = "".join(f"out {n}\n" for n in range(40)) + f"E assert add(3, 4) == 8 {token}\n"
    check = {
        "outcome": "failed",
        "command": "pytest -q",
        "exit_status": 1,
        "reason": "`pytest -q` exited 1 (expected 0)",
        "output_tail": output,
    }
    attempts = [
        {
            "session": 3,
            "ts": "2026-11-24T10:00:00",
            "outcome": "check_failed",
            "message": check["reason"],
            "verification": check,
        },
        {
            "session": 4,
            "ts": "2026-11-24T10:05:00",
            "outcome": "check_passed",
            "verification": {**check, "outcome": "passed", "output_tail": "all good"},
        },
    ]
    subtask = ev.SubtaskView(
        id="1.1", description="add", status="pending", phase_id="1", attempts=2
    )
    app = App()
    async with app.run_test(size=(120, 60)) as pilot:
        app.push_screen(SubtaskDetail(subtask, "Core", attempts))
        await pilot.pause()
        shown = screen_text(app.screen)
        assert f"check output (last {CHECK_TAIL_LINES} lines):" in shown
        assert f"│ out {40 - CHECK_TAIL_LINES + 1}" in shown
        assert re.search(rf"│ out {40 - CHECK_TAIL_LINES}\b", shown) is None
        assert "│ E assert add(3, 4) == 8 sk-ant-oat01-…" in shown and token not in shown
        assert "all good" not in shown  # a check that passed needs no output


async def test_a_subtask_detail_longer_than_the_screen_scrolls_to_its_sessions():
    # Found by a tester: a 5 000-character description filled the dialog and pushed the
    # sessions and the keys out of sight, with no way to scroll to them.
    from agent_tui.engine.events import core as ev
    from agent_tui.tui.screens.subtask_detail import SubtaskDetail

    subtask = ev.SubtaskView(
        id="1.1", description="word " * 1000, status="in_progress", phase_id="1", attempts=1
    )
    attempts = [{"session": 7, "ts": "2026-11-24T10:00:00", "outcome": "error", "message": "x"}]
    app = App()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(SubtaskDetail(subtask, "Core", attempts))
        await pilot.pause()
        body = app.screen.query_one("#detail")
        sessions = app.screen.query_one("#detail-attempts")
        assert body.has_focus and body.max_scroll_y > 0
        assert "Esc or Enter: close" in str(body.border_subtitle)
        assert not body.region.contains_region(sessions.region)  # below the fold
        await pilot.press("end")
        await pilot.pause()
        assert body.region.contains_region(sessions.region)
        assert "1. session 7" in screen_text(app.screen)


async def test_a_wrapped_line_continues_under_its_text_not_at_the_margin():
    # Found by a newcomer: wrapped lines lost their indent, so a long Bash command read as
    # lines of the agent's own text.
    lines = [
        '  ▶ Bash python3 -c "import tests.test_core as t; t.test_greet(); t.test_farewell()"',
        "── session 12: coder subtask 3.4  profile work, attempt 2  → logs/session-012.jsonl",
        "The agent's own words wrap at the margin, as any paragraph does in a terminal.",
        "  ✘ 1.2 failed: exited 1\n      AssertionError: expected 'Goodbye, Ada.' but got more",
    ]
    app = LogApp()
    async with app.run_test(size=(50, 20)) as pilot:
        log = app.query_one(SessionLog)
        write(log, lines)
        await pilot.pause()
        rows = [row.text.rstrip() for row in log.lines]
        bash = rows[: rows.index(next(r for r in rows if r.startswith("──")))]
        assert bash[0].startswith("  ▶ Bash") and len(bash) > 1
        assert all(row.startswith("    ") and row[4] != " " for row in bash[1:])
        session = [r for r in rows if r.startswith("   ") and "session-012" in r]
        assert session  # under "session", three cells in
        words = rows.index(next(r for r in rows if r.startswith("The agent")))
        assert rows[words + 1][0] != " "
        assert rows[-1].startswith("      ") and rows[-2].startswith("      AssertionError")
        assert "".join(rows).replace(" ", "") == "".join(lines).replace(" ", "").replace("\n", "")


async def test_a_search_marks_its_matches_and_steps_between_them_round_the_end():
    app = LogApp()
    async with app.run_test(size=(80, 6)) as pilot:
        log = app.query_one(SessionLog)
        write(log, [f"line {n}: {'needle' if n % 10 == 3 else 'hay'}" for n in range(40)])
        await pilot.pause()
        assert log.find("NEEDLE") == 4  # any case
        assert log.search.line == 33  # the nearest above the bottom of the pane, not the first
        assert not log.following
        assert str(log.border_subtitle).startswith("/NEEDLE: 4 of 4")
        log.next_match(1)
        assert log.search.line == 3  # round the end, to the top
        log.next_match(-1)
        log.next_match(-1)
        assert log.search.line == 23
        await pilot.pause()
        shown = [log.render_line(y) for y in range(log.size.height)]
        marked = [
            segment
            for strip in shown
            for segment in strip
            if segment.text == "needle" and segment.style and segment.style.bgcolor
        ]
        assert marked and any("line 23" in strip.text for strip in shown)
        write(log, ["line 40: needle"])
        assert len(log.search.matches) == 5  # a line written during a search is found too
        log.end_search()
        assert log.search is None and log.border_subtitle is None


async def test_a_search_is_the_users_text_not_a_pattern_nor_markup():
    app = LogApp()
    async with app.run_test(size=(80, 6)) as pilot:
        log = app.query_one(SessionLog)
        write(log, ["a [b]bold[/b] and (x+", "nothing"])
        await pilot.pause()
        assert log.find("[b]bold[/b] and (x+") == 1
        # Textual hands a title back as markup: the brackets come back escaped, so they
        # were kept as text.
        assert log.border_subtitle.startswith(escape("/[b]bold[/b] and (x+") + ": 1 of 1")


def test_a_lines_count_is_the_number_of_rows_its_wrap_makes():
    # The log counts a written line's rows without wrapping it when it fits; the count
    # must be what drawing it wraps it into, or the lines below would be drawn off by one.
    from rich.console import Console
    from rich.text import Text

    from agent_tui.tui.log_wrap import counter, wrapper

    console = Console(width=200, color_system=None)
    samples = [
        "",
        "x",
        "a" * 39,
        "a" * 40,
        "a" * 41,
        "  ▶ Bash pytest -q tests/test_core.py",
        "  ▶ Bash " + "word " * 20,
        "L2   ◀ The file greeter/core.py has been updated successfully.",
        "界" * 19 + "a",
        "界" * 20,
        "界" * 21,
        "first\nsecond",
        "fits\n" + "b" * 60,
        "\n\n",
        "── session 3 ──",
        "a\tb",
    ]
    for width in (10, 20, 40):
        count, wrap = counter(console, width), wrapper(console, width)
        for sample in samples:
            text = Text(sample)
            text.expand_tabs()
            assert count(text) == len(wrap(text)), (width, sample)


async def test_a_flood_of_events_is_shown_in_passes_in_order_and_none_is_lost():
    from agent_tui.engine.events import core as ev
    from agent_tui.tui.screens import main as main_screen

    app = AgentApp(None)
    flood = [ev.AssistantText(session=1, text=f"line {n}") for n in range(1200)]
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.main_screen
        await wait_until(pilot, lambda: bool(screen.query(SessionLog)), "the screen composed")
        for event in flood:
            screen.take(event)
        screen._show_some()
        assert screen.events_seen == main_screen.SHOWN_AT_ONCE  # the rest a moment later
        await wait_until(pilot, lambda: not screen._incoming, "the rest shown")
        assert screen.events_seen == len(flood)
        texts = [text.plain for text in screen.log_view.kept_texts()]
        shown = [t for t in texts if t.strip().startswith("line ")]
        assert [t.split()[-1] for t in shown] == [str(n) for n in range(1200)]


async def test_a_flood_is_written_a_few_lines_a_flush_and_what_cannot_be_kept_is_skipped(
    monkeypatch,
):
    from agent_tui.tui.widgets import session_log

    monkeypatch.setattr(session_log, "MAX_LINES", 5)
    app = LogApp()
    async with app.run_test(size=(40, 4)) as pilot:
        log = app.query_one(SessionLog)
        for number in range(1, 4):
            log.add(f"old {number}")
        log.flush(None)
        for number in range(1, 13):
            log.add(f"line {number}")
        log.flush(3)  # of 12 queued only the newest 5 could be kept: 7 go, 3 are written
        assert log.backlog == 2
        assert log.lines_written == 3 + 7 + 3
        assert log.lines_dropped == 3 + 7  # the old lines went with the skipped ones
        assert log.plain_lines() == ["line 8", "line 9", "line 10"]
        log.flush(3)
        await pilot.pause()
        assert log.backlog == 0
        assert [strip.text.rstrip() for strip in log.lines] == [f"line {n}" for n in range(8, 13)]
        shown = [log.render_line(y).text.rstrip() for y in range(log.size.height)]
        assert shown[-1] == "line 12"


async def test_showing_everything_writes_what_earlier_passes_took_in_without_writing():
    # Found by review: after a pass that did not write, show_events() found no events and
    # returned, so a log saved then missed the lines already taken in.
    from agent_tui.engine.events import core as ev

    app = AgentApp(None)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.main_screen
        await wait_until(pilot, lambda: bool(screen.query(SessionLog)), "the screen composed")
        for n in range(600):
            screen.take(ev.AssistantText(session=1, text=f"line {n}"))
        screen._show_some()  # 500 taken in, some written
        screen._show_more()  # the other 100 taken in, none written
        assert not screen._incoming and screen.log_view.backlog
        screen.show_events()  # as saving the log and the loop's end do
        assert screen.log_view.backlog == 0
        written = [t.strip() for t in screen.log_view.plain_lines() if "line " in t]
        assert written == [f"line {n}" for n in range(600)]
    screen.show_events()  # as the loop's end may, once the app's widgets are gone
    app.loop_done(LoopDone(exit_code=2, error="the loop failed"))  # a loop ending late
    assert app.exit_code == 2
