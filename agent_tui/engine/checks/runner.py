"""How a verification command runs: with the agent's own confinement, or, with none to be
had, plainly (and the screen says so).

``ContainedRunner`` runs it as the agent's Bash tool, a turn of a check session
(``checks.session``) under the lane's ``Containment``: the policy is the CLI's, on Linux
and macOS alike, network proxy included, rather than a bubblewrap command line of ours.
``DirectRunner`` runs it in a shell, without the secrets of the environment, in a process
group of its own, killed whole at the timeout and once the command is done, so nothing it
left behind runs on.  ``CheckRunners`` gives each lane's checks the runner that matches
its containment, and ends the check sessions with the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shlex
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent_tui.engine.agents.claude.process import find_cli
from agent_tui.engine.checks.scripted_model import ScriptedModel, new_nonce
from agent_tui.engine.checks.session import CheckSession, CheckSessionFailed, SessionGone
from agent_tui.engine.checks.verify import CommandRun, CommandRunner
from agent_tui.engine.clock import Clock
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.sandbox.containment import CLI_SECRET_ENV, Containment, is_secret_variable

OUTPUT_TAIL_BYTES = 16_000
"""What of a command's output comes back: under the CLI's limit for a tool result, past
which it keeps only the first 2 KB."""
BASH_TOOL_TIMEOUT_MS = 600_000
"""The Bash tool's own longest timeout: past it the CLI would move the command to the
background and go on; agent-tui's deadline (at most 600 s) comes first."""
DRAIN_S = 5.0
"""How long the output may still be read once the command is over (a process that left
its group may hold the pipe open)."""


@dataclass(frozen=True)
class Finished:
    returncode: int | None
    output: bytes
    timed_out: bool


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _read_tail(stream: asyncio.StreamReader, keep: int) -> bytes:
    kept = bytearray()
    while chunk := await stream.read(65536):
        kept += chunk
        if len(kept) > keep:
            del kept[: len(kept) - keep]
    return bytes(kept)


async def run_process(
    argv: list[str], cwd: Path, env: Mapping[str, str], clock: Clock, timeout_s: float, keep: int
) -> Finished:
    """Run ``argv`` in a new session; at ``timeout_s`` on ``clock`` its group is killed."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    reading = asyncio.ensure_future(_read_tail(process.stdout, keep))
    exited = asyncio.ensure_future(process.wait())
    timer = asyncio.ensure_future(clock.sleep(timeout_s))
    timed_out = False
    try:
        await asyncio.wait({exited, timer}, return_when=asyncio.FIRST_COMPLETED)
        timed_out = not exited.done()
    except asyncio.CancelledError:  # interrupted: the output is not wanted
        reading.cancel()
        raise
    finally:
        timer.cancel()
        _kill_group(process.pid)
        await asyncio.wait({exited}, timeout=DRAIN_S)
    try:
        output = await asyncio.wait_for(reading, DRAIN_S)
    except TimeoutError:
        output = b""
    return Finished(None if timed_out else process.returncode, output, timed_out)


def _exit_status(returncode: int | None) -> int | None:
    """As a shell reports it: a command killed by signal N exited 128 + N."""
    if returncode is None:
        return None
    return 128 - returncode if returncode < 0 else returncode


class DirectRunner:
    """Unsandboxed: the command has the user's own reach, less the environment's secrets."""

    def __init__(self, env: Mapping[str, str], clock: Clock, token_env: tuple[str, ...] = ()):
        self._env = {
            name: value
            for name, value in env.items()
            if name not in token_env
            and name not in CLI_SECRET_ENV
            and not is_secret_variable(name, value)
        }
        self._clock = clock

    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        shell = shutil.which("bash") or "/bin/sh"
        done = await run_process(
            [shell, "-c", command], cwd, self._env, self._clock, timeout_s, OUTPUT_TAIL_BYTES
        )
        output = done.output.decode("utf-8", "replace")
        return CommandRun(
            exit_status=_exit_status(done.returncode), output=output, timed_out=done.timed_out
        )


def wrap(command: str, nonce: str, cwd: Path | None = None) -> str:
    """``command`` in a subshell, started in ``cwd``, whose output's end and exit status
    come back on one line of ours (the CLI cuts a long tool result down to its start)."""
    log = f'"${{TMPDIR:-/tmp}}/agent-tui-check-{nonce}.log"'
    enter = f"cd -- {shlex.quote(str(cwd))} || exit 1\n" if cwd is not None else ""
    return (
        f"{enter}(\n{command}\n) >{log} 2>&1\n"
        "agent_tui_status=$?\n"
        f"tail -c {OUTPUT_TAIL_BYTES} {log}\n"
        f"rm -f {log}\n"
        f"printf '\\n{nonce} %s\\n' \"$agent_tui_status\"\n"
    )


def unwrap(text: str, nonce: str) -> tuple[int, str] | None:
    """The exit status and output that ``wrap`` reported, or None if it never finished."""
    matches = list(re.finditer(rf"(?m)^{re.escape(nonce)} (\d{{1,3}})$", text))
    if not matches:
        return None
    found = matches[-1]
    return int(found.group(1)), text[: found.start()].removesuffix("\n")


SANDBOX_SETUP_RACE = re.compile(
    r"(?m)^bwrap: Can't (find source path|create file at|get type of source|bind mount) "
)
"""The CLI's sandbox failing to start a command, not the command failing: it lists what
to mount, then mounts it, and with lanes another lane's sandbox may make or remove a mount
point in the shared git dir in between (``.git/config.lock``, ``.git/glab-cli``)."""
SETUP_TRIES = 5
SETUP_PAUSE_S = (0.1, 0.4)
"""Between two tries, a pause drawn from this range: checks that start together (the final
check's, side by side) would otherwise race each other again at once."""


class ContainedRunner:
    """The command as the agent's own Bash: a turn of a check session (``checks.session``)
    under the run's containment, one session per directory and containment, kept for the
    next check.  ``close`` ends them all (the run is over)."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        clock: Clock,
        cli_path: str | None = None,
        model: str | None = None,
    ) -> None:
        self._env = dict(env)
        self._clock = clock
        self._cli = cli_path or find_cli()
        self._model_name = model
        self._model: ScriptedModel | None = None
        self._sessions: dict[Path, CheckSession] = {}
        self._locks: dict[Path, asyncio.Lock] = {}
        self._warming: dict[Path, asyncio.Task[None]] = {}
        self._model_lock = asyncio.Lock()

    def bound(self, containment: Containment) -> BoundRunner:
        """The runner for checks contained by ``containment`` (a lane's)."""
        return BoundRunner(self, containment)

    async def run(
        self, containment: Containment, command: str, cwd: Path, timeout_s: float
    ) -> CommandRun:
        """The check's run; one the sandbox failed to set up is tried again (see
        ``SANDBOX_SETUP_RACE``), up to ``SETUP_TRIES`` times in all."""
        for _ in range(SETUP_TRIES - 1):
            run = await self._run_once(containment, command, cwd, timeout_s)
            if not SANDBOX_SETUP_RACE.search(run.error):
                return run
            await self._clock.sleep(random.uniform(*SETUP_PAUSE_S))
        return await self._run_once(containment, command, cwd, timeout_s)

    async def _run_once(
        self, containment: Containment, command: str, cwd: Path, timeout_s: float
    ) -> CommandRun:
        if self._cli is None:
            return CommandRun(error="the Claude Code CLI was not found")
        nonce = new_nonce()
        call = {
            "command": wrap(command, nonce, cwd),
            "description": "agent-tui runs the subtask's verification",
            "timeout": BASH_TOOL_TIMEOUT_MS,
        }
        try:
            async with self._locks.setdefault(cwd, asyncio.Lock()):  # one check at a time
                try:
                    session = await self._session(containment, cwd)
                    done = await session.run(nonce, call, self._clock, timeout_s)
                except SessionGone:  # ended while idle: a new one runs the check
                    session = await self._session(containment, cwd)
                    done = await session.run(nonce, call, self._clock, timeout_s)
        except CheckSessionFailed as exc:
            return CommandRun(error=str(exc))
        if done is None:
            return CommandRun(timed_out=True)
        text, said = done
        reported = unwrap(text, nonce) if text is not None else None
        if reported is None:
            why = (text or said or "the check's session gave no result").strip()
            return CommandRun(error=why[-500:])
        return CommandRun(exit_status=reported[0], output=reported[1])

    def ready(self, containment: Containment, cwd: Path) -> bool:
        """A session for checks in ``cwd`` under ``containment`` is up: a check there does
        not wait for a CLI to start."""
        kept = self._sessions.get(cwd)
        return kept is not None and kept.running and kept.containment is containment

    def warm(self, containment: Containment, cwd: Path) -> None:
        """A check is coming in ``cwd``: its session starts now, in the background, unless
        one is kept or starting (its check then does not wait for the CLI to start).  One
        that fails to start is left to the check, which starts one itself and says why."""
        if self._cli is None or cwd in self._sessions or cwd in self._warming:
            return
        task = asyncio.ensure_future(self._warm(containment, cwd))
        self._warming[cwd] = task
        task.add_done_callback(lambda _: self._warming.pop(cwd, None))

    async def _warm(self, containment: Containment, cwd: Path) -> None:
        async with self._locks.setdefault(cwd, asyncio.Lock()):
            with contextlib.suppress(Exception):  # the check meets it again, and says so
                await self._session(containment, cwd)

    async def _session(self, containment: Containment, cwd: Path) -> CheckSession:
        """The session for checks in ``cwd`` under ``containment``: the one kept, or a new
        one (a worn one, or one made for another containment, is closed)."""
        assert self._cli is not None
        kept = self._sessions.pop(cwd, None)
        if kept is not None:
            if kept.running and kept.containment is containment and not kept.worn:
                self._sessions[cwd] = kept
                return kept
            await kept.close(graceful=True)  # idle: the lock for ``cwd`` is held
        async with self._model_lock:  # one for every session, however many start at once
            if self._model is None:
                self._model = await ScriptedModel().start()
        session = CheckSession(
            containment, cwd, self._env, self._cli, self._model, self._model_name
        )
        await session.start()
        self._sessions[cwd] = session
        return session

    async def close(self) -> None:
        """The run is over: every check session ends, and the scripted model with them."""
        warming = list(self._warming.values())
        for task in warming:
            task.cancel()
        await asyncio.gather(*warming, return_exceptions=True)
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(session.close(graceful=True) for session in sessions))
        if self._model is not None:
            await self._model.close()
            self._model = None


class BoundRunner:
    """A ``CommandRunner`` for one containment (a lane's) over the run's check sessions."""

    def __init__(self, runner: ContainedRunner, containment: Containment) -> None:
        self._runner = runner
        self._containment = containment

    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        return await self._runner.run(self._containment, command, cwd, timeout_s)

    def ready(self, cwd: Path) -> bool:
        return self._runner.ready(self._containment, cwd)

    def warm(self, cwd: Path) -> None:
        self._runner.warm(self._containment, cwd)


class CheckRunners:
    """The runner for each lane's checks: its check sessions when the lane is sandboxed, a
    plain shell when it is not (``override`` stands in for both in tests)."""

    def __init__(
        self, config: LoopConfig, clock: Clock, override: CommandRunner | None = None
    ) -> None:
        self._config = config
        self._clock = clock
        self._override = override
        self._contained: ContainedRunner | None = None

    def __call__(self, containment: Containment | None) -> tuple[CommandRunner, bool]:
        """The runner that gives a check the reach of this lane's agent, and whether that
        is a sandbox (containment off, or ``auto`` where the sandbox cannot start: not)."""
        assert containment is not None, "checks run once the run's containment is decided"
        config = self._config
        if self._override is not None:
            return self._override, containment.sandboxed
        if not containment.sandboxed:
            env = {**os.environ, **config.extra_env}
            return DirectRunner(env, self._clock, containment.token_env), False
        if self._contained is None:
            self._contained = ContainedRunner(
                env=config.extra_env, clock=self._clock, cli_path=config.cli_path,
                model=config.model,
            )  # fmt: skip
        return self._contained.bound(containment), True

    async def close(self) -> None:
        if self._contained is not None:
            await self._contained.close()
