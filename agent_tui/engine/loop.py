"""The coder loop: plan → one fresh session per subtask → complete, with a pause gate.

Plain asyncio; it knows nothing of Textual.  It reports through one async event sink and is
steered through its public methods (``pause``, ``resume``, ``interrupt``, ``retry_now``,
``switch_profile``, ``stop``), which are safe to call from the same event loop at any time.

``CoderLoop`` wires the parts and runs the stages: ``Control`` (the state, every wait),
``ProfileRotation`` (the account, the session's env), ``PlanTracker`` (the plan on disk),
``SessionRunner``, the retry tracker and the pure error policy.  A run ends one way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from agent_tui.auth.credentials import Resolution
from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ConfigError, Settings
from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.accounts.rotation import IMPLICIT_PROFILE, ProfileRotation
from agent_tui.engine.agents.claude.process import CliLauncher, find_cli
from agent_tui.engine.agents.claude.session import AgentSession, CLIMissingError, SandboxRefused
from agent_tui.engine.checks.runner import runner_for
from agent_tui.engine.checks.verify import CommandRunner, Verifier
from agent_tui.engine.clock import Clock, RealClock
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.control.control import Control
from agent_tui.engine.control.notes import NoteBox
from agent_tui.engine.control.plan_review import PlanReviewGate
from agent_tui.engine.control.result import RunEnded, RunOutcome, RunResult, end
from agent_tui.engine.control.runlock import RunLock, SpecBusy
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import Quota
from agent_tui.engine.events.state import LoopState
from agent_tui.engine.failures.retry import RetryTracker
from agent_tui.engine.progress.checkpoints import Checkpoints, WorkspaceFailed
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.progress.tracker import PlanTracker
from agent_tui.engine.sandbox.containment import (
    Containment,
    ContainmentRefused,
    NotWritable,
    SandboxCheck,
    check_sandbox,
    check_writable,
    prepare_records,
    protected_paths,
)
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.engine.stages.base import RunParts
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.engine.stages.planner import PlannerStage
from agent_tui.engine.stages.qa import QAStage
from agent_tui.engine.stages.runner import SessionFactory, SessionRunner
from agent_tui.exit_codes import EXIT_BAD_INPUT
from agent_tui.files import LinkRefused
from agent_tui.plan import ImplementationPlan, PlanError, is_complete, next_subtask, progress
from agent_tui.text import counted
from agent_tui.workspace.location import Location

__all__ = ["IMPLICIT_PROFILE", "CoderLoop", "LoopConfig"]


class CoderLoop:
    def __init__(
        self,
        config: LoopConfig,
        profiles: ProfileStore,
        emit: ev.EventSink,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        session_factory: SessionFactory = AgentSession,
        check_runner: CommandRunner | None = None,
        check_clock: Clock | None = None,
    ) -> None:
        """``check_runner`` stands in for the runner of verification commands; they are timed
        on ``check_clock``, real time unless a test says otherwise (a check is a process)."""
        self.config = config
        self.profiles = profiles
        self.clock = clock or RealClock()
        self._emit = emit
        self._environ = dict(os.environ if environ is None else environ)
        self.retry = RetryTracker(config.retry_policy, self.clock)
        self.history = AttemptHistory(config.spec_dir)
        self.quota = QuotaBook.load(config.quota_file)
        self.rotation = ProfileRotation(
            profiles,
            emit,
            environ=self._environ,
            start=config.profile,
            auto_switch=config.auto_switch,
            extra_env=config.extra_env,
            quota=self.quota,
            wall=self.clock.wall,
        )
        self.control = Control(
            self.clock, config.pause_file, emit, after_resume=self.rotation.apply_pending
        )
        self.tracker = PlanTracker(config.plan_path, config.spec_dir, self.history)
        self.notes = NoteBox(config.spec_dir)
        self.plan_review = PlanReviewGate(config.plan_review, emit)
        self.checkpoints = Checkpoints(config, emit, self.history)
        self._contained_by: tuple[Settings, SandboxCheck] | None = None  # as the run began
        self.runner = SessionRunner(
            config,
            self.rotation,
            self.control,
            self._guard(),
            session_factory,
            emit,
            self._session_event,
        )
        self.verifier = self._make_verifier(emit, check_runner, check_clock or RealClock())
        parts = RunParts(
            config=config,
            control=self.control,
            rotation=self.rotation,
            runner=self.runner,
            retry=self.retry,
            tracker=self.tracker,
            history=self.history,
            emit=emit,
            notes=self.notes,
            checkpoints=self.checkpoints,
            verifier=self.verifier,
        )
        self._planner = PlannerStage(parts)
        self._coder = CoderStage(parts)
        self._qa = QAStage(parts)
        self._iterations = 0
        self._stages_begun = False
        self._retry_first: set[str] = set()
        """Stuck subtasks to try again once the run holds its spec (asked before it did)."""

    # ----------------------------------------------------------------- the handle

    @property
    def state(self) -> LoopState:
        return self.control.state

    @property
    def containment(self) -> Containment | None:
        """How sessions are contained: decided as the run starts (None before)."""
        return self.runner.containment

    @property
    def paused(self) -> bool:
        return self.control.paused

    @property
    def pause_requested(self) -> bool:
        return self.control.pause_requested

    @property
    def session_running(self) -> bool:
        return self.control.session is not None

    @property
    def interrupt_requested(self) -> bool:
        """The running session has been asked to stop and is ending."""
        return self.control.interrupt_requested

    @property
    def backing_off(self) -> bool:
        return self.control.backing_off

    @property
    def profile_name(self) -> str:
        return self.rotation.current

    @property
    def next_profile(self) -> str:
        """The profile the next session will use: a switch asked for, or the current one."""
        return self.rotation.next

    def reload_profiles(self) -> str | None:
        """See profiles added or removed since the run began; the reason if it cannot.
        The sessions' read denies then cover the config dirs of profiles added meanwhile;
        the mode, hosts and tools stay as the run began (the status line shows those)."""
        try:
            self.profiles.reload()
        except ConfigError as exc:
            return str(exc)
        if self._contained_by is not None:
            self.runner.containment = self._containment(*self._contained_by)
        return None

    @property
    def workspace(self) -> Location | None:
        """Where the agent works, once the run has found it (None before)."""
        return self.checkpoints.location

    def subtask_diff(self, subtask_id: str) -> str:
        """The subtask's changes: its commit, or, while it is worked on, the worktree's
        changes so far; "" when there is none (or no worktree).  Blocking: git runs."""
        in_progress = self._coder.parts.current_subtask == subtask_id
        return self.checkpoints.subtask_diff(subtask_id, in_progress=in_progress)

    def profile_resolution(self, profile: Profile) -> Resolution:
        return self.rotation.resolution(profile)

    def quota_of(self, name: str) -> Quota | None:
        """``name``'s usage window as last reported (by any run sharing the state dir)."""
        return self.quota.get(name)

    def pause(self) -> None:
        """Pause at the next session boundary (a backoff wait pauses at once)."""
        self.control.pause()

    def resume(self) -> None:
        self.rotation.forgive()  # the user may have logged in again: every one may try
        self.control.resume()

    def interrupt(self) -> None:
        """Stop the running session now and pause (asking a session once is enough)."""
        self.control.interrupt()

    def retry_now(self) -> None:
        self.control.retry_now()

    def switch_profile(self, name: str, reason: str = "user") -> None:
        """Use profile ``name`` from the next session on (the current one: cancel a switch)."""
        self.rotation.request(name, reason)
        self.control.wake()

    def retry_subtask(self, subtask_id: str) -> bool:
        """Try a stuck subtask again; False (nothing done) if it is not stuck.  Asked
        before the run holds its spec (a new run made to try it), it is done once it does."""
        if not self.history.is_stuck(subtask_id) or not self.state.active:
            return False
        if not self._stages_begun:
            self._retry_first.add(subtask_id)
            return True
        self.control.background(self._coder.retry_stuck(subtask_id))
        return True

    def add_note(self, text: str) -> None:
        """Append ``text`` to HUMAN_INPUT.md for the next session's prompt (``OSError`` if
        it cannot be written)."""
        if not text.strip():
            return
        self.notes.add(text)
        self.control.background(self._emit(ev.NoteQueued(text=text.strip())))

    def approve_plan(self) -> bool:
        """Code the plan waiting for review, as it is on disk now (False: none waits)."""
        return self.plan_review.approve()

    def discard_plan(self) -> bool:
        """End the run without coding the plan waiting for review (False: none waits)."""
        return self.plan_review.discard()

    def stop(self, reason: str = "stopped by the user") -> None:
        """End the run: the session is interrupted and recorded; ``reason`` ends the log."""
        self.control.stop(reason)
        self.plan_review.stop(reason)

    # ------------------------------------------------------------------- the run

    async def run(self) -> int:
        lock = RunLock(self.config.spec_dir)
        try:
            check_writable(self.config.spec_dir)
            lock.acquire()
            await self.checkpoints.open()
            self.runner.cwd = self.checkpoints.project_dir
            self.runner.guard = self._guard()
            self.runner.containment = await self._contain()
            cli = self.config.cli_path or find_cli()
            self.runner.launcher = CliLauncher(cli) if cli else None
            await self.checkpoints.announce()
            await self.control.start()
            if self.quota.warning is not None:
                await self._emit(ev.Notice(level="warning", message=self.quota.warning))
            await self._run()
        except RunEnded as ended:
            result = ended.result
            await self._put_back()
        except (SpecBusy, NotWritable, ContainmentRefused, LinkRefused, WorkspaceFailed) as refused:
            result = _refused(str(refused))
        except SandboxRefused as exc:
            result = _refused(f"the sandbox did not start: {exc}")
        except CLIMissingError as exc:
            result = _refused(f"the Claude Code CLI was not found: {exc}")
        finally:
            lock.release()
            if self.runner.launcher is not None:
                self.runner.launcher.close()
        await self.control.finish()
        await self._emit(
            ev.LoopFinished(
                outcome=result.outcome.value, exit_code=result.exit_code, message=result.message
            )
        )
        return result.exit_code

    async def _run(self) -> None:
        """The coder stage, until ``end`` is called."""
        self._stages_begun = True
        try:
            planned = self.tracker.load_existing() is None
            plan = self.tracker.plan or await self._planner.run()
        except PlanError as exc:
            end(RunOutcome.ERROR, str(exc), EXIT_BAD_INPUT)
        await self._emit(self.tracker.view())
        if planned:
            await self.plan_review.hold(self.config.plan_path, progress(plan)[1])
        coder = self._coder
        for note in self.tracker.new_notes():
            await self._emit(ev.Notice(level="info", message=f"plan: {note}"))
        for subtask_id in sorted(self.history.stuck_ids()):
            if self.config.retry_stuck or subtask_id in self._retry_first:
                await coder.retry_stuck(subtask_id)
        await coder.resume()
        rest_due = False
        while True:
            await coder.sync_plan()
            await coder.take_back_retried()
            plan = self.tracker.plan
            assert plan is not None
            if is_complete(plan):
                # Before the stop check: a stop asked for as the last subtask was completed
                # (a quit, a reader gone) does not make a finished run an interrupted one.
                await self._complete(plan)
                continue  # a QA session reopened a subtask
            coder.end_if_stopped()
            if rest_due:  # only between two sessions: not after the last, nor a backoff
                rest_due = False
                await self.control.between_sessions(self.config.pause_between_s)
                continue
            if await self.control.pause_gate():
                continue  # the plan may have been edited while the loop was paused
            subtask = next_subtask(plan, skip=self.history.stuck_ids())
            if subtask is None:
                stuck = sorted(self.history.stuck_ids())
                detail = f"stuck: {', '.join(stuck)}" if stuck else "no subtask is ready"
                end(RunOutcome.STUCK, f"cannot go on ({detail})")
            limit = self.config.max_iterations
            if limit is not None and self._iterations >= limit:
                message = f"stopped after {counted(self._iterations, 'session')} (--max-iterations)"
                end(RunOutcome.MAX_ITERATIONS, message)
            self._iterations += 1
            backoffs = self.control.backoffs
            await coder.work_on(subtask)
            rest_due = self.control.backoffs == backoffs

    def _guard(self) -> Guard:
        return Guard(
            self.checkpoints.project_dir,
            self.config.bash_allowlist,
            protected=protected_paths(self.config.spec_dir),
            git_read_only=self.checkpoints.isolated,
        )

    async def _complete(self, plan: ImplementationPlan) -> None:
        """Every subtask is completed: the run ends, through QA when it is on (which
        returns when a QA session reopened a subtask)."""
        if not self.config.qa:
            end(RunOutcome.COMPLETE, f"all {counted(progress(plan)[1], 'subtask')} completed")
        await self._qa.run(fresh_work=self._iterations > 0)

    def _make_verifier(
        self, emit: ev.EventSink, check_runner: CommandRunner | None, clock: Clock
    ) -> Verifier:
        """Checks run as the agent's Bash would: the same guard, the run's containment."""
        config = self.config
        return Verifier(
            enabled=config.verification,
            timeout_s=config.verification_timeout_s,
            emit=emit,
            clock=clock,
            refusal=lambda command: self.runner.guard.check("Bash", {"command": command}),
            runner=lambda: runner_for(self.runner.containment, config, clock, check_runner),
            running=self.control.running,
        )

    def _containment(self, settings: Settings, sandbox: SandboxCheck) -> Containment:
        return Containment.build(
            settings,
            self.profiles,
            self.checkpoints.project_dir,
            self.config.spec_dir,
            sandbox,
            {**self._environ, **self.config.extra_env},
            git_dirs=self.checkpoints.git_dirs(),
            spec_copy=self.checkpoints.spec_dir,
        )

    async def _contain(self) -> Containment:
        """Decide the run's containment once, before any session, and say which it is."""
        prepare_records(self.config.spec_dir)
        sandbox = self.config.sandbox
        if sandbox is None:
            env = {**self._environ, **self.config.extra_env}
            sandbox = await asyncio.to_thread(check_sandbox, env)
        self._contained_by = (self.profiles.settings, sandbox)
        containment = self._containment(*self._contained_by)
        await self._emit(containment.status())
        return containment

    async def _put_back(self) -> None:
        """A run that ends leaves no subtask in progress on disk; the end is reported even
        if the plan cannot be written now."""
        if self.tracker.plan is None:
            return
        try:
            await self._coder.put_back()
        except (OSError, PlanError, RunEnded) as exc:  # RunEnded: the write failed
            await self._emit(ev.Notice(level="error", message=f"plan not updated: {exc}"))

    async def _session_event(self, event: ev.Event) -> None:
        """A session's own events; after a tool result, the agent's plan edits show at once."""
        await self._emit(event)
        if isinstance(event, ev.ToolResult):
            await self._coder.sync_plan()


def _refused(message: str) -> RunResult:
    """A run that could not start: bad input or set-up, exit 2."""
    return RunResult(outcome=RunOutcome.ERROR, message=message, exit_code=EXIT_BAD_INPUT)
