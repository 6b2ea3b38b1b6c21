"""One subtask in full: the description the tree cuts short, and every session it has had."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from agent_tui.auth.redaction import redact
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.text import printable
from agent_tui.tui.widgets.subtask_tree import ICONS

OUTCOME_STYLES = {"success": "green", "interrupted": "yellow", "incomplete": "yellow"}
MESSAGE_CHARS = 300
CHECK_TAIL_LINES = 20
"""Of a failed check's output, the end the detail shows (what the history keeps of it)."""


RETRY = "retry"
REFUTED = (CheckOutcome.FAILED, CheckOutcome.TIMED_OUT)


class SubtaskDetail(ModalScreen[str | None]):
    """Opened with Enter on a subtask in the tree; Escape or Enter closes it, ``t`` on a
    stuck subtask closes it with ``RETRY``: the user wants it tried again."""

    CSS_PATH = "subtask_detail.tcss"

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="detail.close"),
        Binding("enter", "dismiss", "Close", show=False),
        Binding("t", "retry", "Try again", id="detail.retry"),
    ]

    def __init__(
        self,
        subtask: ev.SubtaskView,
        phase_name: str,
        attempts: list[dict[str, Any]],
        stuck_reason: str | None = None,
        rollbacks: list[dict[str, Any]] | None = None,
        *,
        can_retry: bool = True,
    ) -> None:
        super().__init__()
        self.can_retry = can_retry and subtask.stuck
        """``t`` applies: the subtask is stuck and a run is going on to try it again."""
        self.subtask = subtask
        self.phase_name = phase_name
        self.attempts = attempts
        self.stuck_reason = stuck_reason
        self.rollbacks = {r.get("session"): str(r.get("diff", "")) for r in rollbacks or []}
        """Session → the kept diff of its try, undone in the worktree."""

    def compose(self) -> ComposeResult:
        status = "stuck" if self.subtask.stuck else self.subtask.status
        icon, style = ICONS.get(status, ("?", ""))
        # One scroll for it all: a long description must not push the sessions out of
        # reach; the border keeps the keys in sight however far it is scrolled.
        with VerticalScroll(id="detail") as detail:
            keys = "Esc or Enter: close · ↑ ↓ PgUp PgDn: scroll"
            if self.can_retry:
                keys = "t: try again · " + keys
            elif self.subtask.stuck:
                keys = "agent-tui run --retry-stuck tries it again · " + keys
            detail.border_subtitle = keys
            yield Label(
                Text.assemble(
                    (f"{icon} {self.subtask.id}", f"bold {style}"),
                    (f"  {status}", style),
                    (f"  ·  {self.phase_name}", "dim"),
                ),
                id="detail-title",
            )
            # From the plan: text, never markup (a "[link=…]" in it is the agent's words).
            description = redact(self.subtask.description) or "(no description)"
            yield Static(Text(description), id="detail-text")
            yield Static(self._attempts_text(), id="detail-attempts")

    def on_mount(self) -> None:
        self.query_one("#detail").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_retry if action == "retry" else True

    def action_retry(self) -> None:
        self.dismiss(RETRY)

    def _attempts_text(self) -> Group:
        """One row per session; a long message wraps under its own row, not under the number."""
        parts: list[Text | Table] = []
        if self.stuck_reason:
            parts.append(Text(f"stuck: {printable(redact(self.stuck_reason))}", style="bold red"))
        if not self.attempts:
            parts.append(Text("no sessions yet", style="dim"))
            return Group(*parts)
        rows = Table.grid(padding=(0, 1))
        rows.add_column(no_wrap=True, style="bold")
        rows.add_column(ratio=1)
        for number, attempt in enumerate(self.attempts, start=1):
            outcome = str(attempt.get("outcome", "?"))
            kind = attempt.get("error_kind")
            when = str(attempt.get("ts", ""))[:19].replace("T", " ")
            row = Text.assemble(
                (f"session {attempt.get('session', '?')}  {when}  ", "dim"),
                (outcome + (f" ({kind})" if kind else ""), OUTCOME_STYLES.get(outcome, "red")),
            )
            message = printable(redact(str(attempt.get("message") or ""))).strip()
            if message and message != outcome:  # "interrupted" once is enough
                if len(message) > MESSAGE_CHARS:
                    message = message[: MESSAGE_CHARS - 1] + "…"
                row.append(f"\n{message}", style="dim")
            row.append_text(_check_output(attempt.get("verification")))
            kept = self.rollbacks.get(attempt.get("session"))
            if kept:
                row.append(f"\n↶ rolled back; its diff is in {printable(kept)}", style="yellow")
            rows.add_row(f"{number}.", row)
        parts.append(rows)
        return Group(*parts)


def _check_output(check: Any) -> Text:
    """The end of a failed check's output, as the history kept it (masked already, and
    masked again: the file is read back)."""
    if not isinstance(check, dict) or check.get("outcome") not in REFUTED:
        return Text()
    output = printable(redact(str(check.get("output_tail") or ""))).rstrip()
    lines = output.splitlines()[-CHECK_TAIL_LINES:]
    shown = Text(f"\ncheck output (last {len(lines)} lines):" if lines else "\ncheck: no output")
    shown.stylize("bold")
    for line in lines:
        shown.append(f"\n  │ {line.rstrip()}", style="dim")
    return shown
