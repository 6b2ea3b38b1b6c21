"""Pydantic models of Auto-Claude's ``implementation_plan.json``, in its canonical shape.

Every model keeps fields it does not know (``extra="allow"``), so nothing other tools wrote
is lost.  The other shapes upstream writes are mapped to this one before validation
(``plan.shapes``).  Ids may be numbers in real files; they are read as strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

SubtaskStatus = Literal["pending", "in_progress", "completed", "blocked", "failed"]
STATUSES: tuple[str, ...] = ("pending", "in_progress", "completed", "blocked", "failed")


def _as_text(value: Any) -> Any:
    if type(value) in (int, float):
        return str(value)
    return value


class _PlanModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Verification(_PlanModel):
    type: str | None = None
    command: str | None = None
    expected: str | None = None


class Subtask(_PlanModel):
    id: str
    description: str = ""
    status: SubtaskStatus = "pending"
    files_to_modify: list[str] = Field(default_factory=list)
    files_to_create: list[str] = Field(default_factory=list)
    verification: Verification | None = None

    _id_text = field_validator("id", mode="before")(_as_text)


class Phase(_PlanModel):
    id: str
    name: str = ""
    depends_on: list[str] = Field(default_factory=list)
    subtasks: list[Subtask] = Field(default_factory=list)

    _id_text = field_validator("id", mode="before")(_as_text)

    @field_validator("depends_on", mode="before")
    @classmethod
    def _deps_text(cls, value: Any) -> Any:
        return [_as_text(v) for v in value] if isinstance(value, list) else value

    @property
    def complete(self) -> bool:
        return all(s.status == "completed" for s in self.subtasks)


class ImplementationPlan(_PlanModel):
    feature: str = ""
    workflow_type: str | None = None
    phases: list[Phase] = Field(default_factory=list)
    _notes: list[str] = PrivateAttr(default_factory=list)
    _paths: dict[str, list[str | int]] = PrivateAttr(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """What was read in another shape than the canonical one (see ``plan.shapes``)."""
        return self._notes

    def path_of(self, subtask_id: str) -> list[str | int] | None:
        """Where the subtask sits in the document the plan was read from."""
        return self._paths.get(subtask_id)

    def subtasks(self) -> list[Subtask]:
        return [s for phase in self.phases for s in phase.subtasks]

    def to_json_data(self) -> dict[str, Any]:
        """The plan as JSON data: canonical names, unknown fields kept, no invented defaults."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)
