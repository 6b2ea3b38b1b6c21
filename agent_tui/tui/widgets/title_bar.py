"""The top line: the app's title, the feature and the run's progress."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class TitleBar(Widget):
    """Textual's ``Header`` lays the whole screen out again whenever its text changes
    (its title is a ``Static`` that may change size): once per subtask here.  One line of
    text drawn in place costs a repaint of that line.  The feature comes from the plan, so
    it is text, never markup."""

    COMPONENT_CLASSES = {"title-bar--title", "title-bar--feature"}

    feature: reactive[str] = reactive("")
    progress: reactive[str] = reactive("")

    def render(self) -> Text:
        line = Text(self.app.title, style=self.get_component_rich_style("title-bar--title"))
        detail = " · ".join(part for part in (self.feature, self.progress) if part)
        if detail:
            line.append(f" — {detail}", style=self.get_component_rich_style("title-bar--feature"))
        line.truncate(self.size.width, overflow="ellipsis")
        return line
