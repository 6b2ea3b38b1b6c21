"""One line: profile, model, session, subtask, cost (this session, this run, this spec),
the tightest budget and the forecast, tokens, containment and the loop's state."""

from __future__ import annotations

from enum import StrEnum

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

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


def _tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


class StatusBar(Static):
    profile: reactive[str] = reactive("-")
    next_profile: reactive[str] = reactive("")
    """A profile switched to in the app that the next session brings in."""
    quota: reactive[str] = reactive("")
    """The active profile's usage window in a few words: ``5h 91% · resets 20:50``."""
    model: reactive[str] = reactive("default")
    session: reactive[int] = reactive(0)
    subtask: reactive[str] = reactive("-")
    session_cost: reactive[float] = reactive(0.0)
    total_cost: reactive[float] = reactive(0.0)
    """This run's."""
    spec_cost: reactive[float | None] = reactive(None)
    """The spec's, over every run (None until the first session ends)."""
    budget: reactive[str] = reactive("")
    """The budget closest to its limit: ``$4.10 of $5.00 --max-spend (82%)``."""
    forecast: reactive[str] = reactive("")
    """``≈ $4.20 · 1 h 10 min left``."""
    total_tokens: reactive[tuple[int, int]] = reactive((0, 0))
    state: reactive[Shown] = reactive(Shown.STARTING)
    detail: reactive[str] = reactive("")
    sandboxed: reactive[bool | None] = reactive(None)
    """Whether the run's sessions are sandboxed; None until the loop has said."""

    def render(self) -> Text:
        """Everything that fits; a narrow terminal drops tokens, then the model and the
        forecast, then says the costs in fewer words, then drops them, so the loop's state
        (the one thing a glance must find) always shows."""
        tokens_in, tokens_out = self.total_tokens
        state_style = STATE_STYLES.get(self.state, "bold")
        state = Text.assemble((f"● {self.state}", state_style))
        if self.detail:  # "● complete · all 5 subtasks completed", not run together
            state.append(f" · {self.detail}", style=state_style)
        fields: list[tuple[str, Text]] = [
            ("profile", self._profile()),
            ("quota", Text(self.quota, style="cyan")),
            ("model", Text(self.model)),
            (
                "session",
                Text.assemble(f"session {self.session or '-'}", (f" · {self.subtask}", "bold")),
            ),
            ("cost", self._cost()),
            ("budget", Text(self.budget, style="yellow")),
            ("forecast", Text(self.forecast, style="dim")),
            ("tokens", Text(f"{_tokens(tokens_in)} in · {_tokens(tokens_out)} out", style="dim")),
            *self._containment(),
            ("state", state),
        ]
        fields = [field for field in fields if field[1].plain]
        width = self.content_size.width
        for name in DROP_ORDER:
            if not width or _joined(fields).cell_len <= width:
                break
            if name == "cost":  # first in fewer words
                fields = [(n, self._cost(short=True) if n == name else t) for n, t in fields]
                if _joined(fields).cell_len <= width:
                    break
            fields = [field for field in fields if field[0] != name]
        text = _joined(fields)
        if width:
            text.truncate(width, overflow="ellipsis")
        return text

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

    def _containment(self) -> list[tuple[str, Text]]:
        """Loud and permanent when unsandboxed: the guard alone is no boundary."""
        if self.sandboxed is None:
            return []
        if self.sandboxed:
            return [("containment", Text("sandboxed", style="green"))]
        return [("containment", Text(" UNSANDBOXED ", style="bold white on red"))]

    def _profile(self) -> Text:
        profile = Text(self.profile, style="bold cyan")
        if self.next_profile and self.next_profile != self.profile:
            profile.append(f" → {self.next_profile}", style="cyan")
        return profile


DROP_ORDER = ("tokens", "model", "forecast", "cost", "session", "budget", "quota")
"""What a narrow status line gives up first; profile, containment and state stay."""


def _joined(fields: list[tuple[str, Text]]) -> Text:
    # The separator's style as a span, not its base style: ``join`` would dim everything.
    return Text.assemble((" │ ", "dim")).join(text for _, text in fields)
