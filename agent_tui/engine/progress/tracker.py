"""The plan as the loop knows it; the file on disk is the truth.

The user edits the plan (while paused, between sessions, during a backoff) and so does the
agent (during its session).  So the tracker re-reads the file whenever it has changed,
before every decision, and records a status by changing that one value in the file as it is
on disk now: every other byte, and everything anyone else wrote, stays.  A file that stops
being a valid plan is set aside and the last good text put back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent_tui.engine.events import core as ev
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.progress.views import plan_view
from agent_tui.files import atomic_write_text
from agent_tui.plan import (
    ImplementationPlan,
    PlanError,
    is_empty,
    jsonspan,
    parse_plan,
    read_plan_text,
    status_in_text,
)

Signature = tuple[int, int, int]


@dataclass
class Refresh:
    """What changed on disk since the plan was last read."""

    warning: ev.PlanWarning | None = None
    statuses: list[tuple[str, str]] = field(default_factory=list)
    previous: dict[str, str] = field(default_factory=dict)
    """What each subtask in ``statuses`` was before (none: it is new in the plan)."""
    view: ev.PlanLoaded | None = None
    """The plan's new view when more than statuses changed (a description, a subtask)."""
    notes: list[str] = field(default_factory=list)


def _outline(plan: ImplementationPlan | None) -> object:
    """Everything the tree shows but the statuses."""
    if plan is None:
        return None
    return (
        plan.feature,
        tuple(
            (p.id, p.name, tuple((s.id, s.description) for s in p.subtasks)) for p in plan.phases
        ),
    )


class PlanTracker:
    def __init__(self, path: Path, spec_dir: Path, history: AttemptHistory) -> None:
        self.path = path
        self.spec_dir = spec_dir
        self.history = history
        self.plan: ImplementationPlan | None = None
        self._text: str | None = None
        """The last text that was a valid plan: what a corrupt file is replaced with."""
        self._signature: Signature | None = None
        self._adopted = 0
        """Texts taken so far: a re-read that finds another taken meanwhile is dropped."""
        self._shown: dict[str, tuple[str, int]] = {}
        self._notes_shown: set[str] = set()
        self.writing = asyncio.Lock()
        """Held from the read to the write of a change to the plan's file, by this tracker
        and by each lane's spec sync: two changes at once (the retry key's and the loop's, a
        merge's status and a lane's pulled claim) would each write the text without the
        other's."""
        self._being_written: str | None = None
        """A text agent-tui is writing now: a re-read that finds it meanwhile (another lane's
        sync) takes it as read, not as someone's edit."""

    def _stat(self) -> Signature | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _adopt(self, text: str, plan: ImplementationPlan) -> None:
        self.plan, self._text, self._signature = plan, text, self._stat()
        self._adopted += 1

    def load_existing(self) -> ImplementationPlan | None:
        """The plan on disk, or None when there is none yet (or it has no subtasks)."""
        if not self.path.exists():
            return None
        text = read_plan_text(self.path)
        plan = parse_plan(text, str(self.path))
        if is_empty(plan):
            return None
        self._adopt(text, plan)
        return plan

    def adopt_file(self) -> ImplementationPlan:
        """Take the plan a planner session has just written (``PlanError`` if it is none)."""
        text = read_plan_text(self.path)
        plan = parse_plan(text, str(self.path))
        if is_empty(plan):
            raise PlanError(f"{self.path.name}: the plan has no subtasks")
        self._adopt(text, plan)
        return plan

    def view(self) -> ev.PlanLoaded:
        assert self.plan is not None
        return plan_view(self.plan, self.spec_dir, self.history)

    def new_notes(self) -> list[str]:
        """What the plan was read as, not said before (see ``plan.shapes``)."""
        notes = [n for n in (self.plan.notes if self.plan else []) if n not in self._notes_shown]
        self._notes_shown.update(notes)
        return notes

    async def refresh(self) -> Refresh:
        """Read the file again if it changed since it was last read (the reading and
        parsing run off the event loop: a plan can be large)."""
        if self.plan is None or self._stat() == self._signature:
            return Refresh()
        adopted = self._adopted
        try:
            text, plan = await asyncio.to_thread(_read_parsed, self.path)
        except PlanError as exc:
            return Refresh(warning=self._set_aside(exc))
        if self._adopted != adopted:
            return Refresh()  # a newer text was taken meanwhile (and what it changed shown)
        if text == self._being_written:
            return Refresh()  # our own write, still being made: its statuses are shown by it
        old = self.plan
        self._adopt(text, plan)
        before = {s.id: s.status for s in old.subtasks()}
        statuses = [(s.id, s.status) for s in plan.subtasks() if before.get(s.id) != s.status]
        previous = {i: before[i] for i, _ in statuses if i in before}
        view = self.view() if _outline(plan) != _outline(old) else None
        return Refresh(statuses=statuses, previous=previous, view=view, notes=self.new_notes())

    def _set_aside(self, error: PlanError) -> ev.PlanWarning:
        """Move a corrupt plan aside (never over an earlier one) and put the last good back."""
        assert self._text is not None and self.plan is not None
        stamp = int(time.time())
        corrupt = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        number = 1
        while corrupt.exists():
            number += 1
            corrupt = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{number}")
        with contextlib.suppress(OSError):
            os.replace(self.path, corrupt)
        atomic_write_text(self.path, self._text)
        self._adopt(self._text, self.plan)
        return ev.PlanWarning(
            message=f"{error}; kept the last good plan, the bad one is {corrupt.name}"
        )

    async def set_status(self, subtask_id: str, status: str) -> Refresh:
        """Record one status in the file as it is now; the fsync runs off the event loop.

        What the re-read found (edits since the last read, a corrupt file set aside) is
        returned; a subtask no longer in the plan is left alone.
        """
        async with self.writing:
            found = await self.refresh()
            assert self._text is not None
            try:
                changed = await asyncio.to_thread(
                    status_in_text, self._text, subtask_id, status, self.plan
                )
            except KeyError:
                return found
            await self._write(changed)
            return found

    async def set_value(self, path: list[str | int], value: object) -> Refresh:
        """Set one value at ``path`` (a missing last key is added), as ``set_status`` does;
        a path the document does not have is left alone."""
        async with self.writing:
            found = await self.refresh()
            assert self._text is not None
            try:
                changed = await asyncio.to_thread(jsonspan.replace, self._text, path, value)
            except KeyError:
                return found
            await self._write(changed)
            return found

    def checks(self) -> dict[str, object]:
        """Each subtask's ``verification`` as the plan's text has it now (its JSON value;
        subtasks without one are left out): what a session is measured against."""
        if self.plan is None or self._text is None:
            return {}
        return _checks(self._text, self.plan)

    async def put_back_checks(
        self, before: dict[str, object]
    ) -> tuple[Refresh, list[str], list[str]]:
        """Set each check in ``before`` that is no longer as it was back in the file, every
        other byte as it is: what the re-read found, the ids whose check was put back, and
        the ids no longer in the plan.

        The one checked must not choose its check: a session that rewrites its own (or an
        earlier subtask's) verification to something that passes proves nothing.  Checks
        are compared as JSON (``0`` and ``false`` differ); a check added where there was
        none stays; a subtask gone from the plan cannot be put back: its id is returned."""
        async with self.writing:
            found = await self.refresh()
            if self.plan is None or self._text is None:
                return found, [], []
            now = _checks(self._text, self.plan)
            text, put_back, gone = self._text, [], []
            for subtask_id, check in before.items():
                where = self.plan.path_of(subtask_id)
                if where is None:
                    gone.append(subtask_id)
                    continue
                if subtask_id in now and _same(now[subtask_id], check):
                    continue
                try:
                    text = jsonspan.replace(text, [*where, "verification"], check)
                except KeyError:
                    continue
                put_back.append(subtask_id)
            await self._write(text)
            return found, put_back, gone

    async def _write(self, changed: str) -> None:
        if changed != self._text:
            self._being_written = changed
            try:
                await asyncio.to_thread(atomic_write_text, self.path, changed)
                plan = await asyncio.to_thread(parse_plan, changed, str(self.path))
                self._adopt(changed, plan)
            finally:
                self._being_written = None

    def status_event(self, subtask_id: str, status: str, attempts: int) -> ev.SubtaskStatus | None:
        """The event for a subtask's status, or None when the UI already shows exactly that."""
        shown = (status, attempts)
        if self._shown.get(subtask_id) == shown:
            return None
        self._shown[subtask_id] = shown
        return ev.SubtaskStatus(id=subtask_id, status=status, attempts=attempts)


def _same(one: object, other: object) -> bool:
    """Equal as JSON: Python's ``==`` takes ``0``, ``0.0`` and ``false`` for one another."""
    return json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)


def _checks(text: str, plan: ImplementationPlan) -> dict[str, object]:
    document = json.loads(text)
    found: dict[str, object] = {}
    for subtask in plan.subtasks():
        where = plan.path_of(subtask.id)
        if where is None:
            continue
        node: object = document
        for step in where:
            node = node[step]  # type: ignore[index]
        if isinstance(node, dict) and "verification" in node:
            found[subtask.id] = node["verification"]
    return found


def _read_parsed(path: Path) -> tuple[str, ImplementationPlan]:
    text = read_plan_text(path)
    return text, parse_plan(text, str(path))
