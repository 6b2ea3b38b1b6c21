"""How a verification command runs: with the agent's own confinement, or, with none to be
had, plainly (and the screen says so).

``ContainedRunner`` runs it as the agent's Bash tool in a CLI session of its own, under the
run's ``Containment`` (see ``scripted_turn`` for why the CLI and not a bubblewrap command
line of ours: the policy is the CLI's, on Linux and macOS alike, network proxy included).
``DirectRunner`` runs it in a shell, without the secrets of the environment.  Both run it
in a process group of its own, killed whole at the timeout (and once the command is done,
so nothing it left behind runs on).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_tui.auth.redaction import CREDENTIAL_ENV
from agent_tui.engine.checks.scripted_turn import ScriptedTurn
from agent_tui.engine.checks.verify import CommandRun, CommandRunner
from agent_tui.engine.clock import Clock
from agent_tui.engine.config import LoopConfig
from agent_tui.engine.sandbox.containment import CLI_SECRET_ENV, Containment, is_secret_variable

OUTPUT_TAIL_BYTES = 16_000
"""What of a command's output comes back: under the CLI's limit for a tool result, past
which it keeps only the first 2 KB."""
CLI_OUTPUT_BYTES = 4 * 1024 * 1024
BASH_TOOL_TIMEOUT_MS = 600_000
"""The Bash tool's own longest timeout: past it the CLI would move the command to the
background and go on; agent-tui's deadline (at most 600 s) comes first."""
DRAIN_S = 5.0
"""How long the output may still be read once the command is over (a process that left
its group may hold the pipe open)."""
CHECK_API_KEY = "agent-tui-check"
"""What the check's CLI sends its scripted model: no account is involved."""


@dataclass(frozen=True)
class Finished:
    returncode: int | None
    output: bytes
    timed_out: bool


def find_cli(cli_path: str | None) -> str | None:
    """The CLI a session would use: the configured one, the SDK's bundled one, or PATH's."""
    if cli_path:
        return cli_path
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "_bundled" / "claude"
        if bundled.exists():
            return str(bundled)
    return shutil.which("claude")


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


def wrap(command: str, nonce: str) -> str:
    """``command`` in a subshell whose output's end and exit status come back on one
    line of ours (the CLI cuts a long tool result down to its start)."""
    log = f'"${{TMPDIR:-/tmp}}/agent-tui-check-{nonce}.log"'
    return (
        f"(\n{command}\n) >{log} 2>&1\n"
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


def tool_result(stream_json: str) -> tuple[str | None, str]:
    """The first tool result in the CLI's ``stream-json`` output, and its other lines
    (what it said instead, when the tool never ran)."""
    said: list[str] = []
    for line in stream_json.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            said.append(line.strip())
            continue
        if not isinstance(message, dict):
            continue
        result = _result_of(message)
        if result is not None:
            return result, ""
        if message.get("type") == "result" and message.get("is_error"):
            said.append(str(message.get("result") or message.get("subtype") or ""))
    return None, " ".join(s for s in said if s)[-500:]


def _result_of(message: dict[str, Any]) -> str | None:
    """The text of a user message's tool result, if it carries one."""
    if message.get("type") != "user":
        return None
    content = (message.get("message") or {}).get("content")
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            return _block_text(block.get("content"))
    return None


def _block_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


class ContainedRunner:
    """The command as the agent's own Bash: a CLI session under the run's containment."""

    def __init__(
        self,
        containment: Containment,
        *,
        env: Mapping[str, str],
        clock: Clock,
        cli_path: str | None = None,
        model: str | None = None,
    ) -> None:
        self._containment = containment
        self._env = dict(env)
        self._clock = clock
        self._cli = find_cli(cli_path)
        self._model = model

    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        if self._cli is None:
            return CommandRun(error="the Claude Code CLI was not found")
        nonce = "agent-tui-" + secrets.token_hex(8)
        call = {
            "command": wrap(command, nonce),
            "description": "agent-tui runs the subtask's verification",
            "timeout": BASH_TOOL_TIMEOUT_MS,
        }
        with contextlib.ExitStack() as made:
            try:
                tmp_dir, config_dir = self._dirs(made)
            except OSError as exc:
                return CommandRun(error=f"the check's temp dir cannot be made: {exc}")
            with ScriptedTurn(call) as turn:
                argv, env = self._command_line(turn.base_url, config_dir, tmp_dir)
                done = await run_process(argv, cwd, env, self._clock, timeout_s, CLI_OUTPUT_BYTES)
        if done.timed_out:
            return CommandRun(timed_out=True)
        text, said = tool_result(done.output.decode("utf-8", "replace"))
        reported = unwrap(text, nonce) if text is not None else None
        if reported is None:
            why = (text or said or f"the CLI exited {done.returncode}").strip()
            return CommandRun(error=why[-500:])
        return CommandRun(exit_status=reported[0], output=reported[1])

    def _dirs(self, made: contextlib.ExitStack) -> tuple[Path | None, Path]:
        """The check's own temp dir, as a session's, and its CLI's config dir in another
        (which no session can read: the sandbox hides the root both are made in)."""
        tmp_dir = made.enter_context(self._containment.session_tmp())
        config_dir = made.enter_context(self._containment.session_tmp())
        if config_dir is None:
            config_dir = Path(made.enter_context(tempfile.TemporaryDirectory(prefix="check-")))
        return tmp_dir, config_dir

    def _command_line(
        self, base_url: str, config_dir: Path, tmp_dir: Path | None
    ) -> tuple[list[str], dict[str, str]]:
        assert self._cli is not None
        env = {
            **self._env,
            **{name: "" for name in CREDENTIAL_ENV},
            "ANTHROPIC_API_KEY": CHECK_API_KEY,
            "ANTHROPIC_BASE_URL": base_url,
            "CLAUDE_CONFIG_DIR": str(config_dir),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
        fields = self._containment.option_fields(env, tmp_dir=tmp_dir)
        settings = {**json.loads(fields["settings"]), "sandbox": fields["sandbox"]}
        argv = [
            self._cli,
            "--print",
            "Run the check.",
            "--output-format",
            "stream-json",
            "--verbose",
            "--settings",
            json.dumps(settings),
            "--tools",
            "Bash",
            "--allowedTools",
            "Bash",
            "--setting-sources",
            "",
            "--strict-mcp-config",
            "--permission-mode",
            "acceptEdits",
            "--no-session-persistence",
            *(["--model", self._model] if self._model else []),
        ]
        return argv, {**os.environ, **fields["env"]}


def runner_for(
    containment: Containment | None,
    config: LoopConfig,
    clock: Clock,
    override: CommandRunner | None = None,
) -> tuple[CommandRunner, bool]:
    """The runner that gives a check the reach of this run's agent (``override`` stands in
    for it), and whether that is a sandbox (containment off, or ``auto`` where the sandbox
    cannot start: it is not)."""
    assert containment is not None, "checks run once the run's containment is decided"
    if override is not None:
        return override, containment.sandboxed
    if containment.sandboxed:
        runner = ContainedRunner(
            containment,
            env=config.extra_env,
            clock=clock,
            cli_path=config.cli_path,
            model=config.model,
        )
        return runner, True
    return DirectRunner({**os.environ, **config.extra_env}, clock, containment.token_env), False
