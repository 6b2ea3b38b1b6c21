"""A check session: one Claude Code session, contained as the agent's, that runs checks one
turn each.

Starting the CLI is most of what a check costs (about a second of CPU here), so a lane
keeps one session for its checks and sends each as a new prompt: the scripted model
(``scripted_model``) answers it with one Bash call.  The options are the ones a session of
that lane gets from its ``Containment`` (sandbox, read denies, network allowlist, unset
credentials, no project settings), with Bash the only tool, in the CLI's ``--bare`` mode
(no hooks, plugins, auto-memory, keychain reads or background fetches: it starts about
7 % faster, 0.07 s of CPU here, and each check costs 0.01 s less).  Every call starts in
the check's directory, in a subshell, so nothing one check changes in the shell carries
over to the next; the sandbox ends what a command left running when that command ends.

The session has its own temp dir, as an agent's session has (its checks share it, as
they share the worktree).  The CLI runs through a ``CliLauncher``, in a process group of
its own that dies with agent-tui.  A check that times out or is interrupted ends its whole
session (its process group is killed); a session is also replaced after ``MAX_CHECKS``
checks or ``MAX_CONVERSATION_BYTES`` of them, so the conversation its CLI sends stays
small.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_tui.auth.redaction import CREDENTIAL_ENV
from agent_tui.engine.agents.claude.messages import load_sdk
from agent_tui.engine.agents.claude.process import CliLauncher, kill_group
from agent_tui.engine.checks.scripted_model import PROMPT, ScriptedModel, tool_use_id
from agent_tui.engine.clock import Clock
from agent_tui.engine.sandbox.containment import Containment

MAX_CHECKS = 50
MAX_CONVERSATION_BYTES = 512 * 1024
"""What a session's conversation may hold (commands and results) before it is replaced: the
CLI sends all of it with every request, and would compact it past its context window."""
CLOSE_S = 5.0
"""How long a session's CLI gets to end once its process group is killed."""


class CheckSessionFailed(Exception):
    """The session's CLI did not start or stopped answering; the check did not run."""


class SessionGone(CheckSessionFailed):
    """The session's CLI had ended before the check was sent: nothing of it ran, and a new
    session may run it."""


class CheckSession:
    """One contained CLI session in ``cwd`` for checks, one at a time."""

    def __init__(
        self,
        containment: Containment,
        cwd: Path,
        env: Mapping[str, str],
        cli: str,
        model: ScriptedModel,
        model_name: str | None = None,
    ) -> None:
        self.containment = containment
        self.cwd = cwd
        self.checks = 0
        self.conversation_bytes = 0
        self._env = dict(env)
        self._cli = cli
        self._model = model
        self._model_name = model_name
        self._launcher: CliLauncher | None = None
        self._dirs_made: contextlib.ExitStack | None = None
        self._client: Any = None
        self._stderr: list[str] = []

    @property
    def worn(self) -> bool:
        """Past its share of checks: the next one starts a fresh session."""
        return self.checks >= MAX_CHECKS or self.conversation_bytes >= MAX_CONVERSATION_BYTES

    @property
    def running(self) -> bool:
        """Started, not closed since, and its CLI still there (its launcher reaps it the
        moment it ends)."""
        pid = self.pid
        if self._client is None or pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    @property
    def pid(self) -> int | None:
        """The CLI's process group (None before it started, or once it is closed)."""
        return self._launcher.pid() if self._launcher is not None else None

    async def start(self) -> None:
        """Start the CLI; ``CheckSessionFailed`` when it cannot (its temp dirs included)."""
        claude = await load_sdk()
        try:
            tmp_dir, config_dir = self._dirs()
        except OSError as exc:
            raise CheckSessionFailed(f"the check's temp dir cannot be made: {exc}") from None
        self._launcher = CliLauncher(self._cli)
        env = {
            **self._env,
            **{name: "" for name in CREDENTIAL_ENV},
            "ANTHROPIC_API_KEY": self._model.api_key,
            "ANTHROPIC_BASE_URL": self._model.base_url,
            "CLAUDE_CONFIG_DIR": str(config_dir),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
        fields = self.containment.option_fields(env, tmp_dir=tmp_dir)
        options = claude.ClaudeAgentOptions(
            **{**fields, "tools": ["Bash"], "allowed_tools": ["Bash"]},
            cwd=str(self.cwd),
            model=self._model_name,
            permission_mode="acceptEdits",
            cli_path=str(self._launcher.path),
            stderr=self._keep_stderr,
            # --bare: the sandbox still comes from the settings (test_check_sessions)
            extra_args={"no-session-persistence": None, "bare": None},
        )
        client = claude.ClaudeSDKClient(options)
        try:
            await client.connect()
        except asyncio.CancelledError:  # interrupted as it started: nothing is left behind
            await self._end(client)
            raise
        except Exception as exc:
            await self._end(client)
            raise CheckSessionFailed(_said(exc, self._stderr)) from None
        self._client = client

    def _dirs(self) -> tuple[Path | None, Path]:
        """The session's own temp dir, as an agent's session has, and its CLI's config dir
        in another (which no session can read: the sandbox hides the root both are made
        in); both removed when the session ends."""
        made = contextlib.ExitStack()
        try:
            tmp_dir = made.enter_context(self.containment.session_tmp())
            config_dir = made.enter_context(self.containment.session_tmp())
            if config_dir is None:
                config_dir = Path(made.enter_context(tempfile.TemporaryDirectory(prefix="check-")))
        except BaseException:
            made.close()
            raise
        self._dirs_made = made
        return tmp_dir, config_dir

    def _keep_stderr(self, line: str) -> None:
        self._stderr = [*self._stderr[-9:], line]

    async def run(
        self, nonce: str, bash_input: dict[str, Any], clock: Clock, timeout_s: float
    ) -> tuple[str | None, str] | None:
        """The check's tool result (or None, and what the CLI said instead); None for the
        whole when it timed out (the session is then closed).  ``CheckSessionFailed``
        when the CLI is gone; a cancelled check closes the session too."""
        assert self._client is not None, "start() first"
        self.checks += 1
        self.conversation_bytes += len(str(bash_input.get("command", "")))
        self._model.expect(nonce, bash_input)
        turn = asyncio.ensure_future(self._turn(nonce))
        timer = asyncio.ensure_future(clock.sleep(timeout_s))
        try:
            await asyncio.wait({turn, timer}, return_when=asyncio.FIRST_COMPLETED)
            if not turn.done():
                await self.close()
                return None
            result = turn.result()
        except asyncio.CancelledError:
            await self.close()
            raise
        except SessionGone:
            await self.close()
            raise
        except Exception as exc:
            await self.close()
            raise CheckSessionFailed(_said(exc, self._stderr)) from None
        finally:
            timer.cancel()
            turn.cancel()
            self._model.forget(nonce)
        self.conversation_bytes += len(result[0] or "")
        return result

    async def _turn(self, nonce: str) -> tuple[str | None, str]:
        claude = await load_sdk()
        client = self._client
        wanted = tool_use_id(nonce)
        found: str | None = None
        said: list[str] = []
        seen = False
        try:
            await client.query(PROMPT.format(nonce=nonce))
            async for message in client.receive_response():
                seen = True
                if isinstance(message, claude.UserMessage) and isinstance(message.content, list):
                    result = _result_for(message.content, wanted, claude.ToolResultBlock)
                    found = found if result is None else result
                elif isinstance(message, claude.AssistantMessage) and message.error:
                    said.append(str(message.error))
                elif isinstance(message, claude.ResultMessage) and message.is_error:
                    said.append(str(message.result or message.subtype or ""))
        except Exception as exc:
            if not seen:  # the CLI had ended: nothing of this check reached it
                raise SessionGone(_said(exc, self._stderr)) from None
            raise
        if found is None and not said:
            said.append("the CLI ended the check's turn without running it")
        return found, " ".join(s for s in said if s)[-500:]

    async def close(self, *, graceful: bool = False) -> None:
        """End the CLI and everything in its process group; its temp files go.

        ``graceful`` (an idle session, no check under way): its input is closed first, so
        that the CLI ends as a session does, within ``CLOSE_S``, removing the sockets its
        sandbox made in ``/tmp``; killed, it leaves them there for good."""
        client, self._client = self._client, None
        if graceful and client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), CLOSE_S)
            client = None  # ended, or given up on: what is left of it is killed now
        await self._end(client)

    async def _end(self, client: Any) -> None:
        launcher, self._launcher = self._launcher, None
        pid = launcher.pid() if launcher is not None else None
        if pid is not None:
            kill_group(pid, signal.SIGKILL)
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), CLOSE_S)
        if launcher is not None:
            launcher.close()
        made, self._dirs_made = self._dirs_made, None
        if made is not None:
            await asyncio.to_thread(made.close)


def _result_for(blocks: list[Any], tool_use_id: str, result_type: type) -> str | None:
    """The text of the tool result for ``tool_use_id`` among ``blocks``, if there is one."""
    for block in blocks:
        if isinstance(block, result_type) and block.tool_use_id == tool_use_id:
            return _block_text(block.content)
    return None


def _block_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


def _said(exc: BaseException, stderr: list[str]) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if stderr:
        text += " | " + stderr[-1]
    return text[-500:]
