"""One line of labelled fields: profile, model, session and subtask, cost (this session,
this run, this spec), the tightest budget and the forecast, tokens, containment and the
loop's state."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from agent_tui.engine.events.money import money


class Shown(StrEnum):
    """What the status line says the loop is doing (the value is the words shown)."""

    STARTING = "starting"
    RUNNING = "running"
    PAUSING = "pausing…"
    PAUSED = "paused"
    BACKING_OFF = "backing off"
    WAITING_FOR_RESET = "waiting for the usage limit"
    REVIEWING = "plan review"
    STUCK = "stuck"
    COMPLETE = "complete"
    STOPPED = "stopped"
    ERROR = "error"


STATE_STYLES = {
    Shown.STARTING: "dim",
    Shown.RUNNING: "bold green",
    Shown.PAUSING: "bold yellow",
    Shown.PAUSED: "bold yellow",
    Shown.BACKING_OFF: "bold magenta",
    Shown.WAITING_FOR_RESET: "bold magenta",
    Shown.REVIEWING: "bold cyan",
    Shown.STUCK: "bold red",
    Shown.COMPLETE: "bold green",
    Shown.STOPPED: "bold red",
    Shown.ERROR: "bold red",
}


class Field(NamedTuple):
    """One field of the status line: ``label value``; a field with no value is left out."""

    name: str
    """What it is, for the order in which a narrow line drops fields."""
    label: str
    value: Text


SHORT_COST = "cost, in fewer words"
DROP_ORDER = (
    "tokens", "model", "forecast", SHORT_COST, "session", "quota", "cost", "budget", "lanes"
)  # fmt: skip
"""What a narrow status line gives up first (the costs are first said in fewer words, and
go after the usage window); profile, containment and state stay."""
SEPARATOR = " │ "
DETAIL_KEPT = 24
"""What of the state's detail a field is dropped for; past it the detail is cut."""


def _tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


class StatusBar(Widget):
    """Each field is a reactive; a change repaints this line and nothing else."""

    COMPONENT_CLASSES = {"status-bar--label", "status-bar--separator"}

    profile: reactive[str] = reactive("-")
    next_profile: reactive[str] = reactive("")
    """A profile switched to in the app that the next session brings in."""
    quota: reactive[str] = reactive("")
    """The active profile's usage window in a few words: ``5h 91% · resets 20:50``."""
    model: reactive[str] = reactive("default")
    session: reactive[int] = reactive(0)
    """The running (or last) session's number; 0 until the first."""
    subtask: reactive[str] = reactive("")
    session_cost: reactive[float] = reactive(0.0)
    total_cost: reactive[float] = reactive(0.0)
    """This run's."""
    spec_cost: reactive[float | None] = reactive(None)
    """The spec's, over every run (None until the first session ends)."""
    budget: reactive[str] = reactive("")
    """The budget closest to its limit: ``$4.10 of $5.00 --max-spend (82%)``, running
    sessions' spend so far counted."""
    forecast: reactive[str] = reactive("")
    """``≈ $4.20 · 1 h 10 min left``."""
    total_tokens: reactive[tuple[int, int]] = reactive((0, 0))
    """This run's input and output tokens, running sessions' so far counted."""
    lanes: reactive[str] = reactive("")
    """With several lanes: ``2/4 busy · merging 1.2 · 1 queued · log: all lanes``."""
    state: reactive[Shown] = reactive(Shown.STARTING)
    detail: reactive[str] = reactive("")
    sandboxed: reactive[bool | None] = reactive(None)
    """Whether the run's sessions are sandboxed; None until the loop has said."""

    def fields(self) -> list[Field]:
        """The fields in the order shown; a field to add (lanes busy/total, say) goes here."""
        tokens_in, tokens_out = self.total_tokens
        ran = self.session > 0
        return [
            Field("profile", "profile", self._profile()),
            Field("quota", "usage", Text(self.quota, style="cyan")),
            Field("model", "model", Text(self.model)),
            Field("session", "session", self._session()),
            Field("lanes", "lanes", Text(self.lanes, style="magenta")),
            Field("cost", "cost", self._cost() if ran or self.spec_cost is not None else Text()),
            Field("budget", "budget", Text(self.budget, style="yellow")),
            Field("forecast", "forecast", Text(self.forecast)),
            Field(
                "tokens",
                "tokens",
                Text(f"{_tokens(tokens_in)} in · {_tokens(tokens_out)} out") if ran else Text(),
            ),
            *self._containment(),
            Field("state", "", self._state()),
        ]

    def render(self) -> Text:
        """Everything that fits; a narrow terminal drops tokens, then the model and the
        forecast, then says the costs in fewer words, then drops the session, the usage
        window, the costs, the budget and the lanes, so the loop's state (the one thing a
        glance must find) always shows."""
        fields = [field for field in self.fields() if field.value.plain]
        width = self.content_size.width
        for name in DROP_ORDER:
            if not width or self._fitting(fields) <= width:
                break
            if name == SHORT_COST:
                fields = [
                    field._replace(value=self._cost(short=True)) if field.name == "cost" else field
                    for field in fields
                ]
            else:
                fields = [field for field in fields if field.name != name]
        text = self._joined(fields)
        if width:
            text.truncate(width, overflow="ellipsis")
        return text

    def _fitting(self, fields: list[Field]) -> int:
        """The line's width, the state's detail counted up to ``DETAIL_KEPT`` cells: a long
        one (``all 12 subtasks completed``) is cut at the end rather than push the costs
        off the line."""
        cut = [
            field._replace(value=field.value[: len(f"● {self.state}") + DETAIL_KEPT])
            if field.name == "state"
            else field
            for field in fields
        ]
        return self._joined(cut).cell_len

    def text_of(self, name: str) -> str:
        """A field as shown, label and value, in plain text ("" when it is left out)."""
        for field in self.fields():
            if field.name == name and field.value.plain:
                return f"{field.label} {field.value.plain}".strip()
        return ""

    def _joined(self, fields: list[Field]) -> Text:
        label_style = self.get_component_rich_style("status-bar--label")
        separator = Text(SEPARATOR, style=self.get_component_rich_style("status-bar--separator"))
        shown = []
        for field in fields:
            text = Text(f"{field.label} ", style=label_style) if field.label else Text()
            shown.append(text.append_text(field.value))
        return separator.join(shown)

    def _session(self) -> Text:
        if not self.session:
            return Text()
        session = Text(str(self.session))
        if self.subtask:
            session.append(f" · {self.subtask}", style="bold")
        return session

    def _state(self) -> Text:
        style = STATE_STYLES.get(self.state, "bold")
        state = Text(f"● {self.state}", style=style)
        if self.detail:  # "● complete · all 5 subtasks completed", not run together
            state.append(f" · {self.detail}", style=style)
        return state

    def _cost(self, *, short: bool = False) -> Text:
        """``$0.42 session · $1.20 this run · $4.50 this spec`` (short: ``$0.42 · $1.20 run``)."""
        if short:
            return Text.assemble(
                money(self.session_cost), (f" · {money(self.total_cost)} run", "dim")
            )
        cost = Text.assemble(
            f"{money(self.session_cost)} session",
            (f" · {money(self.total_cost)} this run", "dim"),
        )
        if self.spec_cost is not None:
            cost.append(f" · {money(self.spec_cost)} this spec", style="dim")
        return cost

    def _containment(self) -> list[Field]:
        """Loud and permanent when unsandboxed: the guard alone is no boundary."""
        if self.sandboxed is None:
            return []
        if self.sandboxed:
            return [Field("containment", "", Text("sandboxed", style="green"))]
        return [Field("containment", "", Text(" UNSANDBOXED ", style="bold white on red"))]

    def _profile(self) -> Text:
        profile = Text(self.profile, style="bold cyan")
        if self.next_profile and self.next_profile != self.profile:
            profile.append(f" → {self.next_profile}", style="cyan")
        return profile
