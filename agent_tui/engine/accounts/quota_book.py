"""Each profile's usage window, kept on disk in agent-tui's state dir.

So a new run knows that profile B is exhausted until 20:50 without spending a session to
learn it.  The file is small and written whole and atomically; it is re-read before each
write, so two runs sharing profiles each add what they saw.  A file that cannot be read
costs one warning and is set aside at the next write, never a crash.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent_tui.engine.events.quota import Quota, QuotaStatus
from agent_tui.files import atomic_write_text, read_bounded

MAX_FILE_BYTES = 1 << 20
FILE_VERSION = 1


class QuotaBook:
    """Profile name → ``Quota``; ``path`` None keeps it in memory (the demo's, the tests')."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[str, Quota] = {}
        self._set_aside = False
        self.warning: str | None = None
        """Why the file could not be read, once; the book starts empty then."""

    @classmethod
    def load(cls, path: Path | None) -> QuotaBook:
        book = cls(path)
        book.refresh()
        return book

    def refresh(self) -> None:
        """Read the file again: another run may have learnt something."""
        if self.path is None:
            return
        entries, problem = _read(self.path)
        if problem is not None:
            if not self._set_aside:
                self.warning = f"{self.path}: {problem}; usage windows start afresh"
            self._set_aside = True
            return
        self._entries = entries

    def get(self, name: str) -> Quota | None:
        return self._entries.get(name)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def record(self, name: str, quota: Quota) -> None:
        """Keep ``quota`` for ``name``, on disk too (raises ``OSError`` if it cannot be written)."""
        self._update(name, quota)

    def forget(self, name: str) -> None:
        self._update(name, None)

    def _update(self, name: str, quota: Quota | None) -> None:
        if self.path is not None and not self._set_aside:
            entries, problem = _read(self.path)
            if problem is None:
                self._entries = entries  # the disk is the truth: another run may have written
            else:
                self._set_aside = True
        if quota is None:
            self._entries.pop(name, None)
        else:
            self._entries[name] = quota
        if self.path is not None:
            self._write(self.path)

    def _write(self, path: Path) -> None:
        if self._set_aside and path.exists():
            os.replace(path, path.with_name(path.name + ".unreadable"))
        self._set_aside = False
        data = {
            "version": FILE_VERSION,
            "profiles": {name: _plain(q) for name, q in sorted(self._entries.items())},
        }
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")

    def exhausted_until(self, name: str, wall: float) -> float | None:
        quota = self.get(name)
        return quota.exhausted_until(wall) if quota is not None else None

    def used(self, name: str, wall: float) -> float:
        quota = self.get(name)
        return quota.used(wall) if quota is not None else 0.0

    def earliest_reset(self, names: Iterable[str], wall: float) -> tuple[str, float] | None:
        """Of ``names`` (in the user's order), the exhausted one whose window opens first."""
        resets = [
            (until, index, name)
            for index, name in enumerate(names)
            if (until := self.exhausted_until(name, wall)) is not None
        ]
        if not resets:
            return None
        until, _, name = min(resets)
        return name, until


def _plain(quota: Quota) -> dict[str, Any]:
    data = quota.as_dict()
    data["status"] = str(quota.status)
    return {key: value for key, value in data.items() if value is not None}


def _read(path: Path) -> tuple[dict[str, Quota], str | None]:
    """The entries in ``path`` (none if it is missing), or why it cannot be used."""
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"cannot be read ({exc.strerror or exc})"
    try:
        data = json.loads(raw.decode("utf-8"))
        profiles = data["profiles"]
        return {str(name): _quota(entry) for name, entry in profiles.items()}, None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return {}, f"is not a usage file agent-tui wrote ({type(exc).__name__})"


def _quota(entry: dict[str, Any]) -> Quota:
    def number(key: str) -> float | None:
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(key)
        return float(value)

    window = entry.get("window")
    if window is not None and not isinstance(window, str):
        raise TypeError("window")
    return Quota(
        status=QuotaStatus(entry["status"]),
        window=window,
        utilization=number("utilization"),
        resets_at=number("resets_at"),
        seen_at=number("seen_at") or 0.0,
    )
