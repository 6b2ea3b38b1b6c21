"""Load, validate and save the plan; pick the next subtask; count progress.

Errors are ``PlanError`` with one sentence a user can act on: the CLI prints it as is.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from pydantic import ValidationError

from agent_tui.atomic import atomic_write_text
from agent_tui.plan.models import STATUSES, ImplementationPlan, Phase, Subtask

MAX_PLAN_BYTES = 5 * 1024 * 1024


class PlanError(Exception):
    """The plan cannot be used; the message says why in one sentence."""


def load_plan(path: Path | str) -> ImplementationPlan:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise PlanError(f"{path}: no such plan file") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan ({exc.strerror})") from None
    if size > MAX_PLAN_BYTES:
        raise PlanError(f"{path}: the plan is too large ({size} bytes, the limit is 5 MB)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{path}: the plan is not UTF-8 text") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan ({exc.strerror})") from None
    return parse_plan(text, str(path))


def parse_plan(text: str, source: str = "implementation_plan.json") -> ImplementationPlan:
    if not text.strip():
        raise PlanError(f"{source}: the plan file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise PlanError(f"{source}: the plan must be a JSON object, not {type(data).__name__}")
    try:
        plan = ImplementationPlan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(f"{source}: {_describe(exc, data)}") from None
    _check_structure(plan, source)
    return plan


def _describe(exc: ValidationError, data: dict) -> str:
    """The first validation error as words: where it is and what is wrong."""
    error = exc.errors()[0]
    where = []
    loc = list(error["loc"])
    if loc[:1] == ["phases"] and len(loc) > 1 and isinstance(loc[1], int):
        where.append(f"phase {loc[1] + 1}")
        loc = loc[2:]
        if loc[:1] in (["subtasks"], ["chunks"]) and len(loc) > 1 and isinstance(loc[1], int):
            where.append(f"subtask {loc[1] + 1}")
            loc = loc[2:]
    field = ".".join(str(part) for part in loc) or "value"
    if error["type"] == "literal_error" and field == "status":
        problem = f"status {error['input']!r} is not one of {', '.join(STATUSES)}"
    elif error["type"] == "missing":
        problem = f"{field} is missing"
    else:
        problem = f"{field}: {error['msg'].lower()}"
    return ", ".join([*where, problem])


def _check_structure(plan: ImplementationPlan, source: str) -> None:
    phase_ids: set[str] = set()
    for phase in plan.phases:
        if phase.id in phase_ids:
            raise PlanError(f"{source}: phase id {phase.id!r} appears twice")
        phase_ids.add(phase.id)
    subtask_ids: set[str] = set()
    for subtask in plan.subtasks():
        if subtask.id in subtask_ids:
            raise PlanError(f"{source}: subtask id {subtask.id!r} appears twice")
        subtask_ids.add(subtask.id)
    for phase in plan.phases:
        for dep in phase.depends_on:
            if dep not in phase_ids:
                raise PlanError(f"{source}: phase {phase.id!r} depends on unknown phase {dep!r}")
    cycle = _find_cycle(plan)
    if cycle:
        raise PlanError(f"{source}: phases depend on each other in a cycle ({' → '.join(cycle)})")


def _find_cycle(plan: ImplementationPlan) -> list[str] | None:
    deps = {phase.id: phase.depends_on for phase in plan.phases}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in deps.get(node, []):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep] if dep in path else [node, dep]
            if state.get(dep) is None:
                found = visit(dep, [*path, dep])
                if found:
                    return found
        state[node] = 2
        return None

    for phase_id in deps:
        if state.get(phase_id) is None:
            found = visit(phase_id, [phase_id])
            if found:
                return found
    return None


def save_plan(path: Path | str, plan: ImplementationPlan) -> None:
    text = json.dumps(plan.to_json_data(), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def find_subtask(plan: ImplementationPlan, subtask_id: str) -> Subtask | None:
    return next((s for s in plan.subtasks() if s.id == subtask_id), None)


def phase_of(plan: ImplementationPlan, subtask_id: str) -> Phase | None:
    return next((p for p in plan.phases if any(s.id == subtask_id for s in p.subtasks)), None)


def next_subtask(plan: ImplementationPlan, skip: Collection[str] = ()) -> Subtask | None:
    """The first workable subtask of the first phase whose dependencies are complete.

    ``in_progress`` counts as workable: a session that crashed or hit a rate limit must not
    leave its subtask frozen (an upstream bug).  ``skip`` holds stuck subtasks.
    """
    complete = {phase.id for phase in plan.phases if phase.complete}
    for phase in plan.phases:
        if not all(dep in complete for dep in phase.depends_on):
            continue
        for subtask in phase.subtasks:
            if subtask.status in ("pending", "in_progress") and subtask.id not in skip:
                return subtask
    return None


def progress(plan: ImplementationPlan) -> tuple[int, int]:
    subtasks = plan.subtasks()
    return sum(1 for s in subtasks if s.status == "completed"), len(subtasks)


def is_complete(plan: ImplementationPlan) -> bool:
    done, total = progress(plan)
    return total > 0 and done == total


def is_empty(plan: ImplementationPlan) -> bool:
    return not plan.subtasks()


def set_status(plan: ImplementationPlan, subtask_id: str, status: str) -> ImplementationPlan:
    """Set one subtask's status in place and return the plan; KeyError for an unknown id."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    subtask = find_subtask(plan, subtask_id)
    if subtask is None:
        raise KeyError(subtask_id)
    subtask.status = status  # type: ignore[assignment]
    return plan
