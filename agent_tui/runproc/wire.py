"""The run socket's language: versioned JSON lines, masked as they are written.

The run process speaks first, a ``hello`` with the wire version and the run's status.  A
client then sends ``watch`` (the snapshot a late app needs, ``replayed``, then live events)
and any number of ``call`` lines, each answered once with its ``id``.  A client that finds
another wire version says so in one line and goes no further.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from agent_tui import __version__
from agent_tui.auth.redaction import redact
from agent_tui.engine.events import core as ev
from agent_tui.runproc.codec import DecodeError, event_from_dict

WIRE_VERSION = 1
LINE_LIMIT = 32 * 1024 * 1024
"""The longest line read: a plan of thousands of subtasks is one event."""


class Kind(StrEnum):
    HELLO = "hello"
    WATCH = "watch"
    EVENT = "event"
    REPLAYED = "replayed"
    """The snapshot is over: live events follow."""
    CALL = "call"
    ANSWER = "answer"


class WireError(Exception):
    """A line that is not this wire's: one sentence."""


class WireMismatch(WireError):
    """The run speaks another version of the wire."""


def encode(message: dict[str, Any]) -> bytes:
    """One line, every secret in it masked (the page and the terminal see only this)."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)
    return (redact(text) + "\n").encode("utf-8")


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError("the run sent a line that is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise WireError("the run sent a message without a kind")
    return message


def hello(status: dict[str, Any]) -> dict[str, Any]:
    return {"kind": Kind.HELLO, "wire": WIRE_VERSION, "agent_tui": __version__, "run": status}


def check_hello(message: dict[str, Any]) -> dict[str, Any]:
    """The run's status from its ``hello``; ``WireMismatch`` for another version."""
    if message.get("kind") != Kind.HELLO:
        raise WireError("the run did not say hello")
    version = message.get("wire")
    if version != WIRE_VERSION:
        raise WireMismatch(
            f"this run speaks wire version {version} (agent-tui {message.get('agent_tui')}) "
            f"and this agent-tui {__version__} speaks {WIRE_VERSION}: attach with the "
            "agent-tui that started the run"
        )
    status = message.get("run")
    if not isinstance(status, dict):
        raise WireError("the run's hello has no status")
    return status


def event_line(seq: int, event: ev.Event) -> dict[str, Any]:
    return {"kind": Kind.EVENT, "seq": seq, "event": event.to_dict()}


def event_of(message: dict[str, Any]) -> ev.Event | None:
    """The event an ``event`` message carries (None: a type this version does not know)."""
    try:
        return event_from_dict(message.get("event"))  # type: ignore[arg-type]
    except DecodeError as exc:
        raise WireError(f"the run sent an event this agent-tui cannot read: {exc}") from None


def call(call_id: int, name: str, **args: Any) -> dict[str, Any]:
    return {"kind": Kind.CALL, "id": call_id, "call": name, "args": args}


def answer(call_id: Any, *, result: Any = None, error: str | None = None, status=None) -> dict:
    message: dict[str, Any] = {"kind": Kind.ANSWER, "id": call_id, "ok": error is None}
    if error is not None:
        message["error"] = error
    else:
        message["result"] = result
    if status is not None:
        message["status"] = status
    return message
