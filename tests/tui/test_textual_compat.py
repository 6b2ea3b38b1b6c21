"""Each private Textual name agent-tui relies on still exists and still does what we use it for.

An upgrade of Textual that renames or changes one of them fails here first (see
``agent_tui.tui.textual_compat``).
"""

from __future__ import annotations

import signal

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.drivers.linux_driver import LinuxDriver
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static, Tree

from agent_tui.tui import textual_compat as compat
from tests.tui.conftest import count_layouts


class FooterApp(App[None]):
    BINDINGS = [Binding("p", "pause", "Pause")]

    def compose(self) -> ComposeResult:
        yield Footer()


async def test_the_running_driver_is_the_one_the_app_draws_through():
    app = FooterApp()
    assert compat.running_driver(app) is None
    async with app.run_test():
        driver = compat.running_driver(app)
        assert driver is not None and driver.is_headless
        assert app.is_headless


class Lines(ScrollView):
    DEFAULT_CSS = "Lines { overflow-y: scroll; overflow-x: hidden; height: 10; }"

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width)


class GrowApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Lines()
        yield Static("below")


async def test_a_scroll_view_grown_in_place_scrolls_to_its_new_end_without_a_layout():
    app = GrowApp()
    async with app.run_test(size=(40, 20)) as pilot:
        view = app.query_one(Lines)
        await pilot.pause()
        layouts = count_layouts(app.screen)
        compat.grow_in_place(view, Size(38, 50))
        assert view.virtual_size == Size(38, 50) and view.max_scroll_y == 40
        assert view.vertical_scrollbar.window_virtual_size == 50
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert view.scroll_y == 40
        assert layouts == []
        view.virtual_size = Size(38, 60)  # the plain way lays the screen out
        await pilot.pause()
        assert len(layouts) >= 1


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        tree: Tree[None] = Tree("root")
        tree.root.expand()
        yield tree


async def test_tree_lines_are_numbered_lazily_until_renumbered():
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(Tree)
        tree.root.add_leaf("first")
        await pilot.pause()
        compat.renumber_tree_lines(tree)
        added = tree.root.add_leaf("second")
        assert added.line == -1  # not numbered yet: move_cursor(added) would miss it
        compat.renumber_tree_lines(tree)
        assert added.line == 2


class Hooked(compat.LinuxDriverHooks):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.continued: list[tuple[object, ...]] = []

    def on_sigcont(self, *args: object) -> None:
        self.continued.append(args)


async def test_the_linux_driver_hooks_reach_its_writer_thread_and_its_sigcont_handler():
    assert callable(LinuxDriver._sigcont_application)
    saved = signal.getsignal(signal.SIGCONT), signal.getsignal(signal.SIGTSTP)
    try:
        driver = Hooked(None)
        assert driver.writer_thread is None  # set in application mode only
        driver._writer_thread = "the writer"  # type: ignore[assignment]
        assert driver.writer_thread == "the writer"
        handler = signal.getsignal(signal.SIGCONT)  # what LinuxDriver installed for SIGCONT
        handler(signal.SIGCONT, None)  # type: ignore[operator, misc]
        assert driver.continued == [(signal.SIGCONT, None)]
    finally:
        signal.signal(signal.SIGCONT, saved[0])
        signal.signal(signal.SIGTSTP, saved[1])
