"""Load, validate and save the plan; pick the next subtask; count progress.

Errors are ``PlanError`` with one sentence a user can act on: the CLI prints it as is.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_tui.files import NotRegularFile, TooLarge, atomic_write_text, read_bounded
from agent_tui.plan import jsonspan
from agent_tui.plan.models import STATUSES, ImplementationPlan, Phase, Subtask
from agent_tui.plan.shapes import normalise

MAX_PLAN_BYTES = 5 * 1024 * 1024


class PlanError(Exception):
    """The plan cannot be used; the message says why in one sentence."""


def read_plan_text(path: Path | str) -> str:
    """The plan file's text: a regular file of at most 5 MB, UTF-8 (a leading BOM is fine)."""
    path = Path(path)
    try:
        data = read_bounded(path, MAX_PLAN_BYTES)
    except FileNotFoundError:
        raise PlanError(f"{path}: no such plan file") from None
    except TooLarge:
        raise PlanError(f"{path}: the plan is too large (the limit is 5 MB)") from None
    except NotRegularFile:
        raise PlanError(f"{path}: not a regular file") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan ({exc.strerror})") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise PlanError(f"{path}: the plan is not UTF-8 text") from None


def load_plan(path: Path | str) -> ImplementationPlan:
    return parse_plan(read_plan_text(path), str(path))


def parse_plan(text: str, source: str = "implementation_plan.json") -> ImplementationPlan:
    data = _document(text, source)
    shaped = normalise(data)
    try:
        plan = ImplementationPlan.model_validate(shaped.data)
    except ValidationError as exc:
        raise PlanError(f"{source}: {_describe(exc, shaped.data)}") from None
    _check_structure(plan, source)
    plan._notes = shaped.notes
    plan._paths = shaped.paths
    return plan


def _document(text: str, source: str) -> dict[str, Any]:
    """The JSON object ``text`` holds, or a ``PlanError`` saying why it is not one."""
    if not text.strip():
        raise PlanError(f"{source}: the plan file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise PlanError(f"{source}: not a plan (nested too deeply)") from None
    except ValueError as exc:  # e.g. a number of more digits than Python converts
        raise PlanError(f"{source}: not a plan ({exc})") from None
    if not isinstance(data, dict):
        raise PlanError(f"{source}: the plan must be a JSON object, not {type(data).__name__}")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise PlanError(f"{source}: the plan holds an unpaired surrogate (\\ud800…)") from None
    except (RecursionError, ValueError):
        raise PlanError(f"{source}: not a plan (nested too deeply)") from None
    return data


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
    elif error["type"] in ("model_type", "dict_type"):
        problem = f"{field} must be an object ({{…}}), not {_json_kind(error['input'])}"
        if field.endswith("verification") and isinstance(error["input"], str):
            shown = json.dumps({"type": "command", "command": error["input"]})
            problem += f": for a command to run, {shown}"
    else:
        problem = f"{field}: {error['msg'].lower()}"
    return ", ".join([*where, problem])


def _json_kind(value: object) -> str:
    """What a JSON value is, as its reader calls it."""
    if isinstance(value, bool):
        return "true or false"
    kinds = ((str, "a string"), (int, "a number"), (float, "a number"), (list, "a list"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "null")


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
    """Write ``plan`` in the canonical shape (a new plan; an existing one is changed in place
    with :func:`write_status`, which keeps its shape)."""
    text = json.dumps(plan.to_json_data(), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def status_in_text(
    text: str, subtask_id: str, status: str, plan: ImplementationPlan | None = None
) -> str:
    """``text`` with one subtask's status set, every other byte as it was (``plan``: the
    text already parsed).

    ``KeyError`` when the document has no such subtask (the agent may have renamed it).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    where = (plan or parse_plan(text)).path_of(subtask_id)
    if where is None:
        raise KeyError(subtask_id)
    return jsonspan.replace(text, [*where, "status"], status)


def write_status(path: Path | str, subtask_id: str, status: str) -> ImplementationPlan:
    """Set one subtask's status in the plan file as it is on disk now, atomically; the
    plan as written.  ``PlanError`` if the file is not a plan, ``KeyError`` as above."""
    text = read_plan_text(path)
    parse_plan(text, str(path))  # a corrupt file is reported as such, not as a missing id
    changed = status_in_text(text, subtask_id, status)
    if changed != text:
        atomic_write_text(path, changed)
    return parse_plan(changed, str(path))


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
