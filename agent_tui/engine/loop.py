"""The coder loop: plan → a fresh session per subtask, in one lane or several → complete.

Plain asyncio; it knows nothing of Textual.  It reports through one async event sink and is
steered through its public methods (``pause``, ``resume``, ``interrupt``, ``retry_now``,
``switch_profile``, ``stop``), which are safe to call from the same event loop at any time.

``CoderLoop`` wires the parts and runs the stages: ``Control`` (the state, every wait),
each lane's ``ProfileRotation`` (its account, its session's env), ``PlanTracker`` (the plan
on disk), ``SessionRunner``, the retry book and the pure error policy; ``Coding`` runs the
lanes and the merge queue.  The agent is whatever ``AgentFactory`` makes (Claude Code's
sessions unless a test says otherwise).  A run ends one way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping

from agent_tui.auth.credentials import Resolution
from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ConfigError, Settings
from agent_tui.engine.accounts.budget import profile_budgets
from agent_tui.engine.accounts.ledger import Ledger
from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.accounts.rotation import IMPLICIT_PROFILE, ProfileRotation
from agent_tui.engine.accounts.spend import RunSpend
from agent_tui.engine.agents.claude.agent import ClaudeAgent
from agent_tui.engine.agents.protocol import AgentFactory, CLIMissingError, SandboxRefused
from agent_tui.engine.agents.transcript import last_session
from agent_tui.engine.checks.runner import CheckRunners
from agent_tui.engine.checks.verify import CommandRunner, Verifier
from agent_tui.engine.clock import Clock, RealClock
from agent_tui.engine.coding import Coding
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.control.control import Control
from agent_tui.engine.control.notes import NoteBox
from agent_tui.engine.control.plan_review import PlanReviewGate
from agent_tui.engine.control.result import RunEnded, RunOutcome, RunResult, end
from agent_tui.engine.control.runlock import RunLock, SpecBusy
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events.quota import Quota
from agent_tui.engine.events.state import LoopState
from agent_tui.engine.events.trust import RECHECK_LANE
from agent_tui.engine.failures.retry import RetryBook
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
from agent_tui.engine.schedule.lanes import Lane
from agent_tui.engine.schedule.ready import lane_count
from agent_tui.engine.stages.base import RunParts
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.engine.stages.merge import MergeQueue
from agent_tui.engine.stages.planner import PlannerStage
from agent_tui.engine.stages.qa import QAStage
from agent_tui.engine.stages.runner import SessionRunner
from agent_tui.exit_codes import EXIT_BAD_INPUT
from agent_tui.files import LinkRefused
from agent_tui.plan import ImplementationPlan, PlanError, progress
from agent_tui.text import every
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
        session_factory: AgentFactory | None = None,
        check_runner: CommandRunner | None = None,
        check_clock: Clock | None = None,
    ) -> None:
        """``session_factory`` makes each session (Claude Code's by default);
        ``check_runner`` stands in for the runner of verification commands; they are timed
        on ``check_clock``, real time unless a test says otherwise (a check is a process)."""
        self.config = config
        self.profiles = profiles
        self.clock = clock or RealClock()
        self._emit = emit
        self._environ = dict(os.environ if environ is None else environ)
        self.history = AttemptHistory(config.spec_dir)
        self.quota = QuotaBook.load(config.quota_file)
        self.spend = self._spend(emit)
        self.rotation = self._rotation(config.profile)
        """Lane 1's: the profile the status line shows."""
        self.control = Control(
            self.clock, config.pause_file, emit, after_resume=self._apply_pending
        )
        self.tracker = PlanTracker(config.plan_path, config.spec_dir, self.history)
        self.notes = NoteBox(config.spec_dir)
        self.plan_review = PlanReviewGate(config.plan_review, emit)
        self.checkpoints = Checkpoints(config, emit, self.history)
        self.checkpoints.plan_lock = self.tracker.writing  # and every lane's, through it
        self._contained_by: tuple[Settings, SandboxCheck] | None = None  # as the run began
        self.agents = session_factory or ClaudeAgent(config.cli_path)
        """What makes each session: Claude Code's, unless a test says otherwise."""
        self.runner = SessionRunner(
            config, self.control, self.agents, emit, self._session_event, self.quota, self.spend
        )
        check_clock = check_clock or RealClock()
        self._checks = CheckRunners(config, check_clock, check_runner)
        self.verifier = self._make_verifier(emit, check_clock)
        self.spec_lane = Lane(1, self.checkpoints, self.rotation, self._guard(self.checkpoints))
        parts = RunParts(
            config=config,
            control=self.control,
            runner=self.runner,
            retries=RetryBook(config.retry_policy, self.clock),
            tracker=self.tracker,
            history=self.history,
            emit=emit,
            notes=self.notes,
            checkpoints=self.checkpoints,
            verifier=self.verifier,
            quota=self.quota,
            spec_lane=self.spec_lane,
            lanes=[self.spec_lane],
        )
        self.parts = parts
        self._planner = PlannerStage(parts)
        self._coder = CoderStage(parts)
        self._qa = QAStage(parts)
        self._queue = MergeQueue(parts, self._coder)
        self._coding = Coding(parts, self._coder, self._queue)
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
        return self.spec_lane.containment

    @property
    def lanes(self) -> list[Lane]:
        return self.parts.lanes

    @property
    def paused(self) -> bool:
        return self.control.paused

    @property
    def pause_requested(self) -> bool:
        return self.control.pause_requested

    @property
    def session_running(self) -> bool:
        return bool(self.control.sessions)

    @property
    def interrupt_requested(self) -> bool:
        """Every running session has been asked to stop and is ending."""
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
            for lane in {self.spec_lane, *self.lanes}:
                lane.containment = self._containment(lane.site, *self._contained_by)
                if lane.own is not None:  # working alone in the spec's: its own, for after
                    site, guard, _ = lane.own
                    lane.own = (site, guard, self._containment(site, *self._contained_by))
        return None

    @property
    def workspace(self) -> Location | None:
        """Where the agent works, once the run has found it (None before)."""
        return self.checkpoints.location

    def subtask_diff(self, subtask_id: str) -> str:
        """The subtask's changes: its commit, or, while it is worked on, its worktree's
        changes so far; "" when there is none (or no worktree).  Blocking: git runs."""
        attempt = self.parts.attempts.get(subtask_id)
        if attempt is None:
            return self.checkpoints.subtask_diff(subtask_id, in_progress=False)
        return attempt.lane.site.subtask_diff(subtask_id, in_progress=True)

    def profile_resolution(self, profile: Profile) -> Resolution:
        return self.rotation.resolution(profile)

    def quota_of(self, name: str) -> Quota | None:
        """``name``'s usage window as last reported (by any run sharing the state dir)."""
        return self.quota.get(name)

    def pause(self) -> None:
        """Pause at the next session boundary of every lane (a backoff wait pauses at once)."""
        self.control.pause()

    def resume(self) -> None:
        for lane in self.lanes:  # the user may have logged in again: every one may try
            lane.rotation.forgive()
        self.control.resume()

    def interrupt(self, lane: int | None = None) -> None:
        """Stop the running sessions now (only ``lane``'s, if given) and pause."""
        self.control.interrupt(lane)

    def retry_now(self) -> None:
        self.control.retry_now()

    def switch_profile(self, name: str, reason: str = "user") -> None:
        """Use profile ``name`` from each lane's next session on (the current one: cancel a
        switch)."""
        for lane in self.lanes:
            lane.rotation.request(name, reason)
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
        """End the run: every session is interrupted and recorded; ``reason`` ends the log."""
        self.control.stop(reason)
        self.plan_review.stop(reason)

    # ------------------------------------------------------------------- the run

    async def run(self) -> int:
        lock = RunLock(self.config.spec_dir)
        try:
            check_writable(self.config.spec_dir)
            lock.acquire()
            await self.checkpoints.open()
            self.spec_lane.guard = self._guard(self.checkpoints)
            self.spec_lane.containment = await self._contain()
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
            await self._checks.close()
            await self._close_lanes()
            with contextlib.suppress(OSError):  # the journal keeps what the file lacks
                await asyncio.to_thread(self.history.close)
            lock.release()
            close = getattr(self.agents, "close", None)
            if close is not None:
                close()
        await self.control.finish()
        await self._emit(
            ev.LoopFinished(
                outcome=result.outcome.value, exit_code=result.exit_code, message=result.message
            )
        )
        return result.exit_code

    async def _run(self) -> None:
        """The planner if there is no plan, then the coding phase, until ``end``."""
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
        await self._queue.resume()
        await self._open_lanes(self.tracker.plan or plan)
        await self._coding.run(self._complete)

    async def _open_lanes(self, plan: ImplementationPlan) -> None:
        """As many lanes as the run gets, each with its worktree, profile and containment
        (one lane: the spec's own, as a run always had)."""
        count = lane_count(
            asked=self.config.lanes,
            plan=plan,
            profiles=len(self._lane_profiles()),
            per_profile=self.config.lanes_per_profile,
            memory_bytes=_available_memory(),
            isolated=self.checkpoints.isolated,
        )
        if count.lanes > 1 or (self.config.lanes or 1) > 1:
            await self._emit(lev.LanesPlanned(lanes=count.lanes, reason=count.reason))
        if count.lanes == 1:
            return
        profiles = self._lane_profiles()
        await self.checkpoints.hold_shared_mount_points()
        lanes = []
        for number in range(1, count.lanes + 1):
            site = Checkpoints(
                self.config, self._emit, self.history, lane=number, of_spec=self.checkpoints
            )
            await site.open()
            await site.leftovers_aside()
            profile = profiles[(number - 1) % len(profiles)] if profiles else None
            rotation = self.rotation if number == 1 else self._rotation(profile, number)
            rotation.failed = self.rotation.failed  # a profile that failed, failed for all
            lane = Lane(number, site, rotation, self._guard(site))
            assert self._contained_by is not None
            lane.containment = self._containment(site, *self._contained_by)
            lanes.append(lane)
        self.parts.lanes[:] = lanes
        last = last_session(self.config.logs_dir)  # a try of a run killed in the spec's own
        self._coding.left_in_spec = last.subtask_id if last is not None else None
        self._queue.lane = Lane(
            RECHECK_LANE,
            self.checkpoints,
            self.rotation,
            self.spec_lane.guard,
            self.spec_lane.containment,
        )
        self._coder.on_check_passed = self._queue.take
        self._coder.recheck_lane = self._queue.lane

    async def _close_lanes(self) -> None:
        """The lanes' worktrees go as the run ends; what an unfinished try left in one is
        rolled back first, its patch kept in logs/ (the spec's own worktree stays)."""
        with contextlib.suppress(OSError):
            await self.checkpoints.release_shared_mount_points()
        for lane in self.lanes:
            if lane.site is self.checkpoints:
                continue
            try:
                if lane.last is not None and lane.last.subtask_id is not None:
                    await self._coder.try_failed(lane.last.subtask_id, lane.site)
                await lane.site.close_lane()
            except (WorkspaceFailed, RunEnded, OSError) as exc:
                message = f"lane {lane.id}: its worktree was not removed ({exc})"
                await self._emit(ev.Notice(level="warning", message=message))

    def _lane_profiles(self) -> list[str]:
        """The profiles lanes start on, in turn: the one the run starts on, then (with
        auto_switch) every other usable one, the roomiest first."""
        current = self.rotation.current
        if not self.config.auto_switch:
            return [current]
        wall = self.clock.wall()
        others = [
            name
            for name in self.profiles.names()
            if name != current
            and self.rotation.exhausted_until(name) is None
            and self.spend.budgets.profile_spent(name) is None
            and self.rotation.resolution(self.profiles.get(name)).usable
        ]
        return [current, *sorted(others, key=lambda name: self.quota.used(name, wall))]

    def _rotation(self, start: str | None, lane: int = 1) -> ProfileRotation:
        return ProfileRotation(
            self.profiles,
            self._emit,
            environ=self._environ,
            start=start,
            auto_switch=self.config.auto_switch,
            extra_env=self.config.extra_env,
            quota=self.quota,
            wall=self.clock.wall,
            lane=lane,
            spent=self.spend.budgets.profile_spent,
        )

    def _spend(self, emit: ev.EventSink) -> RunSpend:
        """The run's spend in the ledger, its budgets, and what its forecast goes by."""
        config = self.config
        spend = RunSpend(
            Ledger.load(config.spend_dir),
            spec_dir=config.spec_dir,
            project_dir=config.project_dir,
            clock=self.clock,
            emit=emit,
        )
        budgets = spend.budgets
        budgets.run_limit, budgets.spec_limit = config.max_spend_usd, config.spec_budget_usd
        budgets.profile_budget = profile_budgets(
            self.profiles, config.monthly_budget_usd, config.billing_day
        )
        spend.plan_state = self._plan_state
        return spend

    def _plan_state(self) -> tuple[set[str], int, int]:
        """The subtasks completed, how many are left to do (not stuck), and the lanes.  One
        the plan says is completed while its try goes on (its check not run yet) is neither:
        a claim is nothing to go by, and its cost is spent."""
        plan = self.tracker.plan
        if plan is None:
            return set(), 0, len(self.parts.lanes)
        stuck = self.history.stuck_ids()
        subtasks = list(plan.subtasks())
        said = {s.id for s in subtasks if s.status == "completed"}
        left = sum(1 for s in subtasks if s.id not in said and s.id not in stuck)
        return said - set(self.parts.attempts), left, len(self.parts.lanes)

    async def _apply_pending(self) -> None:
        for lane in self.lanes:
            await lane.rotation.apply_pending()

    def _guard(self, site: Checkpoints) -> Guard:
        return Guard(
            site.project_dir,
            self.config.bash_allowlist,
            protected=protected_paths(self.config.spec_dir),
            git_read_only=site.isolated,
        )

    async def _complete(self, plan: ImplementationPlan) -> None:
        """Every subtask is completed: every check runs once more on the final tree (a
        failure reopens its subtask), then the run ends, through QA when it is on (which
        returns when a QA session reopened a subtask)."""
        queue = self._queue
        if await self._coder.final_check(queue.lane, queue.passed_on, self.parts.lanes):
            return
        if not self.config.qa:
            end(RunOutcome.COMPLETE, f"{every(progress(plan)[1], 'subtask')} completed")
        await self._qa.run(fresh_work=self._coding.iterations > 0)

    def _make_verifier(self, emit: ev.EventSink, clock: Clock) -> Verifier:
        """Checks run as the agent's Bash would: its lane's guard and containment."""
        config = self.config
        return Verifier(
            enabled=config.verification,
            timeout_s=config.verification_timeout_s,
            emit=emit,
            clock=clock,
            runner=self._checks,
            running=self.control.running_in,
        )

    def _containment(
        self, site: Checkpoints, settings: Settings, sandbox: SandboxCheck
    ) -> Containment:
        return Containment.build(
            settings,
            self.profiles,
            site.project_dir,
            self.config.spec_dir,
            sandbox,
            {**self._environ, **self.config.extra_env},
            git_dirs=site.git_dirs(),
            spec_copy=site.spec_dir,
            place=site.workplace(),
            worktrees=self.config.worktrees_dir,
        )

    async def _contain(self) -> Containment:
        """Decide the run's containment once, before any session, and say which it is."""
        prepare_records(self.config.spec_dir)
        sandbox = self.config.sandbox
        if sandbox is None:
            env = {**self._environ, **self.config.extra_env}
            sandbox = await asyncio.to_thread(check_sandbox, env)
        self._contained_by = (self.profiles.settings, sandbox)
        containment = self._containment(self.checkpoints, *self._contained_by)
        await self._emit(containment.status())
        return containment

    async def _put_back(self) -> None:
        """A run that ends leaves no subtask in progress on disk; the end is reported even
        if the plan cannot be written now."""
        if self.tracker.plan is None:
            return
        try:
            await self._coding.put_back()
        except (OSError, PlanError, RunEnded) as exc:  # RunEnded: the write failed
            await self._emit(ev.Notice(level="error", message=f"plan not updated: {exc}"))

    async def _session_event(self, event: ev.Event) -> None:
        """A session's own events; after a tool result, its lane's plan edits show at once."""
        await self._emit(event)
        if isinstance(event, ev.ToolResult):
            lane = next((lane for lane in self.lanes if lane.id == event.lane), None)
            await self._coder.sync_plan(lane or self.spec_lane)


def _available_memory() -> int | None:
    """The memory the kernel says new processes can have (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _refused(message: str) -> RunResult:
    """A run that could not start: bad input or set-up, exit 2."""
    return RunResult(outcome=RunOutcome.ERROR, message=message, exit_code=EXIT_BAD_INPUT)
