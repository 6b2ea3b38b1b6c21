"""One agent session: a fresh ``ClaudeSDKClient``, SDK messages in, engine events out.

API errors do not arrive as exceptions through the SDK (see the reference doc): they come
as an ``AssistantMessage`` with ``error`` set and a ``ResultMessage`` with ``is_error``.  So
the outcome is decided from the messages first and from exception text only as a fallback.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_tui.auth.redaction import redact
from agent_tui.engine.agents.claude.messages import (
    idle_guarded,
    load_sdk,
    message_text,
    raise_if_sandbox_refused,
    sdk,
    usage_of,
)
from agent_tui.engine.agents.claude.process import kill_group
from agent_tui.engine.agents.claude.summary import summarize_result, summarize_tool
from agent_tui.engine.agents.protocol import (
    INTERRUPT_GRACE_S,
    TERM_GRACE_S,
    CLIMissingError,
    Ending,
    SandboxRefused,
    Seen,
    SessionOutcome,
    SessionSpec,
    interrupted_outcome,
)
from agent_tui.engine.agents.transcript import Transcript, TranscriptError
from agent_tui.engine.clock import Clock
from agent_tui.engine.control.result import RunEnded
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.quota import from_rate_limit_info
from agent_tui.engine.failures.kinds import ErrorKind, classify_exception, classify_message

__all__ = [
    "AgentSession",
    "CLIMissingError",
    "Ending",
    "SandboxRefused",
    "SessionOutcome",
    "SessionSpec",
]

if TYPE_CHECKING:
    from claude_agent_sdk import AssistantMessage, ClaudeAgentOptions, ResultMessage, UserMessage

STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)  # a closed terminal, ctrl+c, …
STOPPED_BY_SIGNAL = {128 + n for n in STOP_SIGNALS} | {-n for n in STOP_SIGNALS}
"""CLI exit codes that mean someone stopped it (a shell's 128+n, or Python's -n)."""

# The SDK logs the CLI's exit as "Fatal error in message reader" through the root logger's
# last resort, which would print over the app's screen; the session reports it instead.
logging.getLogger("claude_agent_sdk").addHandler(logging.NullHandler())


class AgentSession:
    """Runs one session to its end and reports it as engine events plus a ``SessionOutcome``."""

    def __init__(
        self,
        spec: SessionSpec,
        emit: ev.EventSink,
        clock: Clock,
        client_factory: Callable[[ClaudeAgentOptions], Any] | None = None,
    ) -> None:
        self.spec = spec
        self._emit = emit
        self._clock = clock
        self._client_factory = client_factory
        self._client: Any = None
        self._interrupted = False
        self._gave_up: str | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._tool_names: dict[str, str] = {}
        self._ended = asyncio.Event()

    def options(self) -> ClaudeAgentOptions:
        spec = self.spec
        claude = sdk()
        return claude.ClaudeAgentOptions(
            cwd=str(spec.cwd),
            model=spec.model,
            permission_mode="acceptEdits",
            stderr=self._stderr_tail.append,
            hooks={"PreToolUse": [claude.HookMatcher(hooks=[spec.guard.hook])]},
            cli_path=str(spec.launcher.path) if spec.launcher else spec.cli_path,
            **spec.containment.option_fields(spec.env),
        )

    async def interrupt(self) -> bool:
        """Ask the CLI to stop the running turn; the session then ends as ``interrupted``.

        False when the CLI did not take the request (no answer in 5 s, or an error)."""
        self._interrupted = True
        if self._client is None:
            return True  # not connected yet: it sees the flag and stops before it starts
        try:
            await asyncio.wait_for(self._client.interrupt(), timeout=5)
        except Exception:
            self._interrupted = False  # it goes on: its end is its own, not an interruption
            return False
        return True

    async def terminate(self) -> None:
        """End the session for good, within about a second and a half: ask the CLI to stop,
        then signal its process group, then kill it (a ``kill -STOP``-ped CLI answers
        nothing and ignores every signal but SIGKILL).  The session still ends as
        ``interrupted`` and is recorded."""
        self._interrupted = True
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.interrupt(), timeout=INTERRUPT_GRACE_S)
                if await self._ends_within(INTERRUPT_GRACE_S):
                    return
        launcher = self.spec.launcher
        pid = launcher.pid() if launcher is not None else None
        if pid is None or self._ended.is_set():
            return
        kill_group(pid, signal.SIGTERM)
        if not await self._ends_within(TERM_GRACE_S):
            kill_group(pid, signal.SIGKILL)

    async def _ends_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), timeout=seconds)
        return self._ended.is_set()

    async def run(self) -> SessionOutcome:
        try:
            return await self._run()
        finally:
            self._ended.set()
            if self.spec.launcher is not None:
                self.spec.launcher.forget()

    async def _run(self) -> SessionOutcome:
        transcript = Transcript(self.spec.transcript_path)
        outcome = SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER)
        try:
            transcript.write(
                "prompt",
                {
                    "kind": self.spec.kind,
                    "subtask_id": self.spec.subtask_id,
                    "text": self.spec.prompt,
                },
            )
            outcome = await self._converse(transcript)
        except RunEnded as ended:
            outcome = interrupted_outcome(str(ended))
            raise
        except TranscriptError as exc:
            outcome = SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER, message=str(exc))
            raise
        finally:
            if self._stderr_tail and not outcome.ok:
                with contextlib.suppress(TranscriptError):
                    transcript.write("stderr", list(self._stderr_tail))
            with contextlib.suppress(TranscriptError):
                transcript.write("outcome", outcome)
            transcript.close()
        return outcome

    async def _converse(self, transcript: Transcript) -> SessionOutcome:
        seen = Seen()
        claude = await load_sdk()
        client_factory = self._client_factory or claude.ClaudeSDKClient
        try:
            async with client_factory(self.options()) as client:
                self._client = client
                if self._interrupted:
                    return interrupted_outcome()
                await client.query(self.spec.prompt)
                stream = idle_guarded(client.receive_response(), self.spec.idle_timeout_s)
                async for message in stream:
                    transcript.write("message", message)
                    await self._take(message, seen)
        except claude.CLINotFoundError as exc:
            raise CLIMissingError(str(exc)) from exc
        except TimeoutError:
            return await self._idle(seen)
        except (TranscriptError, SandboxRefused, RunEnded):
            raise  # each ends the run, not just the session (RunEnded: the sink said so)
        except Exception as exc:
            return await self._failed(exc, seen)
        finally:
            self._client = None
        return self._ended_outcome(seen)

    async def _take(self, message: Any, seen: Seen) -> None:
        """One message of the CLI's: an event for the UI, and what it means for the outcome."""
        claude = sdk()
        kind = classify_message(message)
        if isinstance(message, claude.AssistantMessage):
            if kind is None:
                seen.tool_calls += await self._assistant(message)
                return
            seen.error_kind, seen.error_text = kind, redact(message_text(message))
            await self._emit_error(kind, seen.error_text)
        elif isinstance(message, claude.UserMessage):
            await self._user(message)
        elif isinstance(message, claude.SystemMessage) and message.subtype == "api_retry":
            seen.api_retries.append(dict(message.data))
            await self._api_retry(message.data)
            await self._maybe_give_up(kind, seen.api_retries)
        elif isinstance(message, claude.ResultMessage):
            seen.outcome = self._result(message, seen.error_kind, seen.error_text)
        elif isinstance(message, claude.RateLimitEvent):
            await self._rate_limit(message)

    async def _idle(self, seen: Seen) -> SessionOutcome:
        message = f"no message from the CLI for {self.spec.idle_timeout_s:g} s: session abandoned"
        await self._emit_error(ErrorKind.OTHER, message)
        return SessionOutcome(
            outcome=Ending.TIMEOUT,
            error_kind=ErrorKind.OTHER,
            message=message,
            tool_calls=seen.tool_calls,
            api_retries=seen.api_retries,
        )

    async def _failed(self, exc: Exception, seen: Seen) -> SessionOutcome:
        """The SDK raised: the CLI exited, crashed or was stopped."""
        if self._gave_up:
            return self._gave_up_outcome()
        if self._interrupted:
            return interrupted_outcome()
        if getattr(exc, "exit_code", None) in STOPPED_BY_SIGNAL:
            # The terminal closed, or a signal reached the whole process group: the subtask
            # did not fail, its session was stopped (and is not a try).
            return interrupted_outcome(
                f"the CLI was stopped by a signal (exit code {exc.exit_code})"
            )
        text = redact(f"{type(exc).__name__}: {exc}")
        raise_if_sandbox_refused(text)
        if self._stderr_tail:
            text += " | " + redact(self._stderr_tail[-1])
        kind = seen.error_kind or classify_exception(exc)
        await self._emit_error(kind, text)
        return SessionOutcome(
            outcome=Ending.ERROR,
            error_kind=kind,
            message=text,
            tool_calls=seen.tool_calls,
            api_retries=seen.api_retries,
        )

    def _ended_outcome(self, seen: Seen) -> SessionOutcome:
        """The stream ended: its result message decides, else how it ended."""
        outcome = seen.outcome
        if outcome is None and self._gave_up:
            outcome = self._gave_up_outcome()
        if outcome is None:
            outcome = SessionOutcome(
                outcome=Ending.INTERRUPTED if self._interrupted else Ending.ERROR,
                error_kind=None if self._interrupted else (seen.error_kind or ErrorKind.OTHER),
                message=seen.error_text or "the CLI ended without a result",
            )
        outcome.tool_calls = seen.tool_calls
        outcome.api_retries = seen.api_retries
        return outcome

    def _result(
        self, message: ResultMessage, error_kind: ErrorKind | None, error_text: str
    ) -> SessionOutcome:
        common = usage_of(message)
        reason = message.terminal_reason or ""
        if self._gave_up:
            return self._gave_up_outcome(**common)
        if self._interrupted or reason.startswith("aborted"):
            return interrupted_outcome(**common)
        if message.is_error or error_kind is not None:
            kind = classify_message(message) or error_kind or ErrorKind.OTHER
            text = redact(message.result or error_text or message.subtype)
            return SessionOutcome(outcome=Ending.ERROR, error_kind=kind, message=text, **common)
        return SessionOutcome(
            outcome=Ending.SUCCESS, message=redact(message.result or ""), **common
        )

    async def _maybe_give_up(self, kind: ErrorKind | None, retries: list[dict[str, Any]]) -> None:
        limit = self.spec.rate_limit_retries
        if limit is None or kind != ErrorKind.RATE_LIMIT or self._gave_up:
            return
        count = sum(1 for r in retries if r.get("error_status") == 429)
        if count >= limit:
            self._gave_up = (
                f"rate limited: the CLI retried {count} times; giving this profile a rest"
            )
            await self._emit_error(ErrorKind.RATE_LIMIT, self._gave_up)
            await self.interrupt()

    def _gave_up_outcome(self, **common: Any) -> SessionOutcome:
        return SessionOutcome(
            outcome=Ending.ERROR,
            error_kind=ErrorKind.RATE_LIMIT,
            message=self._gave_up or "",
            **common,
        )

    async def _assistant(self, message: AssistantMessage) -> int:
        calls = 0
        claude = sdk()
        for block in message.content:
            if isinstance(block, claude.TextBlock) and block.text.strip():
                await self._emit(
                    ev.AssistantText(session=self.spec.number, text=redact(block.text))
                )
            elif isinstance(block, claude.ToolUseBlock):
                calls += 1
                self._tool_names[block.id] = block.name
                summary = summarize_tool(block.name, block.input, self.spec.cwd)
                await self._emit(
                    ev.ToolUse(
                        session=self.spec.number,
                        tool_use_id=block.id,
                        name=block.name,
                        summary=summary,
                    )
                )
        return calls

    async def _user(self, message: UserMessage) -> None:
        if isinstance(message.content, str):
            return
        result_block = sdk().ToolResultBlock
        for block in message.content:
            if isinstance(block, result_block):
                await self._emit(
                    ev.ToolResult(
                        session=self.spec.number,
                        tool_use_id=block.tool_use_id,
                        is_error=bool(block.is_error),
                        summary=summarize_result(
                            block.content,
                            self.spec.cwd,
                            tool=self._tool_names.get(block.tool_use_id),
                        ),
                    )
                )

    async def _api_retry(self, data: dict[str, Any]) -> None:
        delay_s = float(data.get("retry_delay_ms") or 0) / 1000
        await self._emit(
            ev.ApiRetry(
                session=self.spec.number,
                attempt=int(data.get("attempt") or 0),
                max_retries=int(data.get("max_retries") or 0),
                delay_s=delay_s,
                error_status=data.get("error_status"),
                error=data.get("error"),
                deadline=self._clock.now() + delay_s,
            )
        )

    async def _rate_limit(self, message: Any) -> None:
        quota = from_rate_limit_info(message.rate_limit_info, seen_at=self._clock.wall())
        if quota is not None:
            await self._emit(ev.QuotaUpdated.of(self.spec.profile, quota))

    async def _emit_error(self, kind: ErrorKind, text: str) -> None:
        await self._emit(
            ev.SessionError(session=self.spec.number, error_kind=str(kind), message=text)
        )
