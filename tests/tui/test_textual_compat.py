"""Each private Textual name agent-tui relies on still exists and still does what we use it for.

An upgrade of Textual that renames or changes one of them fails here first (see
``agent_tui.tui.textual_compat``).
"""

from __future__ import annotations

import signal

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.drivers.linux_driver import LinuxDriver
from textual.widgets import Footer, Tree

from agent_tui.tui import textual_compat as compat


class FooterApp(App[None]):
    BINDINGS = [Binding("p", "pause", "Pause")]

    def compose(self) -> ComposeResult:
        yield Footer()


async def test_footer_keys_are_footer_key_widgets_composed_once_the_bindings_are_ready():
    app = FooterApp()
    assert not compat.footer_bindings_ready(Footer())
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        assert compat.footer_bindings_ready(footer)
        keys = list(footer.query(compat.FooterKey))
        assert [(key.key, key.description) for key in keys][:1] == [("p", "Pause")]


async def test_the_running_driver_is_the_one_the_app_draws_through():
    app = FooterApp()
    assert compat.running_driver(app) is None
    async with app.run_test():
        driver = compat.running_driver(app)
        assert driver is not None and driver.is_headless
        assert app.is_headless


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
