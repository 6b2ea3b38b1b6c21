"""The Auto-Claude plan: models and the store that loads, validates and saves it."""

from agent_tui.plan.models import (
    STATUSES,
    ImplementationPlan,
    Phase,
    Subtask,
    SubtaskStatus,
    Verification,
)
from agent_tui.plan.store import (
    PlanError,
    find_subtask,
    is_complete,
    is_empty,
    load_plan,
    next_subtask,
    parse_plan,
    phase_of,
    progress,
    read_plan_text,
    save_plan,
    set_status,
    status_in_text,
    write_status,
)

__all__ = [
    "STATUSES",
    "ImplementationPlan",
    "Phase",
    "PlanError",
    "Subtask",
    "SubtaskStatus",
    "Verification",
    "find_subtask",
    "is_complete",
    "is_empty",
    "load_plan",
    "next_subtask",
    "parse_plan",
    "phase_of",
    "progress",
    "read_plan_text",
    "save_plan",
    "set_status",
    "status_in_text",
    "write_status",
]
