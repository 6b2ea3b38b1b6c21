"""The coder loop: plan → one fresh session per subtask → complete, with a pause gate.

Plain asyncio; it knows nothing of Textual.  It reports through one async event sink and is
steered through its public methods (``pause``, ``resume``, ``interrupt``, ``retry_now``,
``switch_profile``, ``stop``), which are safe to call from the same event loop at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_tui.atomic import LinkRefused
from agent_tui.auth.credentials import Resolution, resolve, session_env
from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.auth.redaction import CREDENTIAL_ENV, redact
from agent_tui.engine import events as ev
from agent_tui.engine.clock import Clock, RealClock
from agent_tui.engine.containment import (
    Containment,
    ContainmentRefused,
    SandboxCheck,
    check_sandbox,
    prepare_records,
    protected_paths,
)
from agent_tui.engine.errors import ErrorKind
from agent_tui.engine.guard import Guard
from agent_tui.engine.prompts import render
from agent_tui.engine.recovery import AttemptHistory
from agent_tui.engine.retry import RetryDecision, RetryPolicy, RetryTracker
from agent_tui.engine.runlock import RunLock, SpecBusy
from agent_tui.engine.session import (
    AgentSession,
    CLIMissingError,
    SandboxRefused,
    SessionOutcome,
    SessionSpec,
)
from agent_tui.engine.transcript import TranscriptError, next_transcript_path
from agent_tui.engine.views import plan_view
from agent_tui.exit_codes import (
    EXIT_BAD_INPUT,
    EXIT_COMPLETE,
    EXIT_INTERRUPTED,
    EXIT_STOPPED_SHORT,
)
from agent_tui.plan import (
    ImplementationPlan,
    PlanError,
    Subtask,
    find_subtask,
    is_complete,
    is_empty,
    load_plan,
    next_subtask,
    phase_of,
    progress,
    save_plan,
    set_status,
)

PASSTHROUGH_ENV = ("ANTHROPIC_BASE_URL", "CLAUDE_CODE_MAX_RETRIES")
PLANNER_TRIES = 3
RATE_LIMIT_RETRIES_BEFORE_SWITCH = 3
IMPLICIT_PROFILE = "default"


@dataclass
class LoopConfig:
    project_dir: Path
    spec_dir: Path
    model: str | None = None
    max_iterations: int | None = None
    pause_between_s: float = 3.0
    idle_timeout_s: float = 600.0
    max_attempts: int = 3
    """Sessions that end without completing a subtask before it is marked stuck."""
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    extra_env: dict[str, str] = field(default_factory=dict)
    """Set for every session on top of the profile's env (the demo points the CLI at its sim)."""
    bash_allowlist: list[str] | None = None
    auto_switch: bool = False
    pause_on_problem: bool = True
    """TUI: a problem only the user can fix pauses the loop.  Headless: it ends the run."""
    cli_path: str | None = None
    profile: str | None = None
    """Profile to start with; None means the store's active profile."""
    sandbox: SandboxCheck | None = None
    """What a check before the run found of Claude Code's sandbox; None: the run checks."""

    @property
    def plan_path(self) -> Path:
        return self.spec_dir / "implementation_plan.json"

    @property
    def pause_file(self) -> Path:
        return self.spec_dir / "PAUSE"

    @property
    def logs_dir(self) -> Path:
        return self.spec_dir / "logs"


class LoopAborted(Exception):
    """Ends the run early with a given outcome and exit code."""

    def __init__(self, outcome: str, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.exit_code = exit_code
        self.message = message


SessionFactory = Callable[[SessionSpec, ev.EventSink, Clock], AgentSession]


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
    ) -> None:
        self.config = config
        self.profiles = profiles
        self.clock = clock or RealClock()
        self._emit_raw = emit
        self._environ = dict(os.environ if environ is None else environ)
        self._session_factory = session_factory
        self.retry = RetryTracker(config.retry_policy, self.clock)
        self.backing_off = False
        """True while a backoff wait runs (the one time ``retry_now`` has something to skip)."""
        self.history = AttemptHistory(config.spec_dir)
        self.plan: ImplementationPlan | None = None
        self._plan_mtime: float | None = None
        self.guard = Guard(
            config.project_dir, config.bash_allowlist, protected=protected_paths(config.spec_dir)
        )
        self.containment: Containment | None = None
        """Decided when the run starts, the same for every session."""
        active = profiles.active_profile()
        self.profile_name: str = config.profile or (active.name if active else IMPLICIT_PROFILE)
        self._pending_profile: tuple[str, str] | None = None
        self._failed_profiles: set[str] = set()
        """Profiles switched away from after an auth or rate-limit error since the last
        success (or resume): auto-switch does not go back to them, so two failing accounts
        cannot take turns for ever."""
        self._session: AgentSession | None = None
        self._last_session = 0
        self._interrupting: object = None  # the session ``interrupt`` asked to stop
        self._stop_reason = "stopped by the user"
        self._iterations = 0
        self._pause_requested = False
        self._paused = False
        self._stop = False
        self._retry_now = False
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Future[None]] = set()
        self._notices_shown: set[str] = set()
        self._current_subtask: str | None = None
        self._statuses_shown: dict[str, tuple[str, int]] = {}
        self._resume = asyncio.Event()
        self.total_cost_usd = 0.0
        self.total_input_tokens = 0
        self.total_output_tokens = 0

    # ----------------------------------------------------------------- control handle

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def pause_requested(self) -> bool:
        return self._pause_requested

    @property
    def session_running(self) -> bool:
        return self._session is not None

    def pause(self) -> None:
        """Pause at the next session boundary (a backoff wait pauses at once)."""
        if self._pause_requested or self._paused:
            return
        self._pause_requested = True
        self._wake.set()
        if self._session is not None:
            self._spawn_emit(ev.Pausing())

    def resume(self) -> None:
        self._pause_requested = False
        self._failed_profiles.clear()  # the user may have logged in again: every one may try
        with contextlib.suppress(FileNotFoundError):
            self.config.pause_file.unlink()
        self._resume.set()
        self._wake.set()

    @property
    def interrupt_requested(self) -> bool:
        """The running session has been asked to stop and is ending."""
        return self._session is not None and self._interrupting is self._session

    def interrupt(self) -> None:
        """Stop the running session now and pause (asking a session once is enough)."""
        self.pause()
        if self._session is not None and not self.interrupt_requested:
            self._interrupting = self._session
            self._background(self._ask_to_stop(self._session))

    async def _ask_to_stop(self, session: Any) -> None:
        taken = await session.interrupt()
        if taken is not False or self._stop or self._session is not session:
            return  # taken, or the session ended meanwhile (then its answer means nothing)
        self._interrupting = None  # the CLI did not take it: ``interrupt`` may ask again
        await self._emit(
            ev.Notice(
                level="warning",
                message="the session did not take the interrupt; press i to ask again",
            )
        )

    def retry_now(self) -> None:
        self._retry_now = True
        self._wake.set()

    @property
    def next_profile(self) -> str:
        """The profile the next session will use: a switch asked for, or the current one."""
        return self._pending_profile[0] if self._pending_profile else self.profile_name

    def switch_profile(self, name: str, reason: str = "user") -> None:
        """Use profile ``name`` from the next session on (the current one: cancel a switch)."""
        self.profiles.get(name)
        self._pending_profile = (name, reason)
        self._wake.set()

    def stop(self, reason: str = "stopped by the user") -> None:
        """End the run: the session is interrupted and recorded; ``reason`` ends the log."""
        if not self._stop:
            self._stop_reason = reason
        self._stop = True
        self._wake.set()
        self._resume.set()
        if self._session is not None:
            self._background(self._session.interrupt())

    # ---------------------------------------------------------------------- the loop

    async def run(self) -> int:
        lock = RunLock(self.config.spec_dir)
        try:
            lock.acquire()
            self.containment = await self._contain()
            outcome, code, message = await self._run()
        except (SpecBusy, ContainmentRefused, LinkRefused) as refused:
            outcome, code, message = "error", EXIT_BAD_INPUT, str(refused)
        except SandboxRefused as exc:
            outcome, code, message = "error", EXIT_BAD_INPUT, f"the sandbox did not start: {exc}"
        except LoopAborted as aborted:
            outcome, code, message = aborted.outcome, aborted.exit_code, aborted.message
        except CLIMissingError as exc:
            outcome, code, message = (
                "error",
                EXIT_BAD_INPUT,
                f"the Claude Code CLI was not found: {exc}",
            )
        finally:
            lock.release()
        await self._emit(ev.LoopFinished(outcome=outcome, exit_code=code, message=message))
        return code

    async def _contain(self) -> Containment:
        """Decide the run's containment once, before any session, and say which it is."""
        prepare_records(self.config.spec_dir)
        sandbox = self.config.sandbox
        if sandbox is None:
            env = {**self._environ, **self.config.extra_env}
            sandbox = await asyncio.to_thread(check_sandbox, env)
        containment = Containment.build(
            self.profiles.settings,
            self.profiles,
            self.config.project_dir,
            self.config.spec_dir,
            sandbox,
            {**self._environ, **self.config.extra_env},
        )
        await self._emit(containment.status())
        return containment

    async def _run(self) -> tuple[str, int, str]:
        plan = await self._initial_plan()
        await self._emit_plan_loaded(plan)
        while True:
            plan = self.plan  # nothing changes it while paused: read once per turn
            assert plan is not None
            if is_complete(plan):
                # Before the stop check: a stop asked for as the last subtask was completed
                # (a quit, a reader gone) does not make a finished run an interrupted one.
                return "complete", EXIT_COMPLETE, f"all {progress(plan)[1]} subtasks completed"
            if self._stop:
                return "interrupted", EXIT_INTERRUPTED, self._stop_reason
            await self._pause_gate()
            if self._stop:
                return "interrupted", EXIT_INTERRUPTED, self._stop_reason
            subtask = next_subtask(plan, skip=self.history.stuck_ids())
            if subtask is None:
                stuck = sorted(self.history.stuck_ids())
                detail = f"stuck: {', '.join(stuck)}" if stuck else "no subtask is ready"
                return "stuck", EXIT_STOPPED_SHORT, f"cannot go on ({detail})"
            if self.config.max_iterations is not None and (
                self._iterations >= self.config.max_iterations
            ):
                return (
                    "max_iterations",
                    EXIT_STOPPED_SHORT,
                    f"stopped after {self._iterations} sessions (--max-iterations)",
                )
            self._iterations += 1
            finished = await self._work_on(subtask)
            if finished is not None:
                return finished
            await self._between_sessions()

    async def _initial_plan(self) -> ImplementationPlan:
        path = self.config.plan_path
        if path.exists():
            try:
                plan = load_plan(path)
            except PlanError as exc:
                raise LoopAborted("error", EXIT_BAD_INPUT, str(exc)) from exc
            if not is_empty(plan):
                self._adopt_plan(plan)
                return plan
        return await self._plan_with_planner()

    async def _plan_with_planner(self) -> ImplementationPlan:
        """Planner sessions until one writes a valid plan.

        A try is a session that ran and left no valid plan, or that failed in a way more
        sessions will not fix; PLANNER_TRIES of them end the run.  A paused or interrupted
        session is not a try, and API errors are handled as for a coder (backoff, profile
        switch, or a problem only the user can fix) instead of spending tries.
        """
        path = self.config.plan_path
        problems: list[str] = []
        tries = sessions = 0
        while tries < PLANNER_TRIES:
            await self._pause_gate()
            if self._stop:
                raise LoopAborted("interrupted", EXIT_INTERRUPTED, self._stop_reason)
            retry_text = ""
            if self.retry.planning_errors:
                errors = "\n".join(f"- {e}" for e in self.retry.planning_errors)
                retry_text = render("planner_retry", errors=errors)
            prompt = render(
                "planner",
                project_dir=self.config.project_dir,
                spec_dir=self.config.spec_dir,
                plan_path=path,
                validation_errors=retry_text,
            )
            sessions += 1
            outcome = await self._run_session("planner", None, prompt, sessions)
            if outcome is None or outcome.outcome == "interrupted":
                continue
            if not outcome.ok:
                if await self._after_planner_error(outcome):
                    tries += 1
                    problems.append(f"{outcome.error_kind or 'error'}: {outcome.message}")
                continue
            tries += 1
            try:
                plan = load_plan(path)
                if is_empty(plan):
                    raise PlanError(f"{path.name}: the plan has no subtasks")
            except PlanError as exc:
                problems.append(str(exc))
                self.retry.note_planning_errors([str(exc)])
                await self._emit(ev.Notice(level="warning", message=f"planner: {exc}"))
                continue
            self.retry.on_success()
            self._adopt_plan(plan)
            return plan
        last = problems[-1] if problems else "the planner sessions failed"
        raise LoopAborted(
            "error",
            EXIT_STOPPED_SHORT,
            f"no valid plan after {PLANNER_TRIES} planner sessions: {last}",
        )

    async def _after_planner_error(self, outcome: SessionOutcome) -> bool:
        """Handle a failed planner session; True when it counts as one of the planner's tries."""
        kind = outcome.error_kind or ErrorKind.OTHER
        if await self._switch_or_stop(kind, outcome):
            return False
        decision = self.retry.on_error(kind)
        if decision.give_up:
            if kind == ErrorKind.OVERLOADED:
                await self._problem(f"{decision.reason} on profile {self.profile_name!r}")
                return False
            return True
        await self._backoff(decision)
        return False

    async def _work_on(self, subtask: Subtask) -> tuple[str, int, str] | None:
        """One coder session for ``subtask``; returns a finish triple when the loop must end."""
        attempt = self.history.attempt_count(subtask.id) + 1
        await self._set_status(subtask.id, "in_progress")
        self._current_subtask = subtask.id
        await self._emit(ev.SubtaskStatus(id=subtask.id, status="in_progress", attempts=attempt))
        prompt = self._coder_prompt(subtask, attempt)
        outcome = await self._run_session("coder", subtask.id, prompt, attempt)
        if outcome is None:
            return None
        self._reload_plan_after_session()
        current = find_subtask(self.plan, subtask.id) if self.plan else None
        completed = current is not None and current.status == "completed"
        history_outcome = outcome.outcome if not (outcome.ok and not completed) else "incomplete"
        await asyncio.to_thread(
            self.history.record_attempt,
            subtask.id,
            self._last_session,
            history_outcome,
            str(outcome.error_kind) if outcome.error_kind else None,
            outcome.message[:500],
        )
        attempts = self.history.attempt_count(subtask.id)
        if outcome.outcome == "interrupted":
            await self._emit(
                ev.SubtaskStatus(
                    id=subtask.id,
                    status=current.status if current else "pending",
                    attempts=attempts,
                )
            )
            return None
        if outcome.ok and completed:
            self.retry.on_success()
            await self._emit(ev.SubtaskStatus(id=subtask.id, status="completed", attempts=attempts))
            return None
        if outcome.ok:
            self.retry.on_success()
            await self._emit(
                ev.SubtaskStatus(
                    id=subtask.id,
                    status=current.status if current else "pending",
                    attempts=attempts,
                )
            )
            tried = self.history.attempt_count(subtask.id, interrupted=False)
            if tried >= self.config.max_attempts:
                await self._mark_stuck(subtask.id, f"not completed after {tried} sessions")
            return None
        return await self._after_error(subtask, outcome, attempts)

    async def _after_error(
        self, subtask: Subtask, outcome: SessionOutcome, attempts: int
    ) -> tuple[str, int, str] | None:
        kind = outcome.error_kind or ErrorKind.OTHER
        await self._emit(ev.SubtaskStatus(id=subtask.id, status="in_progress", attempts=attempts))
        if await self._switch_or_stop(kind, outcome):
            return None
        decision = self.retry.on_error(kind)
        if decision.give_up:
            if kind == ErrorKind.TOOL_CONCURRENCY:
                await self._mark_stuck(subtask.id, decision.reason)
                return (
                    "stuck",
                    EXIT_STOPPED_SHORT,
                    f"subtask {subtask.id} is stuck: {decision.reason}",
                )
            if kind == ErrorKind.OVERLOADED:
                return await self._problem(f"{decision.reason} on profile {self.profile_name!r}")
            await self._mark_stuck(subtask.id, decision.reason)
            return None
        await self._backoff(decision)
        return None

    async def _switch_or_stop(self, kind: ErrorKind, outcome: SessionOutcome) -> bool:
        """Auth and rate-limit errors: the next usable profile from the next session on, or
        a problem only the user can fix.  True when ``kind`` was one of those."""
        if kind in (ErrorKind.RATE_LIMIT, ErrorKind.AUTH) and self.config.auto_switch:
            self._failed_profiles.add(self.profile_name)
            target = self._next_usable_profile()
            if target is not None:
                self._pending_profile = (target, str(kind))
                return True
            others = sorted(self._failed_profiles - {self.profile_name})
            tried = f" ({', '.join(others)} failed too)" if others else ""
            await self._problem(
                f"{kind} on profile {self.profile_name!r} and no other profile is usable{tried}"
            )
            return True
        if kind == ErrorKind.AUTH:
            await self._problem(
                f"authentication failed on profile {self.profile_name!r}: {outcome.message}"
            )
            return True
        if kind == ErrorKind.RATE_LIMIT:
            # The CLI has already retried its 429s: more sessions now would only spend tries.
            reason = f": {outcome.message}" if outcome.message else ""
            await self._problem(f"rate limited on profile {self.profile_name!r}{reason}")
            return True
        return False

    async def _problem(self, reason: str) -> None:
        """Something only the user can fix: pause (TUI) or end the run (headless)."""
        if not self.config.pause_on_problem:
            raise LoopAborted("stopped", EXIT_STOPPED_SHORT, reason)
        await self._emit(ev.Notice(level="error", message=reason))
        self._pause_requested = True
        await self._pause_gate(reason)

    async def _mark_stuck(self, subtask_id: str, reason: str) -> None:
        self.retry.reset()  # the errors in a row were this subtask's: the next starts afresh
        await asyncio.to_thread(self.history.mark_stuck, subtask_id, reason)
        await self._set_status(subtask_id, "failed")
        await self._emit(
            ev.SubtaskStatus(
                id=subtask_id, status="failed", attempts=self.history.attempt_count(subtask_id)
            )
        )
        await self._emit(ev.SubtaskStuck(id=subtask_id, reason=reason))

    # -------------------------------------------------------------------- sessions

    def _coder_prompt(self, subtask: Subtask, attempt: int) -> str:
        assert self.plan is not None
        phase = phase_of(self.plan, subtask.id)
        verification = "none"
        if subtask.verification and subtask.verification.command:
            verification = f"run `{subtask.verification.command}`"
            if subtask.verification.expected:
                verification += f", expect {subtask.verification.expected}"
        return render(
            "coder",
            subtask_id=subtask.id,
            description=subtask.description,
            phase_name=phase.name if phase else "",
            attempt=attempt,
            project_dir=self.config.project_dir,
            spec_dir=self.config.spec_dir,
            plan_path=self.config.plan_path,
            files_to_modify=", ".join(subtask.files_to_modify) or "-",
            files_to_create=", ".join(subtask.files_to_create) or "-",
            verification=verification,
            guidance=render("one_tool_at_a_time") if self.retry.guidance_due else "",
        )

    async def _run_session(
        self, kind: str, subtask_id: str | None, prompt: str, attempt: int
    ) -> SessionOutcome | None:
        """Run one session; None when the run must not count it (no usable profile, paused)."""
        await self._apply_pending_profile()
        env = await self._session_env()
        if env is None:
            return None
        prepare_records(self.config.spec_dir)  # a link put there since is refused, not used
        number, transcript = next_transcript_path(self.config.logs_dir, self._last_session)
        self._last_session = number
        spec = SessionSpec(
            number=number,
            kind=kind,
            subtask_id=subtask_id,
            prompt=prompt,
            cwd=self.config.project_dir,
            env=env,
            transcript_path=transcript,
            guard=self.guard,
            containment=self.containment,
            model=self.config.model,
            idle_timeout_s=self.config.idle_timeout_s,
            cli_path=self.config.cli_path,
            rate_limit_retries=self._rate_limit_retries(),
        )
        await self._emit(
            ev.SessionStarted(
                session=number,
                kind=kind,
                subtask_id=subtask_id,
                profile=self.profile_name,
                attempt=attempt,
                model=self.config.model,
                transcript=str(transcript),
            )
        )
        session = self._session_factory(spec, self._emit, self.clock)
        self._session = session
        try:
            if self._stop:
                await session.interrupt()
            outcome = await session.run()
        except TranscriptError as exc:
            await self._problem(f"{exc}: no session runs without its transcript")
            return None
        finally:
            self._session = None
        self.total_cost_usd += outcome.cost_usd
        self.total_input_tokens += outcome.input_tokens
        self.total_output_tokens += outcome.output_tokens
        await self._emit(
            ev.Usage(
                session=number,
                session_cost_usd=outcome.cost_usd,
                session_input_tokens=outcome.input_tokens,
                session_output_tokens=outcome.output_tokens,
                total_cost_usd=self.total_cost_usd,
                total_input_tokens=self.total_input_tokens,
                total_output_tokens=self.total_output_tokens,
            )
        )
        if outcome.ok:
            self._failed_profiles.clear()
        await self._emit(
            ev.SessionEnded(
                session=number,
                subtask_id=subtask_id,
                outcome=outcome.outcome,
                error_kind=str(outcome.error_kind) if outcome.error_kind else None,
                cost_usd=outcome.cost_usd,
                message=outcome.message,
            )
        )
        return outcome

    async def _session_env(self) -> dict[str, str] | None:
        env = {k: self._environ[k] for k in PASSTHROUGH_ENV if k in self._environ}
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
        env.update(self.config.extra_env)
        if self.profile_name == IMPLICIT_PROFILE and IMPLICIT_PROFILE not in self.profiles.names():
            # No profile chosen: the CLI's own default login, as without agent-tui; an
            # inherited credential is then this session's own (the rest are blanked).
            env.update({k: v for k in CREDENTIAL_ENV if (v := self._environ.get(k))})
            return env
        profile = self.profiles.get(self.profile_name)
        resolution = resolve(profile, environ=self._environ)
        for notice in resolution.notices:
            if notice not in self._notices_shown:
                self._notices_shown.add(notice)
                await self._emit(ev.Notice(level="warning", message=redact(notice)))
        if not resolution.usable:
            if self.config.auto_switch:
                target = self._next_usable_profile()
                if target is not None:
                    await self._switch_now(target, "no usable credentials")
                    return await self._session_env()
            await self._problem(resolution.refusal)
            return None
        env.update(session_env(profile, resolution, self._environ))
        return env

    def _rate_limit_retries(self) -> int | None:
        """With auto-switch and another profile, stop waiting on a 429 after a few CLI retries."""
        if self.config.auto_switch and len(self.profiles.names()) > 1:
            return RATE_LIMIT_RETRIES_BEFORE_SWITCH
        return None

    def _next_usable_profile(self) -> str | None:
        """The next profile in the user's order that resolves usable and has not failed."""
        if not self.profiles.names():
            return None

        def usable(profile: Profile) -> Resolution:
            if profile.name in self._failed_profiles:  # not looked up again (the keychain)
                return Resolution(profile.name, "", "", problem="failed since the last success")
            return self.profile_resolution(profile)

        return self.profiles.next_usable(self.profile_name, usable)

    async def _apply_pending_profile(self) -> None:
        if self._pending_profile is None:
            return
        name, reason = self._pending_profile
        self._pending_profile = None
        if name != self.profile_name:
            await self._switch_now(name, reason)

    async def _switch_now(self, name: str, reason: str) -> None:
        previous = self.profile_name
        self.profile_name = name
        await self._emit(ev.ProfileSwitched(from_=previous, to=name, reason=reason))

    def profile_resolution(self, profile: Profile) -> Resolution:
        return resolve(profile, environ=self._environ)

    # ------------------------------------------------------------------------ plan

    def _adopt_plan(self, plan: ImplementationPlan) -> None:
        self.plan = plan
        with contextlib.suppress(OSError):
            self._plan_mtime = self.config.plan_path.stat().st_mtime

    async def _set_status(self, subtask_id: str, status: str) -> None:
        """Record a status in the plan on disk; the fsync runs off the event loop."""
        assert self.plan is not None
        self.plan = set_status(self.plan, subtask_id, status)
        await asyncio.to_thread(save_plan, self.config.plan_path, self.plan)
        self._adopt_plan(self.plan)

    def _reload_plan_after_session(self) -> None:
        """Read what the agent wrote; a corrupt plan is set aside and the last good one kept."""
        path = self.config.plan_path
        try:
            plan = load_plan(path)
        except PlanError as exc:
            if self.plan is None:
                raise
            corrupt = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                os.replace(path, corrupt)
            save_plan(path, self.plan)
            self._adopt_plan(self.plan)
            self._spawn_emit(
                ev.PlanWarning(
                    message=f"{exc}; kept the last good plan, the bad one is {corrupt.name}"
                )
            )
            return
        self._adopt_plan(plan)

    async def _check_plan_edit(self) -> None:
        """After a tool result: if the agent changed the plan, show its status edits at once."""
        path = self.config.plan_path
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return
        if mtime == self._plan_mtime or self.plan is None:
            return
        try:
            plan = load_plan(path)
        except PlanError:
            return
        old = {s.id: s.status for ph in self.plan.phases for s in ph.subtasks}
        self._adopt_plan(plan)
        for phase in plan.phases:
            for subtask in phase.subtasks:
                if old.get(subtask.id) != subtask.status:
                    await self._emit(
                        ev.SubtaskStatus(
                            id=subtask.id,
                            status=subtask.status,
                            attempts=self._attempts_so_far(subtask.id),
                        )
                    )

    def _attempts_so_far(self, subtask_id: str) -> int:
        """Sessions started for a subtask, counting one still running."""
        running = self._session is not None and self._current_subtask == subtask_id
        return self.history.attempt_count(subtask_id) + (1 if running else 0)

    async def _emit_plan_loaded(self, plan: ImplementationPlan) -> None:
        await self._emit(plan_view(plan, self.config.spec_dir, self.history))

    # ------------------------------------------------------------------ waiting

    async def _emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.SubtaskStatus):
            shown = (event.status, event.attempts)
            if self._statuses_shown.get(event.id) == shown:
                return
            self._statuses_shown[event.id] = shown
        await self._emit_raw(event)
        if isinstance(event, ev.ToolResult):
            await self._check_plan_edit()

    def _spawn_emit(self, event: ev.Event) -> None:
        self._background(self._emit_raw(event))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` without waiting, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sleep_or_wake(self, seconds: float) -> bool:
        """Sleep on the loop's clock; True when a control call cut the wait short."""
        self._wake.clear()
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
        return not sleeper.done() or sleeper.cancelled()

    async def _backoff(self, decision: RetryDecision) -> None:
        self.backing_off = True
        try:
            await self._wait_out(decision)
        finally:
            self.backing_off = False

    async def _wait_out(self, decision: RetryDecision) -> None:
        remaining = decision.delay_s
        while True:
            deadline = self.clock.now() + remaining
            await self._emit(
                ev.BackoffStarted(
                    kind=str(decision.kind),
                    delay_s=decision.delay_s,
                    retry=decision.retry,
                    max_retries=decision.max_retries,
                    deadline=deadline,
                    remaining_s=remaining,
                )
            )
            self._retry_now = False
            woken = await self._sleep_or_wake(remaining)
            if not woken or self.clock.now() >= deadline:
                await self._emit(ev.BackoffEnded(reason="elapsed"))
                return
            if self._stop:
                await self._emit(ev.BackoffEnded(reason="stopped"))
                return
            if self._retry_now:
                self._retry_now = False
                await self._emit(ev.BackoffEnded(reason="retry_now"))
                return
            remaining = max(0.0, deadline - self.clock.now())
            if self._pause_requested or self.config.pause_file.exists():
                await self._pause_gate()
                if self._stop:
                    await self._emit(ev.BackoffEnded(reason="stopped"))
                    return

    async def _between_sessions(self) -> None:
        if self.config.pause_between_s > 0 and not self._stop:
            self._retry_now = False
            await self._sleep_or_wake(self.config.pause_between_s)

    async def _pause_gate(self, reason: str | None = None) -> None:
        """Block while a pause is asked for (key, PAUSE file, or a problem); return on resume."""
        if not (self._pause_requested or self.config.pause_file.exists()) or self._stop:
            return
        if reason is None:
            reason = "PAUSE file" if not self._pause_requested else "paused by the user"
        self._paused = True
        self._resume.clear()
        await self._emit(ev.Paused(reason=reason))
        while not self._stop:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._resume.wait(), timeout=1.0)
            if self._resume.is_set():
                break
            if not self._pause_requested and not self.config.pause_file.exists():
                break
        self._paused = False
        self._pause_requested = False
        await self._apply_pending_profile()
        if not self._stop:
            await self._emit(ev.Resumed())
