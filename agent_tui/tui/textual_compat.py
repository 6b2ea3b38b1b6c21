"""Every private Textual name agent-tui uses, each with the reason and its upstream source.

Textual is pinned (textual==8.2.8) and none of these is public API: an upgrade may rename
or drop any of them.  ``tests/tui/test_textual_compat.py`` checks that each still exists
and still behaves as relied on, so an upgrade fails there, in one place, rather than at
run time; ``tests/unit/test_import_layers.py`` checks that no other module of agent_tui
names a private Textual module or attribute.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver
    from textual.drivers._writer_thread import WriterThread
    from textual.geometry import Size
    from textual.scroll_view import ScrollView
    from textual.widgets import Tree

__all__ = [
    "LinuxDriverHooks",
    "grow_in_place",
    "renumber_tree_lines",
    "running_driver",
]


def grow_in_place(view: ScrollView, size: Size) -> None:
    """Give a scrolling widget a new virtual size without laying the screen out again.

    ``virtual_size`` is a reactive with ``layout=True``: set plainly, every change (the log
    growing by a batch of lines) reflows and repaints the whole screen.  A widget whose
    scrollbars are fixed by its styles (``overflow-y: scroll``, ``overflow-x: hidden``)
    changes no geometry by growing: its scrollbar and scroll limits are all that need to
    follow, which is what Textual itself does for a size found during a layout
    (``Widget._size_updated`` with ``layout=False``: ``set_reactive`` and ``_scroll_update``).

    https://github.com/Textualize/textual/blob/v8.2.8/src/textual/widget.py
    """
    view.set_reactive(Widget.virtual_size, size)
    view._scroll_update(size)


def running_driver(app: App) -> Driver | None:
    """The driver of a running app (``App._driver``; there is no public accessor): the
    start-up gate releases the held first frame through it, a SIGHUP tells it the
    terminal may be gone, and a desktop notification's escape is written through it.

    https://github.com/Textualize/textual/blob/v8.2.8/src/textual/app.py
    """
    return app._driver


def renumber_tree_lines(tree: Tree) -> None:
    """Make every node's line current before moving the cursor to one.

    ``Tree`` numbers its lines lazily (``_tree_lines``, rebuilt when read after nodes are
    added or a branch expands): until then ``move_cursor(node)`` uses the node's old line.
    Reading ``last_line`` reads ``_tree_lines``, which rebuilds them.

    https://github.com/Textualize/textual/blob/v8.2.8/src/textual/widgets/_tree.py
    """
    _ = tree.last_line


if sys.platform != "win32":  # the module imports termios
    from textual.drivers.linux_driver import LinuxDriver

    class LinuxDriverHooks(LinuxDriver):
        """``LinuxDriver`` with the private parts a hangup-safe driver needs, under names
        of ours.

        https://github.com/Textualize/textual/blob/v8.2.8/src/textual/drivers/linux_driver.py
        """

        @property
        def writer_thread(self) -> WriterThread | None:
            """The thread that writes to the terminal (``_writer_thread``; None outside
            application mode).  After a hangup its write fails (EIO) and it ends, and a
            write to its full queue then blocks for ever."""
            return self._writer_thread

        def _sigcont_application(self, *args: object) -> None:
            # Textual's SIGCONT handler, installed by LinuxDriver.__init__ as a bound method.
            self.on_sigcont(*args)

        def on_sigcont(self, *args: object) -> None:
            """On SIGCONT: Textual's handler starts application mode again."""
            super()._sigcont_application(*args)
