"""The Textual app: runs the coder loop in one worker and turns its events into messages."""

from __future__ import annotations

import asyncio
import inspect
import signal
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import ModalScreen, Screen
from textual.widgets import Tree

from agent_tui.engine.clock import Clock, RealClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.review import PlanReview
from agent_tui.engine.events.state import LoopMode, LoopState
from agent_tui.exit_codes import EXIT_INTERRUPTED
from agent_tui.notifications import notification_for
from agent_tui.tui.keys import LOOP_ACTIONS, available
from agent_tui.tui.messages import LoopDone
from agent_tui.tui.notify import send_notification
from agent_tui.tui.screens.main import MainScreen
from agent_tui.tui.textual_compat import running_driver
from agent_tui.tui.widgets.session_log import SessionLog
from agent_tui.tui.widgets.status_bar import Shown

if TYPE_CHECKING:
    from agent_tui.engine.loop import CoderLoop
    from agent_tui.runproc.client import RemoteRun  # not before the first frame: json

LoopFactory = Callable[[ev.EventSink], "CoderLoop | RemoteRun | Awaitable[CoderLoop | RemoteRun]"]
"""What the app steers: the loop itself (in-process: the demo, tests) or a run in its own
process (``agent-tui run``, ``attach``), which the same calls reach over its socket.  May
be async when making it or attaching is slow."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
FORCE_QUIT_AFTER_S = 20.0
"""A stop that has not ended the loop by then (a CLI that will not die) exits anyway."""
EXIT_WORKER_FAILED = 1
PALETTE_HELP = {
    "pause": "Pause the loop at the end of this session (p)",
    "resume": "Resume the loop (p)",
    "interrupt": "Stop the running session now and pause (i)",
    "retry_now": "Skip the rest of the backoff wait (r)",
    "profiles": "Pick the auth profile for the next session (a)",
    "note": "Leave a note for the next session's prompt (m)",
    "diff": "Show what the highlighted subtask changed (d)",
    "follow_log": "Jump to the end of the session log and follow it (l)",
    "unfollow_log": "Stop following the session log (l)",
    "cycle_lane": "The log follows the next lane: all lanes, lane 1, lane 2, … (v)",
    "pick_lane": "Pick the lane the log follows, or all of them (V)",
    "search": "Find text in the session log (/)",
    "search_next": "The next match in the log, further down (n)",
    "search_previous": "The previous match in the log, further up (N)",
    "save_log": "Save the session log as Markdown in the spec's logs/ (s)",
    "quit_gracefully": "Quit, asking first while a session runs (q)",
    "detach": "Leave the app; the run goes on, and agent-tui attach shows it again (ctrl+d)",
    "screenshot": "Save an SVG screenshot of this screen in the spec's logs/ (else here)",
}
QUIT_NOW_HELP = "Exit without asking; a running session is stopped and recorded (ctrl+c)"


class AgentApp(App[int]):
    # From this file, not a bare "app.tcss": Textual resolves a relative CSS_PATH beside the
    # file of the instance's own class, so a subclass defined elsewhere would look there.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "agent-tui"
    ENABLE_COMMAND_PALETTE = True
    # ``var``, not ``reactive``: an app's reactive repaints the whole screen when it changes,
    # and these change several times a session; the keys they steer redraw their own line.
    loop_state: var[LoopState | None] = var(None, bindings=True)
    """The loop's state as last reported (None until the loop exists): the keys follow it."""
    log_following: var[bool] = var(True, bindings=True)
    has_worktree: var[bool] = var(False, bindings=True)
    """The run works in the spec's own worktree: its subtasks have diffs to show."""
    has_subtasks: var[bool] = var(False, bindings=True)
    """The tree shows a plan with subtasks (none before the planner wrote one)."""
    searching: var[bool] = var(False, bindings=True)
    several_lanes: var[bool] = var(False, bindings=True)
    """The run has more than one lane: the log can follow one of them."""
    """A search of the log is on: ``n`` and ``N`` move between its matches."""
    BINDINGS = [
        Binding("p", "pause", "Pause", id="loop.pause", priority=True),
        Binding("p", "resume", "Resume", id="loop.resume", priority=True),
        Binding("i", "interrupt", "Interrupt", id="loop.interrupt", priority=True),
        Binding("r", "retry_now", "Retry now", id="loop.retry_now", priority=True),
        Binding("a", "profiles", "Profiles", id="loop.profiles", priority=True),
        Binding("m", "note", "Note", id="loop.note", priority=True),
        Binding("d", "diff", "Diff", id="loop.diff", priority=True),
        Binding("l", "follow_log", "Follow log", id="log.follow", priority=True),
        Binding("l", "unfollow_log", "Stop following", id="log.unfollow", priority=True),
        Binding("v", "cycle_lane", "Lane", id="log.lane", priority=True),
        Binding("V", "pick_lane", "Pick lane", show=False, id="log.pick_lane", priority=True),
        Binding("slash", "search", "Search", key_display="/", id="log.search", priority=True),
        Binding("n", "search_next", "Next match", show=False, id="log.next", priority=True),
        Binding(
            "N", "search_previous", "Previous match", show=False, id="log.previous", priority=True
        ),
        Binding("s", "save_log", "Save log", show=False, id="log.save", priority=True),
        Binding("q", "quit_gracefully", "Quit", id="app.quit", priority=True),
        Binding("ctrl+d", "detach", "Detach", id="app.detach", priority=True),
        # Textual's ctrl+q would exit at once and leave the running session unrecorded, and
        # its ctrl+c only says how to quit; both stop the loop here, as SIGTERM does.
        Binding("ctrl+q", "quit", "Quit now", show=False, priority=True),
        Binding("ctrl+c", "quit", "Quit now", show=False, priority=True),
    ]

    def __init__(
        self,
        make_loop: LoopFactory,
        *,
        title: str = "agent-tui",
        clock: Clock | None = None,
        plan: ev.PlanLoaded | None = None,
        plan_discard: str = "",
        screenshots: Path | None = None,
    ) -> None:
        """``plan``, when the caller has already read it, is in the tree from the first frame;
        ``plan_discard`` says in a plan review what discarding the plan removes;
        ``screenshots``: where a screenshot goes (default: the spec's logs/, else the current
        directory)."""
        super().__init__()
        self.plan_discard = plan_discard or "the plan stays on disk"
        self.screenshots = screenshots
        self.title = title
        self.clock = clock or RealClock()
        self._make_loop = make_loop
        self.loop: CoderLoop | RemoteRun | None = None
        self.main_screen = MainScreen(self.clock, plan)
        self.exit_code: int | None = None
        self.stop_signal: str | None = None
        self._quitting = False
        self.restarting: str | None = None
        """The stuck subtask a new run is being made for (its checks run meanwhile)."""
        self.watched_signals: list[int] = []
        self.first_frame_drawn = False
        self.farewell: str | None = None
        """A line for the shell once the app has ended (how to attach again, after a detach)."""

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def on_mount(self) -> None:
        self._watch_signals()
        self.call_after_refresh(self.after_first_frame)
        self.start_loop()

    def start_loop(self) -> None:
        """Make and run the loop once the first frame is drawn: making it may load modules,
        and the plan is on screen meanwhile.  A subclass may first wait for something."""
        self.call_after_refresh(self.run_loop)

    def after_first_frame(self) -> None:
        """Called once, right after the first frame is drawn."""
        self.first_frame_drawn = True

    def _watch_signals(self) -> None:
        """SIGTERM, SIGHUP and SIGINT stop the loop as the ctrl+c key does: the session is
        interrupted and recorded, the terminal restored, and the exit code is 130.  (In the
        app the ctrl+c key is a key, not a signal; SIGINT comes from ``kill -INT``,
        ``timeout -s INT`` or a supervisor, and would otherwise abandon the session.)"""
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            try:
                loop.add_signal_handler(signum, self._on_stop_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or no signals here: keys still work
            self.watched_signals.append(signum)

    def on_unmount(self) -> None:
        if self.run_is_remote:  # the run goes on; its connections end here
            self.loop.close()  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        for signum in self.watched_signals:
            loop.remove_signal_handler(signum)
        self.watched_signals.clear()

    def _on_stop_signal(self, signum: int) -> None:
        self.stop_signal = signal.Signals(signum).name
        hung_up = getattr(running_driver(self), "hung_up", None)
        if signum == signal.SIGHUP and hung_up is not None:
            hung_up()
        if self.run_is_remote:  # the run is its own process: it goes on
            self.action_detach()
            return
        self.action_quit()

    async def _sink(self, event: ev.Event) -> None:
        self.main_screen.take(event)  # the loop runs on the app's own event loop
        notification = notification_for(event)
        if notification is not None and self.loop is not None and self.loop.config.notifications:
            send_notification(self, notification)

    @work(exclusive=True, group="loop", exit_on_error=False)
    async def run_loop(self) -> None:
        """The loop's only home: failures become a message, never a crash."""
        try:
            made = self._make_loop(self._sink)
            loop = await made if inspect.isawaitable(made) else made
        except Exception as exc:
            self.post_message(LoopDone(EXIT_WORKER_FAILED, f"{type(exc).__name__}: {exc}"))
            return
        await self._run(loop)

    @work(exclusive=True, group="loop", exit_on_error=False)
    async def run_again(self, subtask_id: str) -> None:
        """A new run of the loop in this app, to try a stuck subtask again once the last run
        has ended: made as the first was (the run's checks again, then its lock, containment
        and workspace), while the tree and the log go on.  Refused, the last run's end
        stands."""
        try:
            made = self._make_loop(self._sink)
            loop = await made if inspect.isawaitable(made) else made
        except Exception as exc:
            self.restarting = None
            self.notify(
                f"Subtask {subtask_id} is not tried again: {exc}",
                title="Retry",
                severity="error",
                timeout=30,
                markup=False,
            )
            return
        loop.retry_subtask(subtask_id)  # done once the new run holds the spec
        self.restarting = None
        self.exit_code = None
        await self._run(loop)

    async def _run(self, loop: CoderLoop | RemoteRun) -> None:
        if self.run_is_remote and self.loop is not loop:  # the ended run's: let it go
            self.loop.close()  # type: ignore[union-attr]
        self.loop = loop
        try:
            # Known now, not only at the first session: a run that starts paused shows it too.
            self.main_screen.status.profile = loop.profile_name
            self.main_screen.show_quota()
            self.loop_state = loop.state
            code = await loop.run()
        except Exception as exc:
            self.post_message(LoopDone(EXIT_WORKER_FAILED, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(LoopDone(code))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notice is plain text, whatever the caller asks: its message may carry the
        plan's, the agent's or git's words, and a ``[`` there is no markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    @on(LoopDone)
    def loop_done(self, message: LoopDone) -> None:
        self.exit_code = message.exit_code
        if not self.screen_stack:  # the app is closing (its loop ended with it): no screen
            return
        self.main_screen.show_events()  # the last of them, before the state says it ended
        if message.error:
            self.notify(
                f"The loop failed: {message.error}. State on disk is kept.",
                title="Error",
                severity="error",
                timeout=30,
            )
            self.main_screen.set_state(Shown.ERROR, message.error)
        self.loop_state = LoopState(mode=LoopMode.FINISHED)
        if self._quitting:
            self._exit_with(self.exit_code)

    @on(Tree.NodeSelected)
    def show_subtask(self, event: Tree.NodeSelected) -> None:
        """Enter on a subtask: its full description and every session it has had."""
        from agent_tui.tui.screens.subtask_detail import RETRY, SubtaskDetail  # load on use

        tree = self.main_screen.plan_tree
        subtask = tree.selected_subtask(event.node)
        if subtask is None or isinstance(self.screen, ModalScreen):
            return
        history = self.loop.history if self.loop is not None else None
        attempts = history.attempts(subtask.id) if history is not None else []
        stuck_reason = history.stuck_reason(subtask.id) if history is not None else None
        rollbacks = history.rollbacks(subtask.id) if history is not None else []

        def closed(choice: str | None) -> None:
            if choice == RETRY:
                self.retry_subtask(subtask.id)

        self.push_screen(
            SubtaskDetail(
                subtask,
                tree.phase_name(subtask.phase_id),
                attempts,
                stuck_reason,
                rollbacks,
                can_retry=self.loop is not None and not self._quitting,
            ),
            closed,
        )

    def review_plan(self, event: PlanReview) -> None:
        """The run waits at its plan review: show the plan, and pass on the user's word."""
        from agent_tui.tui.screens.plan_review import APPROVE, PlanReviewScreen

        def decided(choice: str | None) -> None:
            loop = self.loop
            if loop is None:
                return
            if choice == APPROVE:
                if loop.approve_plan():
                    self.notify("Plan approved: coding starts.", title="Plan")
                return
            if loop.discard_plan():
                self._quitting = True  # the run ends with the discard: so does the app

        self.push_screen(PlanReviewScreen(Path(event.plan_path), self.plan_discard), decided)

    def retry_subtask(self, subtask_id: str) -> None:
        """``t`` in a stuck subtask's detail: the run tries it again; a run that has ended
        starts again in this app to do so."""
        if self.restarting is not None:
            self.notify(f"Starting the run again for {self.restarting}…", title="Retry")
            return
        if self.loop_running and self.loop is not None:
            if self.loop.retry_subtask(subtask_id):
                self.notify(f"Subtask {subtask_id} will be tried again.", title="Retry")
            return
        self.restarting = subtask_id
        self.notify(
            f"Subtask {subtask_id} will be tried again: the run starts again.", title="Retry"
        )
        self.run_again(subtask_id)

    @property
    def run_is_remote(self) -> bool:
        """The run is a process of its own (a ``RemoteRun``): leaving the app leaves it going."""
        return getattr(self.loop, "detachable", False)

    @property
    def loop_running(self) -> bool:
        return self.loop is not None and self.exit_code is None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LOOP_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        if action in LOOP_ACTIONS - {"quit_gracefully"} and not isinstance(self.screen, MainScreen):
            return False  # the runs list: a run's keys are its screen's
        return self._available(action)

    def _available(self, action: str) -> bool:
        """Whether the loop's state allows ``action`` now (the footer and the palette ask).

        The loop's state as it is this moment: ``loop_state`` changing is what makes the
        footer ask again, but a message may lag behind the loop."""
        if action == "detach":
            return self.run_is_remote and self.exit_code is None  # nothing goes on after
        state = self.loop.state if self.loop is not None else self.loop_state
        if self.exit_code is not None:
            state = self.loop_state
        return available(
            action,
            state,
            following=self.log_following,
            diffs=self.has_worktree and self.has_subtasks,
            searching=self.searching,
            lanes=self.several_lanes,
        )

    @on(SessionLog.FollowChanged)
    def _follow_changed(self, message: SessionLog.FollowChanged) -> None:
        self.log_following = message.following

    @on(SessionLog.SearchChanged)
    def _search_changed(self, message: SessionLog.SearchChanged) -> None:
        self.searching = message.searching

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers the footer's keys that apply now, then Textual's own.

        Over a dialog, none of the loop's: ``check_action`` cannot tell (the palette is the
        current screen by now), but ``screen`` is the one it was opened from."""
        over_dialog = isinstance(screen, ModalScreen)
        for binding in self.BINDINGS:
            help_text = PALETTE_HELP.get(binding.action)
            if help_text and not over_dialog and self._available(binding.action):
                action = getattr(self, f"action_{binding.action}")
                yield SystemCommand(binding.description, help_text, action)
        if not over_dialog:
            yield SystemCommand("Quit now", QUIT_NOW_HELP, self.action_quit)
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # Textual's saves to a Downloads folder
                yield SystemCommand(
                    "Screenshot",
                    PALETTE_HELP["screenshot"],
                    lambda: self.call_after_refresh(self.screenshot),  # the palette gone
                )
            elif command.title != "Quit":  # Textual's runs action_quit: "Quit now" above
                yield command

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Textual's screenshot action (its ``filename`` and ``path`` are not used): ours."""
        self.screenshot()

    def screenshot(self) -> None:
        """Save the screen as SVG in the spec's logs/ (else the current directory), and say
        where, or why it could not be saved."""
        from agent_tui.tui.screenshot import save_screenshot

        places = [self.screenshots] if self.screenshots is not None else []
        if not places and self.loop is not None:
            places.append(self.loop.config.logs_dir)
        elif not places and self.main_screen.spec_dir:
            places.append(Path(self.main_screen.spec_dir) / "logs")
        places.append(Path.cwd())
        try:
            saved = save_screenshot(self.export_screenshot(), places)
        except OSError as exc:
            self.notify(
                f"Screenshot not saved: {exc}", title="Screenshot", severity="error", markup=False
            )
            return
        self.notify(f"Screenshot saved to {saved}", title="Screenshot", markup=False)

    def _after_control(self) -> None:
        """The keys follow a key press at once, not only when the loop reports it."""
        assert self.loop is not None
        self.loop_state = self.loop.state

    def action_pause(self) -> None:
        assert self.loop is not None
        self.loop.pause()
        if self.loop.session_running:
            self.main_screen.set_state(Shown.PAUSING, "at the end of this session")
        self._after_control()

    def action_resume(self) -> None:
        assert self.loop is not None
        self.loop.resume()
        self._after_control()

    def action_interrupt(self) -> None:
        assert self.loop is not None
        if not self.loop.session_running or self.loop.interrupt_requested:
            return  # chosen from a palette opened while a session ran: nothing to stop now
        lane = self.main_screen.lanes.interrupt_target()
        self.loop.interrupt(lane)
        if lane is None:
            self.notify("Interrupting the session; the loop will pause.")
        else:
            self.notify(f"Interrupting lane {lane}'s session; the loop will pause.")
        self._after_control()

    def action_retry_now(self) -> None:
        assert self.loop is not None
        self.loop.retry_now()
        self._after_control()

    def action_profiles(self) -> None:
        from agent_tui.tui.screens.profile_picker import ProfilePicker

        loop = self.loop
        assert loop is not None
        problem = loop.reload_profiles()  # profiles added since the app started show too
        if problem is not None:
            self.notify(f"{problem}; showing the profiles as they were.", severity="warning")
        profiles = [loop.profiles.get(name) for name in loop.profiles.names()]

        def chosen(name: str | None) -> None:
            if not name or name == loop.next_profile:
                return
            loop.switch_profile(name)
            if name == loop.profile_name:
                self.notify(f"Staying on profile {name}: switch cancelled.", title="Profiles")
            else:
                self.notify(f"Profile {name} applies from the next session.", title="Profiles")
            self.main_screen.status.next_profile = loop.next_profile

        self.push_screen(
            ProfilePicker(
                profiles,
                loop.profile_name,
                loop.profile_resolution,
                next_up=loop.next_profile,
                quota_of=loop.quota_of,
                wall=self.clock.wall,
            ),
            chosen,
        )

    def action_note(self) -> None:
        from agent_tui.tui.screens.note_input import ask_for_note

        assert self.loop is not None
        ask_for_note(self, self.loop)

    def action_diff(self) -> None:
        from agent_tui.tui.screens.diff_view import show_diff

        tree = self.main_screen.plan_tree
        node = tree.cursor_node
        subtask = tree.selected_subtask(node) if node is not None else None
        if subtask is None or self.loop is None:
            self.notify("Move to a subtask in the plan to see its diff.", title="Diff")
            return
        show_diff(self, self.loop, subtask)

    def action_detach(self) -> None:
        """Leave the app and let the run go on in its own process."""
        run = self.loop
        if not self.run_is_remote or self.exit_code is not None:
            return
        assert run is not None
        self.workers.cancel_group(self, "loop")
        run.detach()
        self.detached(run)

    def detached(self, run: RemoteRun) -> None:
        """After a detach the app ends, saying how to come back."""
        self.farewell = f"agent-tui: detached; {run.reattach_hint()}"
        self._exit_with(0)

    def action_follow_log(self) -> None:
        self.main_screen.log_view.toggle_follow()

    def action_unfollow_log(self) -> None:
        self.main_screen.log_view.toggle_follow()

    def action_cycle_lane(self) -> None:
        """The log follows the next lane: all of them, then each, then all again."""
        screen = self.main_screen
        screen.lanes.cycle()
        screen.show_lane()

    def action_pick_lane(self) -> None:
        from agent_tui.tui.screens.lane_picker import EVERY, LanePicker

        screen = self.main_screen

        def picked(lane: int | str | None) -> None:
            if lane is None:
                return
            screen.lanes.follow(None if lane == EVERY else int(lane))
            screen.show_lane()

        self.push_screen(LanePicker(screen.lanes), picked)

    def action_search(self) -> None:
        from agent_tui.tui.screens.log_search import SearchPrompt

        log = self.main_screen.log_view

        def typed(query: str | None) -> None:
            if not query:
                return
            if log.find(query):
                log.focus()
            else:
                log.end_search()
                self.notify(f"No line in the log has “{query}”.", title="Search")

        self.push_screen(SearchPrompt(log.search.query if log.search else ""), typed)

    def action_search_next(self) -> None:
        self.main_screen.log_view.next_match(1)

    def action_search_previous(self) -> None:
        self.main_screen.log_view.next_match(-1)

    def action_save_log(self) -> None:
        """The log as shown, as Markdown in the spec's ``logs/``; the notice says where."""
        from agent_tui.tui.log_markdown import log_markdown, save_log

        spec_dir = self.loop.config.spec_dir if self.loop is not None else None
        if spec_dir is None and self.main_screen.spec_dir:
            spec_dir = Path(self.main_screen.spec_dir)
        if spec_dir is None:
            self.notify("No spec dir yet to save the log in.", title="Save log")
            return
        self.main_screen.show_events()  # what has come in belongs in it too
        log = self.main_screen.log_view
        now = self.clock.wall()
        text = log_markdown(
            log.plain_lines(), spec_dir=spec_dir, saved_at=now, dropped=log.lines_dropped
        )
        try:
            path = save_log(spec_dir, text, now)
        except OSError as exc:
            self.notify(f"The log was not saved: {exc}", title="Save log", severity="error")
            return
        self.notify(f"Saved to {path}", title="Log saved", timeout=10)

    def action_quit(self) -> None:  # type: ignore[override]  # Textual's is async
        """Quit now: stop the loop without asking (the session is interrupted and recorded).

        Asked again while stopping, or when the stop takes too long, it exits at once: the
        plan and history are written atomically, so only the running attempt goes unrecorded.
        """
        if self.loop_running and self.loop is not None and not self._quitting:
            self._stop_and_exit()
            self.set_timer(FORCE_QUIT_AFTER_S, self._force_quit)
            return
        self._force_quit()

    def _force_quit(self) -> None:
        self._exit_with(self.exit_code if self.exit_code is not None else EXIT_INTERRUPTED)

    def action_quit_gracefully(self) -> None:
        if not self.loop_running:
            self._exit_with(self.exit_code if self.exit_code is not None else EXIT_INTERRUPTED)
            return
        assert self.loop is not None
        if self.loop.session_running:
            from agent_tui.tui.screens.confirm_quit import ConfirmQuit

            self.push_screen(ConfirmQuit(self.run_is_remote), self._confirmed_quit)
        else:
            self._stop_and_exit()

    def _exit_with(self, code: int) -> None:
        if not self.first_frame_drawn:
            # A signal, a typed-ahead key or a refused check while the screen is still
            # mounting: Textual fails if the app exits then, so exit right after it is drawn.
            self.call_after_refresh(self._exit_with, code)
            return
        self.exit(code, return_code=code)

    def _confirmed_quit(self, quit_now: bool | None) -> None:
        if quit_now:
            self._stop_and_exit()

    def _stop_and_exit(self) -> None:
        assert self.loop is not None
        self._quitting = True
        self.main_screen.set_state(Shown.STOPPED, "quitting…")
        by = f"stopped by {self.stop_signal}" if self.stop_signal else "stopped by the user"
        self.loop.stop(by)
        self._after_control()
