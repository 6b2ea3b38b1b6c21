"""A JSON record that grows without each change rewriting all of it.

The record is a JSON object in its file (``attempt_history.json``), written whole and
atomically.  While it is small, every change rewrites it so.  Past ``WHOLE_BYTES`` a change
is appended instead to a journal beside it (``<name>.journal.jsonl``): one line per change,
holding the new value of each top-level member (or member of a member) it changed
(``[keys, value]``; ``[keys]`` when it was removed).  When
the journal has grown as large as the file, the file is written whole again with every
change in it and the journal is emptied: a change costs a bounded number of bytes however
long the run has been, the file's rewrites spread over the changes since the last one.

Reading takes the file, then each complete line of the journal in order; a line cut short
by a crash is the last one and is left out (the change it held was not finished).  Setting
a value twice gives the value: a crash after the file was rewritten and before the journal
was emptied reads the same.  Nothing here follows a link; every read is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent_tui.files import NotRegularFile, atomic_write_text, read_bounded

WHOLE_BYTES = 64 * 1024
"""Below this the file is rewritten at each change (small, and what other tools read)."""
Member = tuple[str, ...]
"""A top-level key, or a key and a key inside its value (an object)."""


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal.jsonl")


class JournalError(OSError):
    """The journal cannot be read: a link, not a file, or not lines of JSON."""


def read_journal(path: Path, limit: int) -> list[dict[str, Any]]:
    """The complete changes in ``path``'s journal, in order (none: no journal)."""
    journal = journal_path(path)
    try:
        data = read_bounded(journal, limit, follow_symlinks=False)
    except FileNotFoundError:
        return []
    except NotRegularFile:
        raise JournalError(None, "is not a regular file: move it away", str(journal)) from None
    except OSError:
        if os.path.islink(journal):
            raise JournalError(None, "is a symbolic link: remove it", str(journal)) from None
        raise
    lines = data.split(b"\n")
    complete = lines[:-1]  # the last piece has no newline: cut short, or empty
    changes = []
    for number, line in enumerate(complete, 1):
        try:
            change = json.loads(line)
        except ValueError:
            raise JournalError(None, f"line {number} is not JSON", str(journal)) from None
        if not isinstance(change, dict) or not isinstance(change.get("set"), list):
            raise JournalError(None, f"line {number} is not a change", str(journal))
        changes.append(change)
    return changes


def apply(data: dict[str, Any], change: dict[str, Any]) -> None:
    """Set each member ``change`` names to its value (or remove it)."""
    for item in change["set"]:
        if not (isinstance(item, list) and len(item) in (1, 2) and isinstance(item[0], list)):
            continue
        keys = item[0]
        if not keys or len(keys) > 2 or not all(isinstance(k, str) for k in keys):
            continue
        holder = data
        if len(keys) == 2:
            inner = data.get(keys[0])
            if not isinstance(inner, dict):
                inner = data[keys[0]] = {}
            holder = inner
        if len(item) == 1:
            holder.pop(keys[-1], None)
        else:
            holder[keys[-1]] = item[1]


class JournaledFile:
    """Writes ``data`` to ``path`` as described above; one writer at a time (the caller's
    lock), in a directory of agent-tui's own."""

    def __init__(self, path: Path, whole_bytes: int = WHOLE_BYTES) -> None:
        self.path = path
        self.journal = journal_path(path)
        self._whole_bytes = whole_bytes
        self._file_bytes: int | None = None
        self._journal_bytes: int | None = None
        self.bytes_written = 0
        """Every byte written so far (the file's and the journal's): what a change costs."""

    def save(self, data: dict[str, Any], changed: Iterable[Member]) -> None:
        """Record that ``changed`` members of ``data`` have their values now."""
        if self._file_bytes is None:
            self._file_bytes = _size(self.path)
            self._journal_bytes = _size(self.journal)
        assert self._journal_bytes is not None
        if self._file_bytes < self._whole_bytes and not self._journal_bytes:
            self.write_whole(data)
            return
        line = _change_line(data, changed)
        if self._journal_bytes + len(line) > max(self._file_bytes, self._whole_bytes):
            self.write_whole(data)
            return
        self._append(line)

    def write_whole(self, data: dict[str, Any]) -> None:
        """The file with every change in it; the journal emptied."""
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        atomic_write_text(self.path, text)
        self.bytes_written += len(text.encode("utf-8"))
        self._file_bytes = len(text.encode("utf-8"))
        if self._journal_bytes or self._journal_bytes is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.journal)
        self._journal_bytes = 0

    def _append(self, line: bytes) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        fd = os.open(self.journal, flags, 0o600)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise JournalError(None, "is not a regular file", str(self.journal))
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(None, "short write", str(self.journal))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.bytes_written += len(line)
        self._journal_bytes = (self._journal_bytes or 0) + len(line)


def _change_line(data: dict[str, Any], changed: Iterable[Member]) -> bytes:
    items = []
    for keys in dict.fromkeys(changed):
        holder: Any = data
        for key in keys[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        present = isinstance(holder, dict) and keys[-1] in holder
        items.append([list(keys), holder[keys[-1]]] if present else [list(keys)])
    return (json.dumps({"set": items}, ensure_ascii=False) + "\n").encode("utf-8")


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except FileNotFoundError:
        return 0
