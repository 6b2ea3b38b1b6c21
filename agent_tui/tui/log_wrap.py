"""Wrapping a log line to the pane's width, its continuation rows under its text."""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

MARKER = re.compile(r"(?:L\d+ )? *(?:[^\w\s]{1,2} )?")
"""What a continuation row hangs under: the lane's prefix in the all-lanes view (``L2 ``),
the line's indent and its marker (``  ▶ ``, ``── ``, ``- ``).  A line that starts with a
word hangs under nothing; after a lane's prefix, under that word."""


class Line(tuple):
    """One screen line: its segments, wrapped and padded to the width it was written at.

    Kept as plain segments, not as a ``Strip``: each ``Strip`` carries seven caches, so
    5 000 kept strips were some 60 000 objects for the collector to walk on every full
    pass (25-56 ms each, a delayed key press when one met a flush).  A ``Strip`` is made
    only to draw a line, and only the last few hundred drawn are kept."""

    __slots__ = ()

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self)


def wrapper(console: Console, width: int) -> Callable[[Text], list[Line]]:
    """A function wrapping one line at ``width``; it may run in another thread.

    Each row of a line (it may hold newlines) that is too long wraps under its own text:
    ``  ▶ Bash`` and ``  ⚖ checking 1.3: …`` continue under ``Bash`` and ``checking``, a
    verification's output under its first character, ``L2   ◀ The file …`` under ``The``,
    so a wrapped line still reads as one and the markers and lanes down the left stay the
    only thing there."""
    options = console.options.update_width(width)
    blank = Line((Segment(" " * width),))

    def render(text: Text, at: int) -> list[list[Segment]]:
        return list(Segment.split_lines(console.render(text, options.update_width(at))))

    def wrap(line: Text) -> list[Line]:
        rows: list[Line] = []
        for part in line.split("\n", allow_blank=True):
            hang = len(MARKER.match(part.plain).group())  # type: ignore[union-attr]
            hang_cells = cell_len(part.plain[:hang])
            if part.cell_len <= width or not hang or hang_cells > width // 2:
                rendered = render(part, width)
            else:
                body = render(part[hang:], width - hang_cells)
                head = list(part[:hang].render(console))
                indent = Segment(" " * hang_cells)
                rendered = [head + body[0], *([indent, *row] for row in body[1:])]
            rows.extend(Line(Segment.adjust_line_length(row, width)) for row in rendered)
        return rows or [blank]

    return wrap


def counter(console: Console, width: int) -> Callable[[Text], int]:
    """A function telling how many screen lines one line takes at ``width``, as
    ``wrapper`` would wrap it; it may run in another thread.

    Most lines fit: each of their rows is counted by its cells alone, without the render a
    wrap costs (a flood of short lines was mostly that render).  A line with a row too long
    is wrapped to be counted."""
    wrap = wrapper(console, width)

    def count(line: Text) -> int:
        parts = line.plain.split("\n")
        if all(cell_len(part) <= width for part in parts):
            return len(parts)
        return len(wrap(line))

    return count
