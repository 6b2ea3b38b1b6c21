"""Independent verification: agent-tui runs a completed subtask's own check itself.

Only a pass makes a subtask completed.  The plan is agent-writable, so its command is
untrusted input: it runs through the same guard as the agent's Bash and then with no more
reach than that Bash (``checks.runner``), with a timeout.  The check is the one the subtask had
when its session started, so a session cannot pass by rewriting its own verification.

What ``expected`` means:

- an exit status: ``"exit 2"`` (also ``"exit code 2"``, ``"exits with status 2"``), or
  ``expect_status`` in upstream's other style;
- a description of success (``"All tests pass"``, ``"Build succeeds"``): exit status 0 is
  what is checked, since no output spells a description out;
- otherwise text the output must show (``"Hello, Ada!"``, ``"OK"``, a quoted part of it),
  compared with case and runs of blanks ignored; and exit status 0.  A bare number
  (``"7"``) is such text, shown as a number of its own (``17`` does not show ``7``): the
  upstream planner writes ``expected`` as what the output shows (``"OK"``, ``"pong"``),
  never as an exit status, which it has other fields for.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agent_tui.auth.redaction import redact
from agent_tui.engine.clock import Clock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.prompts import render
from agent_tui.engine.sandbox.containment import Containment
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.plan.models import Subtask, Verification

COMMAND_TYPES = frozenset({"command", "test", "tests", "shell", "cli", "bash"})
"""Verification types that name a command (upstream writes ``command``; the rest appear in
hand-written plans)."""
OUTPUT_TAIL_CHARS = 4000
"""What of a check's output is kept, shown to the next session and recorded: its end,
where test runners put the failure summary."""

_EXIT = re.compile(
    r"^(?:exits?(?:\s+with)?(?:\s+(?:code|status))?|exit\s*code)\s*[:=]?\s*(\d{1,3})$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_QUOTED = re.compile(r"""["'`]([^"'`]+)["'`]""")
_DESCRIPTION = re.compile(
    r"(?i)\b(?:pass(?:es|ed|ing)?|succe(?:eds?|eded|ss|ssful|ssfully)|works?|working|"
    r"no\s+(?:errors?|failures?)|without\s+(?:errors?|failures?)|completes?|completed|"
    r"returns?|green|clean)\b"
)
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class Expectation:
    exit_status: int = 0
    output: str | None = None
    """Text the output must show; None: only the exit status is checked."""
    described: str = ""
    """A description of success that is not matched against the output."""

    def text(self) -> str:
        if self.output is not None:
            return f"exit status {self.exit_status} and output showing {self.output!r}"
        return f"exit status {self.exit_status}"

    def shown_in(self, output: str) -> bool:
        """Whether ``output`` shows the text expected (a number: as a number of its own)."""
        if self.output is None:
            return True
        if _NUMBER.match(self.output):
            number = re.escape(self.output)
            return re.search(rf"(?<![\d.\-+]){number}(?!\d|\.\d)", output) is not None
        return _blank_folded(self.output) in _blank_folded(output)


@dataclass(frozen=True)
class CommandCheck:
    command: str
    expectation: Expectation


def parse_expected(expected: Any) -> Expectation:
    """What a plan's ``expected`` asks of the command (see the module docstring)."""
    if expected is None or isinstance(expected, bool):
        return Expectation()
    text = str(expected).strip()
    if not text:
        return Expectation()
    exit_match = _EXIT.match(text)
    if exit_match and int(exit_match.group(1)) <= 255:
        return Expectation(exit_status=int(exit_match.group(1)))
    quoted = _QUOTED.search(text)
    if quoted and quoted.group(1).strip():
        return Expectation(output=quoted.group(1).strip())
    if _DESCRIPTION.search(text):
        return Expectation(described=text)
    return Expectation(output=text)


def check_of(verification: Verification | None) -> CommandCheck | str:
    """The command check a plan's verification asks for, or why there is none to run."""
    if verification is None:
        return "the plan gives no verification"
    kind = (verification.type or "command").strip().lower()
    if kind not in COMMAND_TYPES:
        article = "an" if kind[:1] in "aeiou" else "a"
        return f"{article} {kind} check, which agent-tui cannot run"
    command = verification.command
    if not isinstance(command, str) or not command.strip():
        return "the verification names no command"
    extra = verification.model_extra or {}
    if "expect_status" in extra:
        status = extra["expect_status"]
        if isinstance(status, bool) or not re.fullmatch(r"\d{1,3}", str(status).strip()):
            return f"expect_status {status!r} is not an exit status"
        return CommandCheck(command, Expectation(exit_status=int(str(status).strip())))
    return CommandCheck(command, parse_expected(verification.expected))


@dataclass(frozen=True)
class CommandRun:
    """What running a command found: its exit status and the end of its output."""

    exit_status: int | None = None
    output: str = ""
    timed_out: bool = False
    interrupted: bool = False
    error: str = ""
    """Why the command did not run at all (the guard refused it, the sandbox did not start)."""


class CommandRunner(Protocol):
    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun: ...


class RunningCheck:
    """A check as the loop's control sees a session: ``interrupt`` (``i``, or a stop)
    cancels it, and its runner kills the command's process group."""

    def __init__(self, task: asyncio.Future[CommandRun]) -> None:
        self.task = task
        self.interrupted = False

    async def interrupt(self) -> bool:
        self.interrupted = True
        self.task.cancel()
        return True


Running = Callable[[RunningCheck], contextlib.AbstractAsyncContextManager[None]]


def _blank_folded(text: str) -> str:
    return _BLANKS.sub(" ", text).strip().casefold()


def judge(check: CommandCheck, run: CommandRun, timeout_s: float) -> tuple[CheckOutcome, str]:
    """Whether ``run`` passes ``check``, and the one line that says why."""
    command = f"`{check.command}`"
    want = check.expectation
    if run.interrupted:
        return CheckOutcome.INTERRUPTED, f"{command} was stopped before it finished"
    if run.timed_out:
        return CheckOutcome.TIMED_OUT, f"{command} did not finish within {timeout_s:g} s"
    if run.error or run.exit_status is None:
        return CheckOutcome.FAILED, f"{command} did not run: {run.error or 'no exit status'}"
    status = run.exit_status
    if status != want.exit_status:
        return CheckOutcome.FAILED, f"{command} exited {status} (expected {want.exit_status})"
    if not want.shown_in(run.output):
        return (
            CheckOutcome.FAILED,
            f"{command} exited {status} but its output does not show {want.output!r}",
        )
    shown = f" and showed {want.output!r}" if want.output is not None else ""
    return CheckOutcome.PASSED, f"{command} exited {status}{shown}"


@dataclass(frozen=True)
class VerifyResult:
    subtask_id: str
    outcome: CheckOutcome
    reason: str
    command: str | None = None
    exit_status: int | None = None
    output_tail: str = ""
    duration_s: float = 0.0

    @property
    def counts_as_completed(self) -> bool:
        return self.outcome.counts_as_completed

    def event(self, lane: int) -> tev.VerificationEnded:
        """What the check found, as the check of ``lane``'s work."""
        return tev.VerificationEnded(
            subtask_id=self.subtask_id,
            outcome=self.outcome,
            command=self.command,
            exit_status=self.exit_status,
            duration_s=round(self.duration_s, 3),
            reason=self.reason,
            output_tail=self.output_tail,
            lane=lane,
        )

    def record(self) -> dict[str, Any]:
        """The attempt history's account of the check (already masked)."""
        return {
            "outcome": str(self.outcome),
            "command": self.command,
            "exit_status": self.exit_status,
            "reason": self.reason,
            "output_tail": self.output_tail,
        }


def tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    """The end of ``text``, masked, starting on a whole line where it was cut."""
    text = redact(text)
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    return "…" + (cut[newline:] if 0 <= newline < limit // 2 else cut)


@dataclass(frozen=True)
class CheckSite:
    """Where a check runs, and as whose Bash: the session's directory, its lane's
    containment and guard."""

    cwd: Path
    containment: Containment | None
    guard: Guard
    lane: int = 1


class Verifier:
    """Runs each completed subtask's check; one call, ``check``, from the stages."""

    def __init__(
        self,
        *,
        enabled: bool,
        timeout_s: float,
        emit: ev.EventSink,
        clock: Clock,
        runner: Callable[[Containment | None], tuple[CommandRunner, bool]],
        running: Callable[[int], Running] | None = None,
    ) -> None:
        self.enabled = enabled
        self.timeout_s = timeout_s
        self._emit = emit
        self._clock = clock
        """Times the check (the runner bounds it on the same clock): a real process's time,
        whatever clock the loop's own waits are on."""
        self._runner = runner
        """The runner for a lane's containment, and whether it is sandboxed."""
        self._running = running or (lambda lane: _unwatched)
        """While a check runs in a lane: what lets the user interrupt it (the loop's control)."""

    async def check(self, subtask: Subtask, site: CheckSite) -> VerifyResult:
        """Run ``subtask``'s verification where its session ran and judge it."""
        found = check_of(subtask.verification) if self.enabled else "verification is off"
        if isinstance(found, str):
            result = VerifyResult(subtask.id, CheckOutcome.UNVERIFIED, f"unverified: {found}")
            await self._emit(result.event(site.lane))
            return result
        runner, sandboxed = self._runner(site.containment)
        await self._emit(
            tev.VerificationStarted(
                subtask_id=subtask.id,
                command=found.command,
                sandboxed=sandboxed,
                timeout_s=self.timeout_s,
                lane=site.lane,
            )
        )
        started = self._clock.now()
        refused = _refused(site.guard, found.command)
        if refused is not None:
            run = CommandRun(error=f"refused as the agent's Bash would be ({refused})")
        else:
            run = await self._run(runner, found.command, site)
        outcome, reason = judge(found, run, self.timeout_s)
        result = VerifyResult(
            subtask.id,
            outcome,
            redact(reason),
            command=found.command,
            exit_status=run.exit_status,
            output_tail=tail(run.output),
            duration_s=self._clock.now() - started,
        )
        await self._emit(result.event(site.lane))
        return result

    def ready(self, site: CheckSite) -> bool:
        """Whether a check at ``site`` starts at once: nothing to start first (a check
        session is up there, or its runner needs none)."""
        if site.containment is None:
            return False
        runner, _ = self._runner(site.containment)
        ready = getattr(runner, "ready", None)
        return True if ready is None else bool(ready(site.cwd))

    def warm(self, subtask: Subtask, site: CheckSite) -> None:
        """``subtask``'s check will run at ``site``: a runner that starts something for it
        (a check session's CLI) may start it now, while the session works."""
        found = check_of(subtask.verification) if self.enabled else None
        if found is None or isinstance(found, str) or site.containment is None:
            return
        runner, _ = self._runner(site.containment)
        warm = getattr(runner, "warm", None)
        if warm is not None and _refused(site.guard, found.command) is None:
            warm(site.cwd)

    async def _run(self, runner: CommandRunner, command: str, site: CheckSite) -> CommandRun:
        task = asyncio.ensure_future(runner.run(command, site.cwd, self.timeout_s))
        check = RunningCheck(task)
        async with self._running(site.lane)(check):
            try:
                return await check.task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not check.interrupted or (current is not None and current.cancelling()):
                    raise
        return CommandRun(interrupted=True)


def _refused(guard: Guard, command: str) -> str | None:
    """The guard's reason to refuse ``command`` as the agent's Bash; one it cannot check is
    refused."""
    try:
        return guard.check("Bash", {"command": command})
    except Exception as exc:  # fail closed, as the guard's own hook does
        return f"the guard could not check it ({type(exc).__name__})"


@contextlib.asynccontextmanager
async def _unwatched(check: RunningCheck) -> AsyncIterator[None]:
    yield


def failed_check_prompt(attempts: list[dict[str, Any]]) -> str:
    """The next prompt's account of the subtask's last try, when its check failed, its
    merge conflicted, or a check failed once it was merged."""
    for attempt in reversed(attempts):
        conflict = attempt.get("conflict")
        if attempt.get("outcome") == "merge_conflict" and isinstance(conflict, dict):
            files = conflict.get("files")
            listed = ", ".join(str(f) for f in files) if isinstance(files, list) else ""
            return render("merge_conflict", files=listed or "(not named)")
        check = attempt.get("verification")
        if not isinstance(check, dict):
            continue
        if check.get("outcome") not in (CheckOutcome.FAILED, CheckOutcome.TIMED_OUT):
            return ""
        values = {
            "command": check.get("command") or "",
            "result": check.get("reason") or str(check.get("outcome")),
            "output": check.get("output_tail") or "(no output)",
        }
        if attempt.get("outcome") == "recheck_failed":
            return render("recheck_failed", checked=check.get("subtask_id") or "?", **values)
        return render("verification_failed", **values)
    return ""
