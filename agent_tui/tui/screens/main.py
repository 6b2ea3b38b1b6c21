"""The main screen: subtask tree | session log, countdown and status line."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from agent_tui.engine.clock import Clock
from agent_tui.engine.control.control import USER_PAUSE
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import review as rev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.quota import quota_text
from agent_tui.engine.events.state import LoopMode
from agent_tui.tui.lanes_view import RUN_PLACE, LanesView, LogPlace, log_place
from agent_tui.tui.log_lines import log_line
from agent_tui.tui.messages import EngineEvent
from agent_tui.tui.run_cost import RunCost
from agent_tui.tui.widgets.countdown import Countdown
from agent_tui.tui.widgets.key_bar import KeyBar
from agent_tui.tui.widgets.session_log import MAX_LINES, WRITTEN_AT_ONCE, SessionLog
from agent_tui.tui.widgets.status_bar import Shown, StatusBar
from agent_tui.tui.widgets.subtask_tree import SubtaskTree
from agent_tui.tui.widgets.title_bar import TitleBar

FINISHED_STATES = {"complete": Shown.COMPLETE, "stuck": Shown.STUCK}
SHOW_EVERY_S = 0.25
"""How often the events that came in are shown, together: one repaint of what they changed
(a frame of this screen costs tens of milliseconds of CPU, and a session sends its events
a few milliseconds apart)."""
SHOWN_AT_ONCE = 500
"""Events a timed pass shows at most: the rest go on a moment later, so that in a flood
the app reads the run's next events (and keys) between passes, not after all of them."""
SHOW_MORE_AFTER_S = 0.005
QUOTA_REFRESH_S = 30.0
STACKED_BELOW = 64
"""Narrower than this (columns), the log is under the tree, not beside it (the tree keeps
30 columns beside the log, which would have less than 30)."""
"""How often the status line's usage window is said again: a reset time that has passed
reads "window reset at …", not "limit reached", though no event came."""


class MainScreen(Screen[None]):
    """Shows what the loop reports; the keys live on the app so they work everywhere."""

    def __init__(self, clock: Clock, plan: ev.PlanLoaded | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.initial_plan = plan
        self.spec_dir: str | None = None
        self.feature = ""
        self._title_bar = TitleBar(id="title")
        self.events_seen = 0
        self._incoming: list[ev.Event] = []
        self._more_soon = False  # a pass is due for what the last one left
        self.finished: ev.LoopFinished | None = None
        self.lanes = LanesView()
        self.cost = RunCost()
        self._kept: deque[tuple[LogPlace, Text]] = deque(maxlen=MAX_LINES)
        """With several lanes, every log line with where it came from, whichever lane the
        log follows: following another lane writes the log anew from these.  With one lane
        (the log has them all) none is kept twice."""

    def compose(self) -> ComposeResult:
        yield self._title_bar
        with Horizontal(id="panes"):
            tree = SubtaskTree(id="tree")
            if self.initial_plan is not None:
                self._show_plan(tree, self.initial_plan)
            yield tree
            with Vertical(id="right"):
                yield SessionLog(id="log")
                yield Countdown(self.clock, id="countdown")
        yield StatusBar(id="status")
        yield KeyBar(id="keys")

    def on_resize(self, event: events.Resize) -> None:
        """Below ``STACKED_BELOW`` columns the log goes under the tree: beside it, a
        40-column terminal left the log 8 columns to wrap in."""
        self.query_one("#panes").set_class(event.size.width < STACKED_BELOW, "-stacked")

    def on_mount(self) -> None:
        self.plan_tree.border_title = "Plan"
        self._say_tree_keys(self.plan_tree)
        self.log_view.border_title = "Session log"
        self.countdown.border_title = "Backoff"
        self.set_interval(SHOW_EVERY_S, self._show_some)
        self.set_interval(QUOTA_REFRESH_S, self._refresh_quota)

    def _refresh_quota(self) -> None:
        if self.status.quota:
            self.show_quota()

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

    @property
    def keys(self) -> KeyBar:
        return self.query_one(KeyBar)

    @property
    def title_bar(self) -> TitleBar:
        return self._title_bar

    def _show_plan(self, tree: SubtaskTree, plan: ev.PlanLoaded) -> None:
        self.spec_dir = plan.spec_dir
        tree.show_plan(plan)
        self.app.has_subtasks = plan.total > 0
        self._say_tree_keys(tree)
        self.feature = plan.feature
        self._show_progress(plan.completed, plan.total)

    def _show_progress(self, done: int, total: int) -> None:
        self._title_bar.feature = self.feature
        self._title_bar.progress = f"{done}/{total} completed"

    def set_state(self, state: Shown, detail: str = "") -> None:
        self.status.state = state
        self.status.detail = detail

    def take(self, event: ev.Event) -> None:
        """An event to show with the next ones: the loop's sink hands it over directly (a
        message per event cost two dispatches each, a third of a flood's time)."""
        self._incoming.append(event)

    @on(EngineEvent)
    def queue_event(self, message: EngineEvent) -> None:
        self._incoming.append(message.event)

    def show_events(self, at_most: int | None = None, write: bool = True) -> None:
        """Show the events that came in since the last time (or the first ``at_most`` of
        them), in order, then write their log lines (unless not ``write``: the next pass
        that writes does): whatever they changed is drawn in one frame.  The log's queue is
        written even with no event to show: a pass that did not write left lines there."""
        if not self._incoming and not self._log_waiting():
            return  # also once the screen's widgets are gone, as the app ends
        events = self._incoming[:at_most]
        del self._incoming[: len(events)]
        for event in events:
            self.handle_event(event)
        if write:
            self.log_view.flush(None if at_most is None else WRITTEN_AT_ONCE)

    def _log_waiting(self) -> bool:
        logs = self.query(SessionLog)
        return bool(logs) and logs.first().backlog > 0

    def _show_some(self, write: bool = True) -> None:
        self.show_events(SHOWN_AT_ONCE, write)
        if self._incoming and not self._more_soon:
            self._more_soon = True
            self.set_timer(SHOW_MORE_AFTER_S, self._show_more)

    def _show_more(self) -> None:
        """What a timed pass left: taken in, its log lines written with the next timed
        pass's (each write redraws the log, and a flood would redraw it every few ms)."""
        self._more_soon = False
        self._show_some(write=False)

    def handle_event(self, event: ev.Event) -> None:
        """One event: its log line, then whatever else it changes on screen."""
        self.events_seen += 1
        changed = self.lanes.apply(event)
        if changed:
            self._lanes_changed(changed)
        line = log_line(event, self.spec_dir)
        if line is not None:
            place = log_place(event)
            if self.lanes.parallel:
                self._kept.append((place, line))
            if self.lanes.shows(place):
                self.log_view.add(self._in_log(place, line))
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event)

    def _in_log(self, place: LogPlace, line: Text) -> Text:
        """``line`` as the log shows it: after its lane when the log shows several, each of
        its rows under the first's text (a failed check's output, an agent's paragraphs)."""
        prefix = self.lanes.prefix(place)
        if not prefix:
            return line
        if "\n" in line.plain:
            line = Text("\n" + " " * len(prefix)).join(line.split("\n", allow_blank=True))
        return Text.assemble((prefix, "magenta"), line)

    def _lanes_changed(self, changed: set[str]) -> None:
        lanes = self.lanes
        for subtask_id in changed - {""}:
            self.plan_tree.set_lane_badge(subtask_id, lanes.badge(subtask_id))
        if "" in changed:
            self.status.lanes = lanes.status()
            self.app.several_lanes = lanes.parallel
            if lanes.parallel and not self._kept:  # the run's own lines so far: no lane's
                self._kept.extend((RUN_PLACE, text) for text in self.log_view.kept_texts())

    def show_lane(self) -> None:
        """Write the log anew for the lane it follows now (or all of them)."""
        self.show_events()
        lanes = self.lanes
        if not lanes.parallel:
            return  # one lane: the log shows it already
        self.log_view.replace(
            [self._in_log(place, line) for place, line in self._kept if lanes.shows(place)]
        )
        self.log_view.border_title = (
            "Session log" if not lanes.parallel else f"Session log · {lanes.followed()}"
        )
        self.status.lanes = lanes.status()

    def _plan_loaded(self, event: ev.PlanLoaded) -> None:
        self._show_plan(self.plan_tree, event)
        self.set_state(Shown.RUNNING)

    def _session_started(self, event: ev.SessionStarted) -> None:
        status = self.status
        status.session, status.profile = event.session, event.profile
        status.subtask = event.subtask_id or event.what()
        status.model = event.model or "default"
        status.session_cost = 0.0
        self.cost.started(event)
        if self.app.loop_state is None or self.app.loop_state.mode != LoopMode.PAUSING:
            self.set_state(Shown.RUNNING)

    def _api_retry(self, event: ev.ApiRetry) -> None:
        caption = f"CLI retrying ({event.what()}){event.count()}"
        self.countdown.start(event.deadline, event.delay_s, caption)

    def _usage(self, event: ev.Usage) -> None:
        if event.session == self.status.session:
            self.status.session_cost = event.session_cost_usd
        self.cost.ended(event)
        self._show_spend()

    def _session_spend(self, event: sev.SessionSpend) -> None:
        """The running sessions' spend so far moves the figures before their ends."""
        if event.session == self.status.session:
            self.status.session_cost = event.cost_usd
        self.cost.spent(event)
        self._show_spend()

    def _spend_planned(self, event: sev.SpendPlanned) -> None:
        self.cost.planned(event)
        self._show_spend()

    def _show_spend(self) -> None:
        """The run's and the spec's cost, the tightest budget, the forecast and the tokens."""
        status, cost = self.status, self.cost
        status.total_cost, status.spec_cost = cost.run, cost.spec
        status.total_tokens = cost.tokens
        tightest = cost.tightest_budget()
        status.budget = tightest.text() if tightest is not None else ""
        status.forecast = cost.forecast.text() if cost.forecast is not None else ""

    def _session_ended(self, event: ev.SessionEnded) -> None:
        if self.countdown.active:
            self.countdown.stop()

    def _backoff_started(self, event: ev.BackoffStarted) -> None:
        if event.resets_at is not None:
            resets = f"resets {event.reset_text()}"
            self.countdown.start(event.deadline, event.delay_s, f"usage limit {resets}")
            self.set_state(Shown.WAITING_FOR_RESET, resets)
            return
        retry = f"retry {event.retry}/{event.max_retries}"
        self.countdown.start(event.deadline, event.delay_s, f"{event.kind}, {retry}")
        # The seconds left are the countdown's: a fixed figure here would disagree with it.
        self.set_state(Shown.BACKING_OFF, retry)

    def _backoff_ended(self, event: ev.BackoffEnded) -> None:
        self.countdown.stop()
        if self.status.state in (Shown.BACKING_OFF, Shown.WAITING_FOR_RESET):
            self.set_state(Shown.RUNNING)

    def _subtask_status(self, event: ev.SubtaskStatus) -> None:
        self.plan_tree.update_subtask(event.id, status=event.status, attempts=event.attempts)
        self._show_progress(*self.plan_tree.counts())

    def _subtask_stuck(self, event: ev.SubtaskStuck) -> None:
        self.plan_tree.update_subtask(event.id, stuck=True)
        self.app.notify(f"Subtask {event.id} is stuck: {event.reason}", severity="error")

    def _subtask_retried(self, event: ev.SubtaskRetried) -> None:
        self.plan_tree.update_subtask(event.id, stuck=False)

    def _verification_started(self, event: tev.VerificationStarted) -> None:
        self.plan_tree.update_subtask(event.subtask_id, verification="checking")

    def _verification_ended(self, event: tev.VerificationEnded) -> None:
        self.plan_tree.update_subtask(event.subtask_id, verification=str(event.outcome))

    def _qa_iteration(self, event: tev.QAIteration) -> None:
        self.plan_tree.qa_step(event)

    def _qa_verdict(self, event: tev.QAVerdict) -> None:
        self.plan_tree.qa_verdict(event)

    def _qa_escalated(self, event: tev.QAEscalated) -> None:
        self.plan_tree.qa_escalated(event)
        self.app.notify(event.reason, title="QA escalated", severity="error", timeout=30)

    def _plan_review(self, event: rev.PlanReview) -> None:
        if event.waiting:
            self.set_state(Shown.REVIEWING, "approve, edit or discard the plan")
            self.app.review_plan(event)

    def _plan_approved(self, event: rev.PlanApproved) -> None:
        self.set_state(Shown.RUNNING)

    def _containment(self, event: ev.ContainmentStatus) -> None:
        self.status.sandboxed = event.sandboxed
        if not event.sandboxed:
            self.app.notify(event.summary(), title="UNSANDBOXED", severity="error", timeout=30)

    def _workspace(self, event: wev.WorkspaceStatus) -> None:
        if event.mode == "worktree":
            self.app.has_worktree = True
            self._say_tree_keys(self.plan_tree)

    def _say_tree_keys(self, tree: SubtaskTree) -> None:
        """The tree's keys in its frame: ``d`` once there are subtasks in a worktree."""
        diffs = self.app.has_worktree and self.app.has_subtasks
        tree.border_subtitle = "enter: details · d: diff" if diffs else "enter: details"

    def _profile_switched(self, event: ev.ProfileSwitched) -> None:
        self.status.profile, self.status.next_profile = event.to, ""
        self.show_quota()

    def _quota_updated(self, event: ev.QuotaUpdated) -> None:
        if event.profile == self.status.profile:
            self.status.quota = quota_text(event.quota, self.clock.wall())

    def show_quota(self) -> None:
        """The status line's usage window for the profile it shows, as the loop knows it."""
        loop = self.app.loop
        quota = loop.quota_of(self.status.profile) if loop is not None else None
        self.status.quota = quota_text(quota, self.clock.wall()) if quota else ""

    def _pausing(self, event: ev.Pausing) -> None:
        self.set_state(Shown.PAUSING, "at the end of this session")

    def _paused(self, event: ev.Paused) -> None:
        self.countdown.freeze()
        said = event.reason != USER_PAUSE  # "interrupted by the user", a PAUSE file, a problem
        self.set_state(Shown.PAUSED, f"{event.reason} · p resumes" if said else "p resumes")
        if not event.by_user:
            self.app.notify(f"Loop paused: {event.reason}", severity="warning")

    def _resumed(self, event: ev.Resumed) -> None:
        self.set_state(Shown.RUNNING)

    def _plan_warning(self, event: ev.PlanWarning) -> None:
        self.app.notify(event.message, title="Plan", severity="warning")

    def _loop_state(self, event: ev.LoopStateChanged) -> None:
        # The state now, not the event's: the event may have waited behind a key press
        # that already changed it.
        loop = self.app.loop
        self.app.loop_state = loop.state if loop is not None else event.state

    def _loop_finished(self, event: ev.LoopFinished) -> None:
        self.finished = event
        self.countdown.stop()
        self.set_state(FINISHED_STATES.get(event.outcome, Shown.STOPPED), event.message)
        if event.outcome == "complete":
            self.app.notify(event.message or "Plan complete", title="Complete")
        elif event.outcome != "interrupted":
            self.app.notify(event.message, title="Stopped", severity="warning")

    _handlers: dict[type[ev.Event], Callable[[Any, Any], None]] = {
        ev.PlanLoaded: _plan_loaded,
        ev.SessionStarted: _session_started,
        ev.ApiRetry: _api_retry,
        ev.Usage: _usage,
        sev.SessionSpend: _session_spend,
        sev.SpendPlanned: _spend_planned,
        ev.SessionEnded: _session_ended,
        ev.BackoffStarted: _backoff_started,
        ev.BackoffEnded: _backoff_ended,
        ev.SubtaskStatus: _subtask_status,
        ev.SubtaskStuck: _subtask_stuck,
        ev.SubtaskRetried: _subtask_retried,
        ev.ContainmentStatus: _containment,
        wev.WorkspaceStatus: _workspace,
        tev.VerificationStarted: _verification_started,
        tev.VerificationEnded: _verification_ended,
        tev.QAIteration: _qa_iteration,
        tev.QAVerdict: _qa_verdict,
        tev.QAEscalated: _qa_escalated,
        rev.PlanReview: _plan_review,
        rev.PlanApproved: _plan_approved,
        ev.ProfileSwitched: _profile_switched,
        ev.QuotaUpdated: _quota_updated,
        ev.Pausing: _pausing,
        ev.Paused: _paused,
        ev.Resumed: _resumed,
        ev.PlanWarning: _plan_warning,
        ev.LoopStateChanged: _loop_state,
        ev.LoopFinished: _loop_finished,
    }
    """The side effects of each event beyond its log line."""
