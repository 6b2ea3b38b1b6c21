"""Every plan shape upstream's planners write, read as one canonical shape.

Upstream planners name things several ways (``phase_id``, a numeric ``phase``, ``title``,
``subtask_id``, ``chunks``, ``not_started``, a flat ``subtasks`` list, a ``run`` /
``expect_status`` verification).  ``normalise`` maps each to the canonical field, says in a
note what it read differently, and remembers where each subtask sits in the original
document, so a status is written back there and nothing else in the file changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_SYNONYMS = {
    "not_started": "pending",
    "not started": "pending",
    "todo": "pending",
    "backlog": "pending",
    "in-progress": "in_progress",
    "working": "in_progress",
}
"""Statuses upstream writes for work not yet done.  A claim of done work (``done``,
``complete``) is not taken: no session of ours did it, so the plan is refused instead."""


@dataclass
class Normalised:
    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    paths: dict[str, list[str | int]] = field(default_factory=dict)
    """Where each subtask (by its id as text) is in the original document."""

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _text(value: Any) -> Any:
    return str(value) if type(value) in (int, float) else value


def normalise(document: dict[str, Any]) -> Normalised:
    """The canonical form of ``document`` (which is left unchanged)."""
    result = Normalised(data=dict(document))
    phases = document.get("phases")
    if "phases" not in document and isinstance(document.get("subtasks"), list):
        result.note("read a flat subtasks list as one phase")
        flat = {"id": "1", "name": document.get("feature") or "Subtasks"}
        result.data.pop("subtasks")
        result.data["phases"] = [_phase(result, {**flat, "subtasks": document["subtasks"]}, 0, [])]
    elif isinstance(phases, list):
        result.data["phases"] = [
            _phase(result, phase, index, ["phases", index]) if isinstance(phase, dict) else phase
            for index, phase in enumerate(phases)
        ]
    return result


def _phase(
    result: Normalised, phase: dict[str, Any], index: int, at: list[str | int]
) -> dict[str, Any]:
    out = dict(phase)
    if "id" not in out:
        for legacy in ("phase_id", "phase"):
            if legacy in out:
                result.note(f"read {legacy} as the phase id")
                out["id"] = out[legacy]
                break
        else:
            result.note("numbered phases without an id by their position")
            out["id"] = str(index + 1)
    if not out.get("name") and isinstance(out.get("title"), str):
        result.note("read title as the phase name")
        out["name"] = out["title"]
    key = "subtasks"
    if "subtasks" not in out and "chunks" in out:
        result.note("read chunks as subtasks")
        key = "chunks"
        out["subtasks"] = out.pop("chunks")
    if isinstance(out.get("subtasks"), list):
        out["subtasks"] = [
            _subtask(result, subtask, [*at, key, i]) if isinstance(subtask, dict) else subtask
            for i, subtask in enumerate(out["subtasks"])
        ]
    return out


def _subtask(result: Normalised, subtask: dict[str, Any], at: list[str | int]) -> dict[str, Any]:
    out = dict(subtask)
    if "id" not in out and "subtask_id" in out:
        result.note("read subtask_id as the subtask id")
        out["id"] = out["subtask_id"]
    if not out.get("description") and isinstance(out.get("title"), str):
        result.note("read title as the subtask description")
        out["description"] = out["title"]
    status = out.get("status")
    if isinstance(status, str) and status.lower() in STATUS_SYNONYMS:
        result.note(f"read status {status!r} as {STATUS_SYNONYMS[status.lower()]}")
        out["status"] = STATUS_SYNONYMS[status.lower()]
    verification = out.get("verification")
    if isinstance(verification, dict) and "command" not in verification and "run" in verification:
        result.note("read a run / expect_status verification as a command")
        check = dict(verification)
        check.setdefault("type", "command")
        check["command"] = check["run"]
        if "expect_status" in check:
            check["expected"] = f"exit {check['expect_status']}"
        out["verification"] = check
    if "id" in out:
        result.paths[str(_text(out["id"]))] = at
    return out
