"""Each profile's usage window, as the CLI last reported it (``RateLimitEvent``), kept on disk.

A subscription's five-hour and seven-day windows belong to the account, not to a run: the
book lives in agent-tui's state dir, so a new run knows that profile B is exhausted until
20:50 without spending a session to learn it.  Every time is epoch seconds (the CLI's
``resetsAt``); turning one into a wait on the loop's clock is the loop's business.

The file is small and written whole and atomically; it is re-read before each write, so two
runs sharing profiles each add what they saw.  A file that cannot be read costs one warning
and is set aside at the next write, never a crash.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from agent_tui.atomic import atomic_write_text
from agent_tui.bounded import read_bounded
from agent_tui.engine.record import Record
from agent_tui.engine.timefmt import clock_time

MAX_FILE_BYTES = 1 << 20
FILE_VERSION = 1


class QuotaStatus(StrEnum):
    ALLOWED = "allowed"
    WARNING = "allowed_warning"
    """Allowed, but past a share of the window the API warns about."""
    REJECTED = "rejected"
    """The window is used up: requests fail until it resets."""


WINDOW_LABELS = {
    "five_hour": "5h",
    "seven_day": "7d",
    "seven_day_opus": "7d opus",
    "seven_day_sonnet": "7d sonnet",
    "overage": "overage",
}


class Quota(Record):
    """One profile's window as last reported; ``utilization`` is the share used, 0 to 1."""

    status: QuotaStatus
    window: str | None = None
    utilization: float | None = None
    resets_at: float | None = None
    seen_at: float = 0.0

    def exhausted_until(self, wall: float) -> float | None:
        """The reset of a used-up window still closed at ``wall``; None when it is open
        (or its reset is unknown: nothing to wait for)."""
        if self.status != QuotaStatus.REJECTED or self.resets_at is None:
            return None
        return self.resets_at if self.resets_at > wall else None

    def used(self, wall: float) -> float:
        """The share of the window used at ``wall``: 0 once it has reset, 0 when unknown."""
        if self.resets_at is not None and self.resets_at <= wall:
            return 0.0
        if self.status == QuotaStatus.REJECTED:
            return 1.0
        return self.utilization or 0.0

    @property
    def label(self) -> str:
        return WINDOW_LABELS.get(self.window or "", self.window or "usage")


def quota_text(quota: Quota | None, wall: float) -> str:
    """A few words for a status line or a listing: ``5h 91% · resets 20:50``."""
    if quota is None:
        return "usage unknown"
    label = quota.label
    if quota.resets_at is None:
        if quota.status == QuotaStatus.REJECTED:
            return f"{label} limit reached · reset unknown"
        return f"{label} {_share(quota)}"
    when = clock_time(quota.resets_at, wall)
    if quota.resets_at <= wall:
        return f"{label} window reset at {when}"
    if quota.status == QuotaStatus.REJECTED:
        return f"{label} limit reached · resets {when}"
    return f"{label} {_share(quota)} · resets {when}"


def _share(quota: Quota) -> str:
    if quota.utilization is not None:
        return f"{math.floor(quota.utilization * 100)}%"
    return "near its limit" if quota.status == QuotaStatus.WARNING else "allowed"


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
