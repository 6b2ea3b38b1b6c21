"""What a newcomer tripped on in the app's look: the cursor of a reopened run, notices over
the newest line, text from the plan rendered as markup, and the log's search and save."""

from __future__ import annotations

import json

from textual.widgets import Input

from agent_tui.engine.events import core as ev
from agent_tui.tui.messages import EngineEvent
from agent_tui.tui.screens.log_search import SearchPrompt
from agent_tui.tui.screens.subtask_detail import SubtaskDetail
from tests.tui.conftest import all_shown, screen_text, wait_until

SIZE = (130, 34)
MARKUP = "[bold red]not bold[/bold red] [link=https://example.com]x[/link]"


def toasts(app) -> list:
    """The notices on screen (Textual keeps them out of ``query``: a system widget)."""
    rack = app.screen.get_child_by_id("textual-toastrack")
    return [widget for widget in rack.walk_children() if type(widget).__name__ == "Toast"]


def reopened(harness) -> None:
    """The plan as a run that stopped after two subtasks left it, and a PAUSE file."""
    plan_path = harness.workspace.spec_dir / "implementation_plan.json"
    plan = json.loads(plan_path.read_text())
    for subtask in plan["phases"][0]["subtasks"][:2]:
        subtask["status"] = "completed"
    plan_path.write_text(json.dumps(plan, indent=2))
    (harness.workspace.spec_dir / "PAUSE").write_text("")


async def test_the_first_enter_on_a_reopened_run_opens_the_next_subtask(scripted_app):
    # Found by a newcomer: the tree had no cursor, and enter folded the first phase.
    harness = scripted_app()
    reopened(harness)
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main_screen.status.state == "paused", "the pause")
        tree = app.main_screen.plan_tree
        assert tree.cursor_node is not None and tree.cursor_node.data == "1.3"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SubtaskDetail), "the detail")
        assert "1.3" in screen_text(app.screen)
        assert all(phase.is_expanded for phase in tree.root.children)
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: app.exit_code is not None, "the exit")


async def test_a_notice_covers_neither_the_newest_log_line_nor_the_status_line(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        app.notify("a notice long enough to take a few lines\n" * 3, timeout=30)
        await wait_until(pilot, lambda: toasts(app), "the notice")
        await pilot.pause()
        toast = toasts(app)[0].region
        log = app.main_screen.log_view.content_region
        newest = log.bottom - 1  # the log follows: its newest line is its last row
        assert not toast.overlaps(app.main_screen.status.region)
        assert not (toast.y <= newest < toast.bottom)
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_text_from_the_plan_and_the_agent_is_shown_as_written_never_as_markup(
    scripted_app,
):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(200, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        screen = app.main_screen
        view = ev.SubtaskView(id="9.9", description=MARKUP, status="pending", phase_id="9")
        plan = ev.PlanLoaded(
            spec_dir=str(harness.workspace.spec_dir),
            feature=MARKUP,
            phases=(ev.PhaseView(id="9", name=MARKUP, subtasks=(view,)),),
            total=1,
            completed=0,
        )
        for event in (plan, ev.SubtaskStuck(id="9.9", reason=MARKUP)):
            screen.post_message(EngineEvent(event))
        await wait_until(pilot, lambda: screen.plan_tree.is_built("9.9"), "the new plan")
        await wait_until(pilot, lambda: toasts(app), "the notice")
        await pilot.pause()
        assert MARKUP in screen.plan_tree.label_of("9.9")
        assert MARKUP in screen.title_bar.render().plain
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "[bold red]not bold[/bold red]" in shown  # the toast and the tree
        screen.plan_tree.move_cursor(screen.plan_tree.node_of("9.9"))
        screen.plan_tree.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SubtaskDetail), "the detail")
        assert MARKUP in screen_text(app.screen)
        await pilot.press("escape", "ctrl+c")
        await wait_until(pilot, lambda: app.exit_code is not None, "the exit")


async def test_slash_finds_in_the_log_and_n_and_shift_n_step_through_the_matches(scripted_app):
    harness = scripted_app(hold={"1.3"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.3" in harness.sessions.started, "session 3")
        await wait_until(pilot, lambda: app.main_screen.log_view.lines_written >= 14, "the log")
        log = app.main_screen.log_view
        assert "n" not in app.main_screen.keys.shown and not app.searching
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchPrompt), "the prompt")
        await pilot.press(*"pause")  # typed into the prompt: the loop's keys are asleep
        assert not app.loop.pause_requested
        assert app.screen.query_one(Input).value == "pause"
        await pilot.press(*["backspace"] * 5, *"working", "enter")
        await wait_until(pilot, lambda: log.search is not None, "the search")
        assert len(log.search.matches) == 3  # "Working on subtask 1.1", 1.2 and 1.3
        assert app.focused is log and app.searching
        lines = log.plain_lines()
        assert "1.3" in lines[log.search.line - log.lines_dropped]
        await pilot.press("N")
        assert "1.2" in lines[log.search.line]
        await pilot.press("n", "n")
        assert "1.1" in lines[log.search.line]  # round the end
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.searching, "the search to end")
        await pilot.press("n")
        assert log.search is None
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchPrompt), "the prompt")
        assert app.screen.query_one(Input).value == ""
        await pilot.press(*"nowhere", "enter")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the prompt to close")
        assert any("No line in the log has" in str(n.message) for n in app._notifications)
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_s_saves_the_log_as_markdown_in_the_specs_logs_and_says_where(scripted_app):
    harness = scripted_app(hold={"1.2"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.2" in harness.sessions.started, "session 2")
        await wait_until(pilot, lambda: all_shown(harness), "the events shown")
        await pilot.press("s")
        logs = harness.workspace.spec_dir / "logs"
        await wait_until(pilot, lambda: list(logs.glob("app-log-*.md")), "the saved log")
        (saved,) = logs.glob("app-log-*.md")
        text = saved.read_text()
        assert saved.stat().st_mode & 0o777 == 0o600
        assert "## Session 1" in text and "## Session 2" in text
        assert "```text\n── session 2: coder subtask 1.2" in text
        assert "Working on subtask 1.2." in text
        assert any(str(saved) in str(n.message) for n in app._notifications)
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_the_tree_shows_a_subtasks_whole_description_as_its_tooltip(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await wait_until(pilot, lambda: all_shown(harness), "the events shown")
        tree = app.main_screen.plan_tree
        node = tree.node_of("1.3")
        label = tree.render_label(node, tree.rich_style, tree.rich_style)
        assert label.plain.endswith("…") and label.cell_len <= tree.scrollable_content_region.width
        tree.hover_line = node.line
        assert str(tree.tooltip) == "1.3 Write tests/test_core.py for greet and farewell"
        harness.sessions.release.set()
        await wait_until(pilot, lambda: app.exit_code == 0, "the run to complete")


async def test_a_narrow_terminal_puts_the_log_under_the_tree_at_full_width(scripted_app):
    # Found by a newcomer: at 40 columns the log beside the tree had 8 to wrap in.
    app = scripted_app().app
    async with app.run_test(size=(40, 30)) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to end")
        await pilot.pause()
        tree, log = app.main_screen.plan_tree.region, app.main_screen.log_view.region
        assert log.width == tree.width == 40 and log.y >= tree.bottom
        assert tree.height >= 5
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        tree, log = app.main_screen.plan_tree.region, app.main_screen.log_view.region
        assert log.x >= tree.right and log.y == tree.y  # beside it again, at the same top


async def test_the_profile_pickers_legend_wraps_whole_in_a_narrow_terminal(scripted_app):
    from agent_tui.tui.screens.profile_picker import ProfilePicker

    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(50, 30)) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilePicker), "the picker")
        await pilot.pause()
        legend = app.screen.query_one("#picker-help")
        box = app.screen.query_one("#picker").content_region
        assert legend.region.x >= box.x and legend.region.right <= box.right  # none of it cut
        shown = " ".join(
            str(strip.text).strip() for strip in legend.render_lines(legend.region.reset_offset)
        )
        assert " ".join(shown.split()) == (
            "● in use now → in use from the next session (a switch waits) "
            "Enter: the highlighted profile, from the next session on"
        )
        harness.sessions.release.set()
