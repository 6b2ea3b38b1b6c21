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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
from agent_tui.engine.agents.claude.pricing import input_tokens, reply_cost
from agent_tui.engine.agents.claude.process import CliLauncher, kill_group
from agent_tui.engine.agents.claude.summary import summarize_result, summarize_tool
from agent_tui.engine.agents.protocol import (
    CLIMissingError,
    Ending,
    SandboxRefused,
    SessionOutcome,
    SessionSpec,
    interrupted_outcome,
)
from agent_tui.engine.agents.runaway import RUNAWAY_PREFIX, RunawayDetector, changes_files
from agent_tui.engine.agents.transcript import Transcript, TranscriptError
from agent_tui.engine.clock import Clock
from agent_tui.engine.control.result import RunEnded
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.money import money
from agent_tui.engine.events.quota import LimitKind, from_rate_limit_info, limit_kind
from agent_tui.engine.events.spend import SessionSpend
from agent_tui.engine.events.timefmt import clock_time
from agent_tui.engine.failures.kinds import (
    MORE_SPECIFIC,
    ErrorKind,
    classify_exception,
    classify_message,
    is_budget_result,
)

__all__ = [
    "CLIMissingError",
    "ClaudeSession",
    "Ending",
    "SandboxRefused",
    "SessionOutcome",
    "SessionSpec",
]

if TYPE_CHECKING:
    from claude_agent_sdk import AssistantMessage, ClaudeAgentOptions, ResultMessage, UserMessage

INTERRUPT_GRACE_S = 0.8
"""How long a stop waits for the CLI to take the interrupt before signalling it."""
TERM_GRACE_S = 0.3
"""How long a CLI signalled to end gets before it is killed (a stopped one never ends)."""
STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)  # a closed terminal, ctrl+c, …
STOPPED_BY_SIGNAL = {128 + n for n in STOP_SIGNALS} | {-n for n in STOP_SIGNALS}
"""CLI exit codes that mean someone stopped it (a shell's 128+n, or Python's -n)."""

# The SDK logs the CLI's exit as "Fatal error in message reader" through the root logger's
# last resort, which would print over the app's screen; the session reports it instead.
logging.getLogger("claude_agent_sdk").addHandler(logging.NullHandler())


@dataclass
class Seen:
    """What a session's messages have said so far."""

    error_kind: ErrorKind | None = None
    error_text: str = ""
    tool_calls: int = 0
    api_retries: list[dict[str, Any]] = field(default_factory=list)
    outcome: SessionOutcome | None = None
    limit: Any = None
    """The last ``RateLimitInfo`` that reported a rejection: what a 429 after it means."""
    replies: set[str] = field(default_factory=set)
    """The API replies (message ids) whose usage is counted in the estimate."""
    estimate: list[float] = field(default_factory=lambda: [0.0, 0, 0])
    """Spend so far from the replies' usage: cost, input tokens, output tokens."""


class ClaudeSession:
    """One Claude Code session through the SDK (an ``AgentSession``): run to its end and
    reported as engine events plus a ``SessionOutcome``."""

    def __init__(
        self,
        spec: SessionSpec,
        emit: ev.EventSink,
        clock: Clock,
        client_factory: Callable[[ClaudeAgentOptions], Any] | None = None,
        *,
        launcher: CliLauncher | None = None,
        cli_path: str | None = None,
    ) -> None:
        """``launcher`` starts the CLI in a process group of its own, tied to agent-tui's
        life (see ``process``); without one the SDK starts ``cli_path`` (None: its own)."""
        self.spec = spec
        self._launcher = launcher
        self._cli_path = cli_path
        self._emit = emit
        self._clock = clock
        self._client_factory = client_factory
        self._client: Any = None
        self._interrupted = False
        self._cut: tuple[ErrorKind, str] | None = None
        """Why the session stopped itself (a 429 retried too long, a runaway): its end."""
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._tool_calls: dict[str, tuple[str, Any]] = {}
        self._runaway = RunawayDetector(spec.runaway) if spec.runaway else None
        self._ended = asyncio.Event()
        self._tmp_dir: Path | None = None

    def options(self, tmp_dir: Path | None = None) -> ClaudeAgentOptions:
        """The session's options; ``tmp_dir`` is its own temp dir."""
        spec = self.spec
        claude = sdk()
        return claude.ClaudeAgentOptions(
            cwd=str(spec.cwd),
            model=spec.model,
            permission_mode="acceptEdits",
            stderr=self._stderr_tail.append,
            hooks={"PreToolUse": [claude.HookMatcher(hooks=[spec.guard.hook])]},
            cli_path=str(self._launcher.path) if self._launcher else self._cli_path,
            max_budget_usd=spec.max_budget_usd,
            **spec.containment.option_fields(spec.env, tmp_dir=tmp_dir),
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
        launcher = self._launcher
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
            with self._own_tmp() as self._tmp_dir:
                return await self._run()
        finally:
            self._ended.set()
            if self._launcher is not None:
                pid = self._launcher.pid()
                if pid is not None:  # what outlived a launcher killed with its CLI (socat)
                    kill_group(pid)
                self._launcher.forget()

    @contextlib.contextmanager
    def _own_tmp(self) -> Iterator[Path | None]:
        """The session's own temp dir: without one, it is not run (it would share the
        CLI's with every other session)."""
        made = contextlib.ExitStack()
        try:
            path = made.enter_context(self.spec.containment.session_tmp())
        except OSError as exc:
            raise SandboxRefused(f"the session's temp dir cannot be made: {exc}") from None
        with made:
            yield path

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
            async with client_factory(self.options(self._tmp_dir)) as client:
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
                await self._count_reply(message, seen)
                seen.tool_calls += await self._assistant(message)
                return
            kind = _credit_if_said(kind, seen.limit)
            seen.error_kind, seen.error_text = kind, redact(message_text(message))
            if kind == ErrorKind.CREDIT:
                seen.error_text += _credit_detail(seen.limit, seen.error_text, self._clock)
            await self._emit_error(kind, seen.error_text)
        elif isinstance(message, claude.UserMessage):
            await self._user(message)
        elif isinstance(message, claude.SystemMessage) and message.subtype == "api_retry":
            seen.api_retries.append(dict(message.data))
            await self._api_retry(message.data)
            await self._maybe_give_up(kind, seen.api_retries)
        elif isinstance(message, claude.ResultMessage):
            seen.outcome = self._result(message, seen)
            if seen.outcome.error_kind == ErrorKind.BUDGET:  # no API error said it
                await self._emit_error(ErrorKind.BUDGET, seen.outcome.message)
        elif isinstance(message, claude.RateLimitEvent):
            seen.limit = message.rate_limit_info if limit_kind(message.rate_limit_info) else None
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
        if self._cut:
            return self._cut_outcome()
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
        if outcome is None and self._cut:
            outcome = self._cut_outcome()
        if outcome is None:
            outcome = SessionOutcome(
                outcome=Ending.INTERRUPTED if self._interrupted else Ending.ERROR,
                error_kind=None if self._interrupted else (seen.error_kind or ErrorKind.OTHER),
                message=seen.error_text or "the CLI ended without a result",
            )
        outcome.tool_calls = seen.tool_calls
        outcome.api_retries = seen.api_retries
        return outcome

    def _result(self, message: ResultMessage, seen: Seen) -> SessionOutcome:
        common = usage_of(message)
        reason = message.terminal_reason or ""
        if self._cut:
            return self._cut_outcome(**common)
        if is_budget_result(message):
            return SessionOutcome(
                outcome=Ending.ERROR,
                error_kind=ErrorKind.BUDGET,
                message=_budget_text(message, self.spec.max_budget_usd),
                **common,
            )
        if self._interrupted or reason.startswith("aborted"):
            return interrupted_outcome(**common)
        if message.is_error or seen.error_kind is not None:
            said = _credit_if_said(classify_message(message), seen.limit)
            kind = _more_specific(said, seen.error_kind) or ErrorKind.OTHER
            text = seen.error_text if kind == seen.error_kind and seen.error_text else ""
            text = text or redact(message.result or message.subtype)
            return SessionOutcome(outcome=Ending.ERROR, error_kind=kind, message=text, **common)
        return SessionOutcome(
            outcome=Ending.SUCCESS, message=redact(message.result or ""), **common
        )

    async def _maybe_give_up(self, kind: ErrorKind | None, retries: list[dict[str, Any]]) -> None:
        limit = self.spec.rate_limit_retries
        if limit is None or kind != ErrorKind.RATE_LIMIT or self._cut:
            return
        count = sum(1 for r in retries if r.get("error_status") == 429)
        if count >= limit:
            reason = f"rate limited: the CLI retried {count} times; giving this profile a rest"
            await self._stop_itself(ErrorKind.RATE_LIMIT, reason)

    async def _stop_itself(self, kind: ErrorKind, reason: str) -> None:
        """End the session's turn now, for ``reason``: its outcome is that error."""
        self._cut = (kind, reason)
        await self._emit_error(kind, reason)
        await self.interrupt()

    def _cut_outcome(self, **common: Any) -> SessionOutcome:
        kind, reason = self._cut or (ErrorKind.OTHER, "")
        return SessionOutcome(outcome=Ending.ERROR, error_kind=kind, message=reason, **common)

    async def _count_reply(self, message: AssistantMessage, seen: Seen) -> None:
        """A reply's usage, once per API reply (the SDK repeats it on each of its blocks):
        the spend so far, and the context's size for the runaway detector."""
        usage = message.usage if isinstance(message.usage, dict) else None
        reply = message.message_id
        if usage is None or not reply or reply in seen.replies:
            return
        seen.replies.add(reply)
        estimate = seen.estimate
        estimate[0] += reply_cost(message.model, usage)
        estimate[1] += input_tokens(usage)
        estimate[2] += int(usage.get("output_tokens") or 0)
        await self._emit(
            SessionSpend(
                session=self.spec.number,
                cost_usd=estimate[0],
                input_tokens=int(estimate[1]),
                output_tokens=int(estimate[2]),
                model=message.model,
                lane=self.spec.lane,
            )
        )
        if self._runaway is not None:
            why = self._runaway.reply(input_tokens(usage))
            if why is not None:
                await self._stop_itself(ErrorKind.RUNAWAY, RUNAWAY_PREFIX + why)

    async def _assistant(self, message: AssistantMessage) -> int:
        calls = 0
        claude = sdk()
        for block in message.content:
            if isinstance(block, claude.TextBlock) and block.text.strip():
                await self._emit(
                    ev.AssistantText(
                        session=self.spec.number, text=redact(block.text), lane=self.spec.lane
                    )
                )
            elif isinstance(block, claude.ToolUseBlock):
                calls += 1
                self._tool_calls[block.id] = (block.name, block.input)
                await self._watch_call(block.name, block.input)
                summary = summarize_tool(block.name, block.input, self.spec.cwd)
                await self._emit(
                    ev.ToolUse(
                        session=self.spec.number,
                        lane=self.spec.lane,
                        tool_use_id=block.id,
                        name=block.name,
                        summary=summary,
                    )
                )
        return calls

    async def _watch_call(self, name: str, tool_input: Any) -> None:
        if self._runaway is None:
            return
        why = self._runaway.tool_call(name, tool_input)
        if why is not None:
            await self._stop_itself(ErrorKind.RUNAWAY, redact(RUNAWAY_PREFIX + why))

    async def _user(self, message: UserMessage) -> None:
        if isinstance(message.content, str):
            return
        result_block = sdk().ToolResultBlock
        for block in message.content:
            if isinstance(block, result_block):
                name, tool_input = self._tool_calls.get(block.tool_use_id, ("", None))
                if self._runaway is not None and changes_files(name) and not block.is_error:
                    self._runaway.file_changed(name, tool_input)
                await self._emit(
                    ev.ToolResult(
                        session=self.spec.number,
                        lane=self.spec.lane,
                        tool_use_id=block.tool_use_id,
                        is_error=bool(block.is_error),
                        summary=summarize_result(block.content, self.spec.cwd, tool=name or None),
                    )
                )

    async def _api_retry(self, data: dict[str, Any]) -> None:
        delay_s = float(data.get("retry_delay_ms") or 0) / 1000
        await self._emit(
            ev.ApiRetry(
                session=self.spec.number,
                lane=self.spec.lane,
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
            ev.SessionError(
                session=self.spec.number,
                error_kind=str(kind),
                message=text,
                lane=self.spec.lane,
            )
        )


def _credit_if_said(kind: ErrorKind | None, limit: Any) -> ErrorKind | None:
    """A 429 right after a rejection of usage credits or a spend cap is a credit error (the
    CLI's text alone may not say: an org's or a gateway's cap reads as the server wrote it)."""
    if kind == ErrorKind.RATE_LIMIT and limit is not None and limit_kind(limit) == LimitKind.CREDIT:
        return ErrorKind.CREDIT
    return kind


def _more_specific(said: ErrorKind | None, seen: ErrorKind | None) -> ErrorKind | None:
    """The result's kind, unless the session's error already said more: the result of a
    credit error is a 429 read from its status alone."""
    if seen in MORE_SPECIFIC and said not in MORE_SPECIFIC:
        return seen
    return said or seen


def _credit_detail(limit: Any, text: str, clock: Clock) -> str:
    """What the rejection said that the CLI's sentence may not: the reset and the reason."""
    if limit is None:
        return ""
    parts = []
    resets = limit.resets_at or limit.overage_resets_at
    if isinstance(resets, int | float) and "resets" not in text:
        parts.append(f"resets {clock_time(float(resets), clock.wall())}")
    if limit.overage_disabled_reason:
        parts.append(f"reason: {limit.overage_disabled_reason}")
    return f" ({'; '.join(parts)})" if parts else ""


def _budget_text(message: Any, cap: float | None) -> str:
    """``session budget reached: $0.53 spent of its $0.50 (session_budget_usd)``."""
    spent = money(float(message.total_cost_usd or 0.0))
    if cap is not None:
        return f"session budget reached: {spent} spent of its {money(cap)} (session_budget_usd)"
    errors = message.errors if isinstance(message.errors, list) else []
    said = redact(str(errors[0])) if errors else "the session's max_budget_usd was reached"
    return f"{said}: {spent} spent"
