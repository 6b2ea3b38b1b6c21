"""Append-only JSONL transcript of one session: every SDK message, masked, line by line.

A transcript is always a new file (``O_EXCL``) in a ``logs/`` that is a real directory,
opened without following links: a planted link or file is refused, never written through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

from agent_tui.auth.redaction import redact
from agent_tui.files import real_dir

_SESSION_FILE = re.compile(r"session-(\d+)\.jsonl$")
UNFINISHED_SLACK_S = 10.0
"""How long after a transcript's last line its session may still have started a command:
the sandbox mounts its placeholders just after the tool call that runs it is written."""
_TAIL_BYTES = 64 * 1024
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
_NEW_FILE |= getattr(os, "O_NOFOLLOW", 0)


class TranscriptError(OSError):
    """The transcript could not be written (disk full, permissions): the loop must pause."""


def next_transcript_path(logs_dir: Path, after: int = 0) -> tuple[int, Path]:
    """The next free ``session-NNN.jsonl`` in ``logs_dir`` numbered above ``after``.

    Earlier runs' transcripts are never overwritten.
    """
    highest = after
    if logs_dir.is_dir():
        for entry in logs_dir.iterdir():
            found = _SESSION_FILE.search(entry.name)
            if found:
                highest = max(highest, int(found.group(1)))
    number = highest + 1
    return number, logs_dir / f"session-{number:03d}.jsonl"


def open_new(path: Path) -> int:
    """A new file at ``path`` for appending, never an existing file or a link's target."""
    return os.open(path, _NEW_FILE, 0o600)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"kind": type(value).__name__, **dataclasses.asdict(value)}
    return value


class Transcript:
    """Writes one JSON object per line, flushed at once; fsynced when closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            real_dir(path.parent)
            fd = open_new(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise TranscriptError(f"cannot open transcript {path}: {reason}") from exc
        self._handle = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, kind: str, payload: Any) -> None:
        record = {"ts": round(time.time(), 3), "type": kind, "data": _plain(payload)}
        line = redact(json.dumps(record, default=str, ensure_ascii=False))
        try:
            self._handle.write(line + "\n")
            self._handle.flush()
        except OSError as exc:
            raise TranscriptError(f"cannot write transcript {self.path}: {exc.strerror}") from exc

    def close(self) -> None:
        """Flush to disk; a failure here was already reported by the write that hit it."""
        with contextlib.suppress(OSError):
            self._handle.flush()
            os.fsync(self._handle.fileno())
        with contextlib.suppress(OSError):
            self._handle.close()


@dataclasses.dataclass(frozen=True)
class LastSession:
    """The latest session in a spec's ``logs/``: its number and what it worked on."""

    number: int
    kind: str
    subtask_id: str | None


def last_session(logs_dir: Path) -> LastSession | None:
    """The latest transcript's session, from its first line (the prompt); None when there
    is none or it cannot be read (not a regular file, not ours): nothing is assumed then."""
    latest = next_transcript_path(logs_dir)[0] - 1
    if latest < 1:
        return None
    path = logs_dir / f"session-{latest:03d}.jsonl"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        first = handle.readline(1 << 20)
    try:
        record = json.loads(first)
        data = record["data"] if record.get("type") == "prompt" else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(data, dict):
        return None
    subtask = data.get("subtask_id")
    return LastSession(latest, str(data.get("kind")), subtask if isinstance(subtask, str) else None)


def unfinished_window(logs_dir: Path) -> tuple[float, float] | None:
    """When the latest session ran, if it never recorded its outcome (agent-tui was killed
    during it): from its prompt's time to its last write, plus ``UNFINISHED_SLACK_S``.
    None when it did record one, or its transcript cannot be read: nothing is assumed."""
    latest = next_transcript_path(logs_dir)[0] - 1
    if latest < 1:
        return None
    path = logs_dir / f"session-{latest:03d}.jsonl"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        first = handle.readline(1 << 20)
        handle.seek(max(0, info.st_size - _TAIL_BYTES))
        last = handle.read(_TAIL_BYTES).rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        started = float(json.loads(first)["ts"])
    except (ValueError, KeyError, TypeError):
        return None
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        if json.loads(last).get("type") == "outcome":
            return None
    return started, info.st_mtime + UNFINISHED_SLACK_S
