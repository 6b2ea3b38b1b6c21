"""Attempt history and stuck subtasks: ``<spec>/memory/attempt_history.json``.

Every change is written at once, so a crash loses no attempt: the whole file atomically
while it is small, past that as a line of its journal, folded into the file from time to
time and as the run ends (``journal``): a long run's changes cost what a short run's do.
The shape stays close to upstream Auto-Claude's file, and keys this module does not know
are preserved.  ``memory/`` must be a real directory and the files are read without
following a link (a repo can ship either as a link pointing anywhere); messages are masked
before they are kept.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from agent_tui.auth.redaction import redact
from agent_tui.engine.progress.journal import (
    JournaledFile,
    JournalError,
    Member,
    apply,
    read_journal,
)
from agent_tui.files import LinkRefused, NotRegularFile, read_bounded, real_dir

MAX_HISTORY_BYTES = 16 * 1024 * 1024
NOT_A_TRY = frozenset({"interrupted", "success", "unmerged_base"})
"""Sessions the user stopped (they say nothing of whether the subtask can be done), the one
that completed it (a later merge conflict or failed re-check is the failed try), and work
started on another's that was not merged (that one's try failed)."""
ACCOUNT_ERRORS = frozenset({"auth", "rate_limit", "credit", "budget"})
"""A failure of the account (or a session stopped at the budget the user set), not of the
subtask: it spends none of the subtask's tries."""


class RecoveryError(Exception):
    """The attempt history cannot be read; one sentence."""


F = TypeVar("F", bound=Callable[..., Any])


def _one_writer(change: F) -> F:
    """A change and its save, one at a time: lanes and the merge queue write the history
    from worker threads at once, and a save made from a copy taken before another change
    would drop that change on disk."""

    @functools.wraps(change)
    def locked(self: AttemptHistory, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return change(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AttemptHistory:
    def __init__(self, spec_dir: Path, now: Callable[[], datetime] = _utc_now) -> None:
        self.path = spec_dir / "memory" / "attempt_history.json"
        self._now = now
        self._lock = threading.RLock()
        self.file = JournaledFile(self.path)
        self.data = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            text = _read_unlinked(self.path)
        except FileNotFoundError:
            stamp = self._stamp()
            fresh = {
                "subtasks": {},
                "stuck_subtasks": [],
                "metadata": {"created_at": stamp, "last_updated": stamp},
            }
            self._replay(fresh)  # killed before the file's first whole write
            return fresh
        except LinkRefused as exc:
            raise RecoveryError(str(exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise RecoveryError(f"{self.path}: cannot read ({reason})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecoveryError(
                f"{self.path}: not valid JSON ({exc.msg}, line {exc.lineno})"
            ) from None
        except (RecursionError, ValueError):
            raise RecoveryError(f"{self.path}: not an attempt history: fix or remove it") from None
        if not isinstance(data, dict):
            raise RecoveryError(f"{self.path}: must be a JSON object")
        data.setdefault("subtasks", {})
        data.setdefault("stuck_subtasks", [])
        data.setdefault("metadata", {})
        self._replay(data)
        problem = _shape_problem(data)
        if problem:
            raise RecoveryError(f"{self.path}: {problem}: fix or remove it")
        return data

    def _replay(self, data: dict[str, Any]) -> None:
        """The journal's changes, in order, over ``data`` as the file holds it."""
        try:
            changes = read_journal(self.path, MAX_HISTORY_BYTES)
        except JournalError as exc:
            raise RecoveryError(f"{exc.filename}: {exc.strerror}") from None
        except OSError as exc:
            raise RecoveryError(f"{self.file.journal}: cannot read ({exc.strerror})") from None
        for change in changes:
            apply(data, change)

    def _stamp(self) -> str:
        return self._now().isoformat(timespec="seconds")

    @_one_writer
    def save(self, *changed: Member) -> None:
        """Write the ``changed`` members (none named: all of it, whole)."""
        self.data["metadata"]["last_updated"] = self._stamp()
        real_dir(self.path.parent)
        if not changed:
            self.file.write_whole(self.data)
        else:
            self.file.save(self.data, [*changed, ("metadata", "last_updated")])

    @_one_writer
    def close(self) -> None:
        """The run is over: the file holds every change (for tools that read only it)."""
        if self.file.journal.exists():
            real_dir(self.path.parent)
            self.file.write_whole(self.data)

    @_one_writer
    def record_attempt(
        self,
        subtask_id: str,
        session: int,
        outcome: str,
        error_kind: str | None,
        message: str,
        verification: dict[str, Any] | None = None,
        *,
        profile: str | None = None,
        cost_usd: float | None = None,
        conflict: dict[str, Any] | None = None,
    ) -> None:
        """``verification``: what agent-tui's own run of the subtask's check found;
        ``conflict``: what its merge met (the files)."""
        entry = self.data["subtasks"].setdefault(subtask_id, {"attempts": [], "status": "pending"})
        attempt = {
            "session": session,
            "ts": self._stamp(),
            "outcome": outcome,
            "error_kind": error_kind,
            "message": redact(message),
        }
        if profile is not None:
            attempt["profile"] = profile
        if cost_usd is not None:
            attempt["cost_usd"] = round(cost_usd, 6)
        if verification is not None:
            attempt["verification"] = {
                k: redact(v) if isinstance(v, str) else v for k, v in verification.items()
            }
        if conflict is not None:
            attempt["conflict"] = conflict
        entry["attempts"].append(attempt)
        if outcome != "interrupted":  # stopped by the user: says nothing of the subtask
            entry["status"] = "completed" if outcome == "success" else "failed"
        self.save(("subtasks", subtask_id))

    @_one_writer
    def record_rollback(self, subtask_id: str, session: int, diff: str, commit: str) -> None:
        """A try's changes were undone back to ``commit``; ``diff`` (under the spec dir)
        keeps them.  Kept beside the attempts, so it counts as no attempt of its own."""
        entry = self.data["subtasks"].setdefault(subtask_id, {"attempts": [], "status": "pending"})
        entry.setdefault("rollbacks", []).append(
            {"session": session, "ts": self._stamp(), "diff": diff, "to": commit}
        )
        self.save(("subtasks", subtask_id))

    def rollbacks(self, subtask_id: str) -> list[dict[str, Any]]:
        found = self.data["subtasks"].get(subtask_id, {}).get("rollbacks", [])
        return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []

    @_one_writer
    def set_pending_commit(self, subtask_id: str | None) -> None:
        """The subtask completed but is not committed yet (None: nothing is pending); a run
        that stops before its commit makes it first when it starts again."""
        if subtask_id is None:
            if self.data.pop("pending_commit", None) is not None:
                self.save(("pending_commit",))
            return
        self.data["pending_commit"] = subtask_id
        self.save(("pending_commit",))

    def pending_commit(self) -> str | None:
        value = self.data.get("pending_commit")
        return value if isinstance(value, str) else None

    def queued_merges(self) -> list[dict[str, Any]]:
        """Subtasks whose check passed in their lane, waiting to be merged, in order."""
        found = self.data.get("merge_queue", [])
        return [q for q in found if isinstance(q, dict)] if isinstance(found, list) else []

    @_one_writer
    def queue_merge(self, entry: dict[str, Any]) -> None:
        self.data.setdefault("merge_queue", []).append(entry)
        self.save(("merge_queue",))

    @_one_writer
    def unqueue_merge(self, *subtask_ids: str) -> None:
        """The subtasks left the queue (merged, or sent back), in one write; a merge under
        way of any of them is over."""
        gone = set(subtask_ids)
        queue = self.queued_merges()
        self.data["merge_queue"] = [q for q in queue if q.get("subtask_id") not in gone]
        merging = self.merging()
        if merging is not None and merging.get("subtask_id") in gone:
            self.data.pop("merging", None)
        self.save(("merge_queue",), ("merging",))

    @_one_writer
    def set_merging(self, entry: dict[str, Any] | None) -> None:
        """A merge is under way (from which tip, to which commit): a run killed meanwhile
        undoes it and merges again."""
        if entry is None:
            self.data.pop("merging", None)
        else:
            self.data["merging"] = entry
        self.save(("merging",))

    def merging(self) -> dict[str, Any] | None:
        value = self.data.get("merging")
        return value if isinstance(value, dict) else None

    def attempt_count(self, subtask_id: str, *, interrupted: bool = True) -> int:
        """Sessions recorded for the subtask.  ``interrupted=False`` counts its failed tries:
        not the sessions the user stopped, nor one that completed it, nor one its account
        failed (``NOT_A_TRY``, ``ACCOUNT_ERRORS``), nor those before the user last retried
        it."""
        attempts = self._attempts(subtask_id)
        if interrupted:
            return len(attempts)
        since = self.data["subtasks"].get(subtask_id, {}).get("retried_after", 0)
        since = since if isinstance(since, int) else 0
        return sum(
            1
            for a in attempts[since:]
            if a.get("outcome") not in NOT_A_TRY and a.get("error_kind") not in ACCOUNT_ERRORS
        )

    @_one_writer
    def retry(self, subtask_id: str) -> None:
        """The user wants a stuck subtask tried again: it is not stuck, and its tries start
        afresh (the sessions it had stay recorded)."""
        self.clear_stuck(subtask_id, save=False)
        entry = self.data["subtasks"].setdefault(subtask_id, {"attempts": [], "status": "pending"})
        entry["retried_after"] = len(entry["attempts"])
        entry["status"] = "pending"
        self.save(("subtasks", subtask_id), ("stuck_subtasks",))

    @_one_writer
    def mark_stuck(self, subtask_id: str, reason: str) -> None:
        self.clear_stuck(subtask_id, save=False)
        self.data["stuck_subtasks"].append(
            {
                "subtask_id": subtask_id,
                "reason": redact(reason),
                "escalated_at": self._stamp(),
                "attempt_count": self.attempt_count(subtask_id),
            }
        )
        self.save(("stuck_subtasks",))

    @_one_writer
    def clear_stuck(self, subtask_id: str, *, save: bool = True) -> None:
        stuck = self.data["stuck_subtasks"]
        self.data["stuck_subtasks"] = [s for s in stuck if s.get("subtask_id") != subtask_id]
        if save:
            self.save(("stuck_subtasks",))

    def is_stuck(self, subtask_id: str) -> bool:
        return subtask_id in self.stuck_ids()

    def attempts(self, subtask_id: str) -> list[dict[str, Any]]:
        """The subtask's recorded sessions, oldest first (a copy)."""
        return list(self._attempts(subtask_id))

    def _attempts(self, subtask_id: str) -> list[dict[str, Any]]:
        return self.data["subtasks"].get(subtask_id, {}).get("attempts", [])

    def last_check(self, subtask_id: str) -> dict[str, Any] | None:
        """What the subtask's last verification run found (None: it never had one)."""
        for attempt in reversed(self._attempts(subtask_id)):
            check = attempt.get("verification")
            if isinstance(check, dict):
                return check
        return None

    def stuck_reason(self, subtask_id: str) -> str | None:
        for entry in self.data["stuck_subtasks"]:
            if str(entry.get("subtask_id")) == subtask_id:
                return str(entry.get("reason") or "")
        return None

    def stuck_ids(self) -> set[str]:
        return {str(s.get("subtask_id")) for s in self.data["stuck_subtasks"]}


def _shape_problem(data: dict[str, Any]) -> str | None:
    """What makes ``data`` not an attempt history, or None."""
    subtasks, stuck, metadata = data["subtasks"], data["stuck_subtasks"], data["metadata"]
    if not isinstance(subtasks, dict):
        return "subtasks must be an object of subtask ids"
    if not isinstance(stuck, list) or not all(isinstance(s, dict) for s in stuck):
        return "stuck_subtasks must be a list of objects"
    if not isinstance(metadata, dict):
        return "metadata must be an object"
    for subtask_id, entry in subtasks.items():
        attempts = entry.get("attempts", []) if isinstance(entry, dict) else None
        if not isinstance(attempts, list) or not all(isinstance(a, dict) for a in attempts):
            return f"subtask {subtask_id!r} must hold a list of attempts"
    return None


def _read_unlinked(path: Path) -> str:
    """The file's text; ``LinkRefused`` when it or its directory is a link or not regular."""
    if os.path.islink(path.parent):
        real_dir(path.parent)  # raises: the message names the link
    try:
        data = read_bounded(path, MAX_HISTORY_BYTES, follow_symlinks=False)
    except NotRegularFile:
        raise LinkRefused(f"{path} is not a regular file: move it away") from None
    except OSError:
        if os.path.islink(path):
            raise LinkRefused(
                f"{path} is a symbolic link: agent-tui reads its history only from a real "
                "file; remove the link"
            ) from None
        raise
    return data.decode("utf-8")
