"""The main screen: subtask tree | session log, countdown and status line."""

from __future__ import annotations

import os

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header

from agent_tui.auth.redaction import redact
from agent_tui.engine import events as ev
from agent_tui.engine.clock import Clock
from agent_tui.tui.messages import EngineEvent
from agent_tui.tui.widgets.countdown import Countdown
from agent_tui.tui.widgets.key_footer import KeyFooter
from agent_tui.tui.widgets.session_log import SessionLog
from agent_tui.tui.widgets.status_bar import StatusBar
from agent_tui.tui.widgets.subtask_tree import SubtaskTree

KEY_STATE_EVENTS = (
    ev.Pausing,
    ev.Paused,
    ev.Resumed,
    ev.LoopFinished,
    ev.SessionStarted,
    ev.SessionEnded,
    ev.BackoffStarted,
    ev.BackoffEnded,
    ev.Notice,  # e.g. an interrupt the session did not take: i applies again
)
"""Events after which the loop's keys can change, though no key was pressed."""


class MainScreen(Screen[None]):
    """Shows what the loop reports; the keys live on the app so they work everywhere."""

    def __init__(self, clock: Clock, plan: ev.PlanLoaded | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.initial_plan = plan
        self.spec_dir: str | None = None
        self.feature = ""
        self.events_seen = 0
        self.finished: ev.LoopFinished | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="panes"):
            tree = SubtaskTree(id="tree")
            if self.initial_plan is not None:
                self._show_plan(tree, self.initial_plan)
            yield tree
            with Vertical(id="right"):
                yield SessionLog(id="log")
                yield Countdown(self.clock, id="countdown")
        yield StatusBar(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.plan_tree.border_title = "Plan"
        self.plan_tree.border_subtitle = "enter: details"
        self.log_view.border_title = "Session log"
        self.countdown.border_title = "Backoff"

    @property
    def plan_tree(self) -> SubtaskTree:
        return self.query_one(SubtaskTree)

    @property
    def log_view(self) -> SessionLog:
        return self.query_one(SessionLog)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def countdown(self) -> Countdown:
        return self.query_one(Countdown)

    def _relative(self, path: str) -> str:
        if self.spec_dir and path.startswith(self.spec_dir + os.sep):
            return path[len(self.spec_dir) + 1 :]
        return path

    def _show_plan(self, tree: SubtaskTree, plan: ev.PlanLoaded) -> None:
        self.spec_dir = plan.spec_dir
        tree.show_plan(plan)
        self.feature = plan.feature
        self._show_progress(plan.completed, plan.total)

    def _show_progress(self, done: int, total: int) -> None:
        progress = f"{done}/{total} completed"
        self.sub_title = f"{self.feature} — {progress}" if self.feature else progress

    def set_state(self, state: str, detail: str = "") -> None:
        self.status.state = state
        self.status.detail = detail

    @on(EngineEvent)
    def handle_event(self, message: EngineEvent) -> None:
        self.events_seen += 1
        if isinstance(message.event, ev.ContainmentStatus):
            self.show_containment(message.event)
        self.show(message.event)
        if isinstance(message.event, KEY_STATE_EVENTS):
            self.app.refresh_bindings()  # p means Pause or Resume, and q may need asking

    def show_containment(self, event: ev.ContainmentStatus) -> None:
        self.status.sandboxed = event.sandboxed
        style = "green" if event.sandboxed else "bold red"
        self.log_view.add(Text(f"  ◆ {event.summary()}", style=style))
        if not event.sandboxed:
            self.app.notify(event.summary(), title="UNSANDBOXED", severity="error", timeout=30)

    def show(self, event: ev.Event) -> None:
        log = self.log_view
        match event:
            case ev.PlanLoaded():
                self._show_plan(self.plan_tree, event)
                self.set_state("running")
            case ev.SessionStarted():
                what = f"subtask {event.subtask_id}" if event.subtask_id else "planning"
                log.add(
                    Text.assemble(
                        (f"── session {event.session}: {event.kind} {what}", "bold cyan"),
                        (f"  profile {event.profile}, attempt {event.attempt}", "cyan"),
                        (f"  → {self._relative(event.transcript)}", "dim"),
                    )
                )
                status = self.status
                status.session, status.profile = event.session, event.profile
                status.subtask = event.subtask_id or "planning"
                status.model = event.model or "default"
                status.session_cost = 0.0
                if not self.app.loop_pause_requested:
                    self.set_state("running")
            case ev.AssistantText():
                log.add(Text(event.text.strip()))
            case ev.ToolUse():
                log.add(
                    Text.assemble(
                        ("  ▶ ", "blue"), (event.name, "bold blue"), " ", (event.summary, "")
                    )
                )
            case ev.ToolResult():
                style = "red" if event.is_error else "dim"
                log.add(Text.assemble(("    ◀ ", style), (event.summary or "(no output)", style)))
            case ev.SessionError():
                log.add(Text(f"  ✘ {event.error_kind}: {event.message}", style="bold red"))
            case ev.ApiRetry():
                reason = event.error or event.error_status
                caption = f"CLI retrying ({reason}) {event.attempt}/{event.max_retries}"
                self.countdown.start(event.deadline, event.delay_s, caption)
            case ev.Usage():
                status = self.status
                status.session_cost = event.session_cost_usd
                status.total_cost = event.total_cost_usd
                status.total_tokens = (event.total_input_tokens, event.total_output_tokens)
            case ev.SessionEnded():
                style = "green" if event.outcome == "success" else "yellow"
                kind = f" ({event.error_kind})" if event.error_kind else ""
                log.add(
                    Text(
                        f"── session {event.session} {event.outcome}{kind}, ${event.cost_usd:.4f}",
                        style=style,
                    )
                )
                if self.countdown.active:
                    self.countdown.stop()
            case ev.BackoffStarted():
                caption = f"{event.kind}, retry {event.retry}/{event.max_retries}"
                self.countdown.start(event.deadline, event.delay_s, caption)
                # The seconds left are the countdown's to show: a fixed figure here would
                # disagree with it as it runs.
                self.set_state("backing off", f"retry {event.retry}/{event.max_retries}")
                log.add(
                    Text(
                        f"  ⏳ waiting {event.wait_text()}, "
                        f"then retry {event.retry}/{event.max_retries}",
                        style="magenta",
                    )
                )
            case ev.BackoffEnded():
                self.countdown.stop()
                if self.status.state == "backing off":
                    self.set_state("running")
            case ev.SubtaskStatus():
                self.plan_tree.update_subtask(
                    event.id, status=event.status, attempts=event.attempts
                )
                done, total = self.plan_tree.counts()
                self._show_progress(done, total)
            case ev.SubtaskStuck():
                self.plan_tree.update_subtask(event.id, stuck=True)
                log.add(Text(f"  ⚠ subtask {event.id} is stuck: {event.reason}", style="bold red"))
                self.app.notify(f"Subtask {event.id} is stuck: {event.reason}", severity="error")
            case ev.ProfileSwitched():
                self.status.profile, self.status.next_profile = event.to, ""
                log.add(
                    Text(f"  ⇄ profile {event.from_} → {event.to} ({event.reason})", style="cyan")
                )
            case ev.Pausing():
                self.set_state("pausing…", "at the end of this session")
            case ev.Paused():
                self.countdown.freeze()
                by_user = event.reason == "paused by the user"
                self.set_state("paused", "p resumes" if by_user else f"{event.reason} · p resumes")
                log.add(Text(f"  ⏸ paused: {event.reason}", style="yellow"))
                if event.reason != "paused by the user":
                    self.app.notify(f"Loop paused: {event.reason}", severity="warning")
            case ev.Resumed():
                self.set_state("running")
                log.add(Text("  ▶ resumed", style="yellow"))
            case ev.Notice():
                style = {"error": "bold red", "warning": "yellow"}.get(event.level, "dim")
                log.add(Text(f"  ! {event.message}", style=style))
            case ev.PlanWarning():
                log.add(Text(f"  ! plan: {event.message}", style="bold yellow"))
                self.app.notify(event.message, title="Plan", severity="warning")
            case ev.LoopFinished():
                self.finished = event
                self.countdown.stop()
                state = {"complete": "complete", "stuck": "stuck"}.get(event.outcome, "stopped")
                self.set_state(state, event.message)
                log.add(
                    Text(f"── finished: {event.outcome} — {redact(event.message)}", style="bold")
                )
                if event.outcome == "complete":
                    self.app.notify(event.message or "Plan complete", title="Complete")
                elif event.outcome != "interrupted":
                    self.app.notify(event.message, title="Stopped", severity="warning")
