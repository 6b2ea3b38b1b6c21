"""The spend ledger: every session's cost and tokens, kept per profile in the state dir.

One append-only JSONL file per profile (``spend/NAME.jsonl``), one line per record, each
line written by a single ``write`` to a file opened ``O_APPEND``: a ``kill -9`` leaves every
line written before it whole, and two runs on one profile append side by side.  A line cut
short by a crash mid-write (or by a full disk) is skipped when read, and the next append
starts on a line of its own.

A session writes a record after every reply, with what it has spent so far (an estimate:
see ``agents.claude.pricing``), and a final one with the CLI's own cost when it ends; each
record is the whole session so far, never an increment.  Read back, a session counts once:
its final record if there is one, else its last.  So a run killed mid-session keeps that
session's spend so far, and a run that resumes after it adds its own sessions (a run id
and the session's number name each one) without counting the killed one twice.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent_tui.files import real_dir

FILE_VERSION = 1
MAX_LINE_BYTES = 64 * 1024
"""A record is a few hundred bytes; a longer line is not ours and is skipped."""
_APPEND = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class Entry:
    """A session's spend as of one moment (``final``: as the CLI reported it at its end)."""

    run: str
    """The run's id: sessions of different runs never share a key, whatever their numbers."""
    session: int
    profile: str
    spec: str
    """The spec dir's absolute path."""
    project: str
    role: str
    """``planner``, ``coder``, ``qa_reviewer`` or ``qa_fixer``."""
    ts: float
    """Epoch seconds when this record was written: the period it counts in."""
    cost_usd: float
    subtask: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    duration_s: float = 0.0
    """How long the session had run (on the loop's clock)."""
    final: bool = False
    """The session is over: no record of it follows."""
    estimated: bool = True
    """The cost is agent-tui's estimate, not the CLI's (a session running, or one that
    ended before it said what it cost)."""
    outcome: str | None = None
    """How the session ended (final records only)."""

    @property
    def key(self) -> tuple[str, int]:
        return self.run, self.session


class Ledger:
    """Every profile's sessions, read from ``directory`` (None: in memory only, as the demo
    and unit tests keep it).  ``refresh`` reads what was appended since, by any run."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._sessions: dict[tuple[str, int], Entry] = {}
        self._offsets: dict[str, int] = {}
        self.skipped = 0
        """Lines that could not be read (cut short by a crash, or not a record)."""

    @classmethod
    def load(cls, directory: Path | None) -> Ledger:
        ledger = cls(directory)
        ledger.refresh()
        return ledger

    def file_of(self, profile: str) -> Path | None:
        return self.directory / f"{profile}.jsonl" if self.directory is not None else None

    def refresh(self) -> None:
        """Read every profile file's lines appended since the last read (a file that shrank,
        rewritten by hand, is read again from its start)."""
        if self.directory is None or not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.jsonl")):
            self._read_new(path)

    def append(self, entry: Entry) -> None:
        """Keep ``entry``, and write it to its profile's file (``OSError`` if it cannot be
        written: it is kept in memory all the same, so this run still counts it).  The next
        ``refresh`` reads it back with whatever other runs appended meanwhile: taking it
        twice changes nothing."""
        self._take(entry)
        path = self.file_of(entry.profile)
        if path is None:
            return
        line = json.dumps({"v": FILE_VERSION, **asdict(entry)}, separators=(",", ":")) + "\n"
        real_dir(path.parent)
        fd = os.open(path, _APPEND, 0o600)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{path} is not a regular file")
            if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":
                line = "\n" + line  # the last line was cut short: this one starts afresh
            os.write(fd, line.encode("utf-8"))
            if entry.final:
                os.fsync(fd)
        finally:
            os.close(fd)

    def sessions(self) -> Iterator[Entry]:
        """One entry per session: its final record, else its latest."""
        return iter(self._sessions.values())

    def spent(
        self,
        *,
        profile: str | None = None,
        spec: str | None = None,
        run: str | None = None,
        between: tuple[float, float] | None = None,
    ) -> float:
        return sum(e.cost_usd for e in self.select(profile, spec, run, between))

    def select(
        self,
        profile: str | None = None,
        spec: str | None = None,
        run: str | None = None,
        between: tuple[float, float] | None = None,
    ) -> list[Entry]:
        """The sessions matching every filter given (``between``: a record's time, from the
        first instant to before the second)."""
        return [
            e
            for e in self._sessions.values()
            if (profile is None or e.profile == profile)
            and (spec is None or e.spec == spec)
            and (run is None or e.run == run)
            and (between is None or between[0] <= e.ts < between[1])
        ]

    def _take(self, entry: Entry) -> None:
        kept = self._sessions.get(entry.key)
        if kept is not None and kept.final and not entry.final:
            return  # an estimate read after the session's own figure changes nothing
        self._sessions[entry.key] = entry

    def _read_new(self, path: Path) -> None:
        offset = self._offsets.get(path.name, 0)
        try:
            fd = os.open(path, _READ)
        except OSError:
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return
            if info.st_size < offset:  # rewritten: start again
                self._forget(path.stem)
                offset = 0
            data = os.pread(fd, info.st_size - offset, offset) if info.st_size > offset else b""
        finally:
            os.close(fd)
        complete = data.rfind(b"\n") + 1  # a last line being written is read next time
        for line in data[:complete].splitlines():
            self._parse(line)
        self._offsets[path.name] = offset + complete

    def _forget(self, profile: str) -> None:
        for key in [k for k, e in self._sessions.items() if e.profile == profile]:
            del self._sessions[key]

    def _parse(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            if len(line) > MAX_LINE_BYTES:
                raise ValueError("too long")
            self._take(_entry(json.loads(line)))
        except (ValueError, TypeError, KeyError):
            self.skipped += 1


def _entry(data: Any) -> Entry:
    if not isinstance(data, dict) or data.get("v") != FILE_VERSION:
        raise ValueError("not a version this code reads")

    def text(key: str, optional: bool = False) -> Any:
        value = data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise TypeError(key)
        return value

    def number(key: str, kind: type = float) -> Any:
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise TypeError(key)
        return kind(value)

    return Entry(
        run=text("run"),
        session=number("session", int),
        profile=text("profile"),
        spec=text("spec"),
        project=text("project"),
        role=text("role"),
        ts=number("ts"),
        cost_usd=number("cost_usd"),
        subtask=text("subtask", optional=True),
        model=text("model", optional=True),
        input_tokens=number("input_tokens", int),
        output_tokens=number("output_tokens", int),
        duration_s=number("duration_s"),
        final=data.get("final") is True,
        estimated=data.get("estimated") is not False,
        outcome=text("outcome", optional=True),
    )


def specs_of(entries: Iterable[Entry]) -> list[str]:
    """The spec dirs ``entries`` ran for, in the order first seen."""
    return list(dict.fromkeys(e.spec for e in entries))
