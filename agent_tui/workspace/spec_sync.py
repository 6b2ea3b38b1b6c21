"""The spec dir in two places: the user's, and the copy the agent edits in its worktree.

The direction of truth:

- The user's spec dir is the truth.  The user reads and edits the plan there (and the app,
  ``PAUSE`` and ``HUMAN_INPUT.md`` live there); agent-tui writes its statuses, transcripts
  and history there, out of the agent's reach.
- ``push`` (as a run opens its workspace, and before every session) makes the worktree's
  copy what the user's is now.  Files the user deleted go from the copy too, unless the
  agent has changed them since.
- ``pull`` (after every session, after each tool result, before every decision) brings back
  what the agent changed in its copy since the last push or pull, of the spec files
  agent-tui knows (``SYNCED_BACK``, by their exact names, at the top of the spec dir) and
  nothing else: not a ``.git`` (the user's git would run its config), not a folder, not a
  file of another name (on a case-insensitive disk ``pause`` is the user's ``PAUSE``).
  What is left in the copy is named in a note once.  A file the user did not
  change meanwhile is taken as the agent left it.  When both changed it: for the plan, the
  user's text is kept and the agent's status changes are set in it (a status is what the
  agent is asked to change); any other file stays as the user has it, and the agent's version
  is kept under the user's ``logs/`` (the next push overwrites the worktree's copy), said in
  a note.  The agent deleting a file deletes nothing here.
- agent-tui's own records (``logs/``, ``memory/``, the lock) and the user's controls
  (``PAUSE``, ``HUMAN_INPUT.md``) are never copied either way.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent_tui.files import TooLarge
from agent_tui.plan import ImplementationPlan, PlanError, Subtask, parse_plan, status_in_text
from agent_tui.workspace import safe_tree

PLAN_NAME = "implementation_plan.json"
NOT_SYNCED = frozenset({"logs", "memory", ".agent-tui.lock", "PAUSE", "HUMAN_INPUT.md"})
"""Never copied into the agent's copy either."""
SYNCED_BACK = (
    PLAN_NAME,
    "spec.md",
    "requirements.json",
    "context.json",
    "complexity_assessment.json",
    "project_index.json",
    "build-progress.txt",
    "qa_report.md",
    "QA_FIX_REQUEST.md",
)
"""What a session may write in its spec copy that comes back to the user's spec dir."""
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FILES = 2000
_TEMP = re.compile(r"^\..+\.tmp$|\.tmp\.\d+\.[0-9a-f]+$|\.corrupt-\d+(-\d+)?$")
"""An atomic write's temp file (agent-tui's ``.NAME.…tmp``, the CLI's ``NAME.tmp.PID.HEX``),
or a plan set aside as corrupt: no spec content."""


@dataclass(frozen=True)
class Tree:
    """A directory under a root, reached without following a link on the way down."""

    root: Path
    parts: tuple[str, ...] = ()

    def rel(self, name: str) -> str:
        return "/".join((*self.parts, name))

    @property
    def path(self) -> Path:
        return self.root.joinpath(*self.parts)

    def files(self) -> tuple[list[str], list[str]]:
        files, refused = safe_tree.walk(self.root, self.parts, NOT_SYNCED, MAX_FILES)
        return [f for f in files if not _TEMP.search(f.rsplit("/", 1)[-1])], refused

    def top(self) -> list[str]:
        """The names at the top of the tree (a folder's with a ``/``), links and all."""
        with safe_tree.opened_dir(self.root, self.parts) as fd:
            entries = sorted(os.scandir(fd), key=lambda e: e.name)
        names = []
        for entry in entries[:MAX_FILES]:
            folder = entry.is_dir(follow_symlinks=False)
            names.append(entry.name + ("/" if folder else ""))
        return names

    def read(self, name: str) -> bytes | None:
        return safe_tree.read(self.root, self.rel(name), MAX_FILE_BYTES)

    def write(self, name: str, data: bytes) -> None:
        safe_tree.write(self.root, self.rel(name), data)

    def remove(self, name: str) -> None:
        safe_tree.remove(self.root, self.rel(name))


@dataclass
class SpecMirror:
    user: Tree
    agent: Tree
    base: dict[str, bytes] = field(default_factory=dict)
    """Each file as the two sides last agreed on it: what a change is measured against."""
    left: set[str] = field(default_factory=set)
    """What of the agent's copy a note has named as not synced back."""

    def push(self) -> list[str]:
        """Make the agent's copy the user's spec dir as it is now; notes on what was not."""
        notes: list[str] = []
        files, refused = self._files(self.user, notes)
        notes += [f"{name}: a link or special file in the spec dir: not copied" for name in refused]
        for name in files:
            data = self._read(self.user, name, notes)
            if data is None:
                continue
            if self._read(self.agent, name, notes) != data:
                self._write(self.agent, name, data, notes)
            self.base[name] = data
        for name in [n for n in self.base if n not in files]:
            if self._read(self.agent, name, []) == self.base[name]:
                self._remove(self.agent, name, notes)
            del self.base[name]
        return notes

    def pull(self, keep_as: str | Callable[[], str] = "agent") -> tuple[list[str], list[str]]:
        """Bring back what the agent changed in its copy: (names taken, notes).  The agent's
        version of a file both sides changed is kept as ``logs/<keep_as>/<name>`` in the
        user's spec dir (``keep_as`` is asked only then, when it is a function)."""
        notes: list[str] = []
        taken: list[str] = []
        files = self._known(notes)
        for name in files:
            data = self._read(self.agent, name, notes)
            if data is None or self.base.get(name) == data:
                continue
            mine = self._read(self.user, name, notes)
            touched = _checks_touched(mine, data) if name == PLAN_NAME and mine else []
            if touched:  # the agent's copy changed or dropped a check: the user's stands
                merged, _ = merge_plan(self.base.get(name), data, mine)  # type: ignore[arg-type]
                said = ", ".join(touched)
                notes.append(
                    f"the agent changed or removed the check of {said} in its copy of the "
                    "plan: kept yours, with its status changes"
                )
                wrote = merged is not None and merged != mine
                if wrote and self._write(self.user, name, merged, notes):  # type: ignore[arg-type]
                    taken.append(name)
            elif mine is None or mine == self.base.get(name) or mine == data:
                if mine != data and self._write(self.user, name, data, notes):
                    taken.append(name)
            elif name == PLAN_NAME:
                merged, note = merge_plan(self.base.get(name), data, mine)
                if note:
                    notes.append(note)
                if (
                    merged is not None
                    and merged != mine
                    and self._write(self.user, name, merged, notes)
                ):
                    taken.append(name)
            else:
                kept = keep_as() if callable(keep_as) else keep_as
                notes.append(self._keep_agents(name, data, kept))
            self.base[name] = data
        return taken, notes

    def _keep_agents(self, name: str, data: bytes, keep_as: str) -> str:
        """Keep the agent's version of a file both sides changed out of the push's way (it
        makes the worktree's copy the user's); the note that says where."""
        rel = f"logs/{keep_as}/{name}"
        problems: list[str] = []
        said = f"{name} was changed both here and by the agent: kept yours"
        if not self._write(self.user, rel, data, problems):
            return f"{said}; the agent's was not kept: {problems[0]}"
        return f"{said}; the agent's is in {self.user.path / rel}"

    def _known(self, notes: list[str]) -> list[str]:
        """The agent's copy's files that may come back; a note naming the rest, once."""
        try:
            names = self.agent.top()
        except FileNotFoundError:
            return []
        except OSError as exc:
            notes.append(f"{self.agent.path} cannot be read: {_reason(exc)}")
            return []
        known = [name for name in names if name in SYNCED_BACK]
        folders = {name.split("/", 1)[0] + "/" for name in self.base if "/" in name}
        new = [
            name for name in names
            if name not in SYNCED_BACK and name not in self.left and name not in folders
            and not _TEMP.search(name.rstrip("/")) and not self._as_pushed(name)
        ]  # fmt: skip
        if new:
            self.left.update(new)
            notes.append(
                "not synced back from the agent's spec copy (only the spec files agent-tui "
                f"knows are): {', '.join(new)}"
            )
        return known

    def _as_pushed(self, name: str) -> bool:
        """A file of the user's the push put in the copy, as it was put there."""
        return name in self.base and self._read(self.agent, name, []) == self.base[name]

    def _files(self, tree: Tree, notes: list[str]) -> tuple[list[str], list[str]]:
        try:
            return tree.files()
        except FileNotFoundError:
            return [], []
        except OSError as exc:
            notes.append(f"{tree.path} cannot be read: {_reason(exc)}")
            return [], []

    def _read(self, tree: Tree, name: str, notes: list[str]) -> bytes | None:
        try:
            return tree.read(name)
        except (OSError, TooLarge) as exc:
            notes.append(f"{name} not synced: {_reason(exc)}")
            return None

    def _write(self, tree: Tree, name: str, data: bytes, notes: list[str]) -> bool:
        try:
            tree.write(name, data)
        except OSError as exc:
            notes.append(f"{name} not synced: {_reason(exc)}")
            return False
        return True

    def _remove(self, tree: Tree, name: str, notes: list[str]) -> None:
        try:
            tree.remove(name)
        except OSError as exc:
            notes.append(f"{name} not removed from the worktree: {_reason(exc)}")


def merge_plan(base: bytes | None, agent: bytes, user: bytes) -> tuple[bytes | None, str]:
    """The user's plan with the statuses the agent changed since ``base`` set in it, and a
    note saying so ("" when only statuses changed on the user's side: those are agent-tui's
    own records, as other lanes' subtasks move); None when the agent's plan cannot be read
    (the user's stays)."""
    try:
        theirs = _parsed(agent)
        before = _parsed(base) if base is not None else None
        text = user.decode("utf-8")
        yours = _parsed(user)
    except (PlanError, UnicodeDecodeError):
        return None, (
            "the plan was changed both here and by the agent, and one of them is not a plan: "
            "kept yours"
        )
    old = {s.id: s.status for s in before.subtasks()} if before is not None else {}
    changes = [(s.id, s.status) for s in theirs.subtasks() if old.get(s.id) != s.status]
    applied = []
    for subtask_id, status in changes:
        try:
            text = status_in_text(text, subtask_id, status)
        except (KeyError, ValueError):
            continue
        applied.append(f"{subtask_id} → {status}")
    if before is not None and _without_statuses(yours) == _without_statuses(before):
        return text.encode("utf-8"), ""  # only statuses moved here: agent-tui's own records
    said = ", ".join(applied) if applied else "none"
    note = (
        "the plan was changed both here and by the agent: kept yours, with the agent's "
        f"status changes ({said})"
    )
    return text.encode("utf-8"), note


def _checks_touched(user: bytes, agent: bytes) -> list[str]:
    """The subtasks of the user's plan whose check the agent's plan changed or dropped
    (with the subtask, or renamed); none when either is not a plan (that is said apart).
    The agent does not choose what proves its work: its copy's checks never come back."""
    try:
        yours, theirs = _parsed(user), _parsed(agent)
    except (PlanError, UnicodeDecodeError):
        return []
    kept = {s.id: _check_json(s) for s in theirs.subtasks()}
    return [
        s.id
        for s in yours.subtasks()
        if s.verification is not None and kept.get(s.id) != _check_json(s)
    ]


def _check_json(subtask: Subtask) -> str | None:
    check = subtask.verification
    if check is None:
        return None
    return json.dumps(check.model_dump(mode="json", by_alias=True), sort_keys=True)


CACHED_PLAN_BYTES = 1024 * 1024
"""A plan up to this size is kept parsed for the next sync (eight at most)."""


def _parsed(data: bytes) -> ImplementationPlan:
    """A plan's bytes parsed, kept for the next sync when small: with lanes both sides
    change at every tool result, and most of the three plans merged are the ones merged
    last time.  Only read, never changed."""
    if len(data) > CACHED_PLAN_BYTES:
        return parse_plan(data.decode("utf-8"))
    return _parsed_small(data)


@functools.lru_cache(maxsize=8)
def _parsed_small(data: bytes) -> ImplementationPlan:
    return parse_plan(data.decode("utf-8"))


def _without_statuses(plan: ImplementationPlan) -> object:
    data = plan.to_json_data()
    for phase in data.get("phases", []):
        for subtask in phase.get("subtasks", []):
            subtask.pop("status", None)
    return data


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
