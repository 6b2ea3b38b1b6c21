"""A search of the session log: which kept lines match, which one is current, and the
matches of a drawn row marked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from rich.segment import Segment
from rich.style import Style


@dataclass
class LogSearch:
    """Matches are kept lines by number since the log began (the first line is 0), so
    lines trimmed from the top drop out and the rest keep their numbers."""

    query: str
    matches: list[int] = field(default_factory=list)
    current: int = -1
    """Index into ``matches`` of the one shown; -1 before the first jump."""

    def __post_init__(self) -> None:
        # The query is the user's text: matched as it is typed, never as a pattern.
        self.pattern = re.compile(re.escape(self.query), re.IGNORECASE)

    def matches_text(self, text: str) -> bool:
        return self.pattern.search(text) is not None

    def add(self, number: int, text: str) -> None:
        if self.matches_text(text):
            self.matches.append(number)

    def drop_before(self, first: int) -> None:
        """Forget the matches in lines trimmed from the log (numbers below ``first``)."""
        gone = 0
        while gone < len(self.matches) and self.matches[gone] < first:
            gone += 1
        if gone:
            del self.matches[:gone]
            self.current = max(self.current - gone, -1 if not self.matches else 0)

    @property
    def line(self) -> int | None:
        """The number of the current match's line, if there is one."""
        if 0 <= self.current < len(self.matches):
            return self.matches[self.current]
        return None

    def nearest_up_to(self, number: int) -> None:
        """Make current the last match at or before line ``number`` (else the last of all):
        the first jump goes to what was just read, not to the top of a long log."""
        before = [index for index, line in enumerate(self.matches) if line <= number]
        self.current = before[-1] if before else len(self.matches) - 1

    def step(self, by: int) -> None:
        """The next (``by`` 1, newer) or previous (-1, older) match, round the end."""
        if self.matches:
            self.current = (self.current + by) % len(self.matches)

    def status(self) -> str:
        if not self.matches:
            return f"/{self.query}: no match"
        return f"/{self.query}: {self.current + 1} of {len(self.matches)} · n N · esc"

    def marked(self, row: Iterable[Segment], style: Style) -> list[Segment]:
        """``row`` with each match of the query in it drawn in ``style`` as well."""
        segments = list(row)
        text = "".join(segment.text for segment in segments)
        spans = [match.span() for match in self.pattern.finditer(text)]
        if not spans:
            return segments
        marked: list[Segment] = []
        start = 0
        for segment in segments:
            end = start + len(segment.text)
            cuts = sorted({start, end, *(x for span in spans for x in span if start < x < end)})
            for left, right in pairwise(cuts):
                piece = segment.text[left - start : right - start]
                inside = any(a <= left and right <= b for a, b in spans)
                shown = Style.combine([segment.style or Style(), style]) if inside else None
                marked.append(Segment(piece, shown or segment.style))
            start = end
        return marked
