"""The plan as the UI shows it: kept apart from the loop so start-up checks can build the
app's first frame without loading the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.plan import ImplementationPlan, progress


def plan_view(plan: ImplementationPlan, spec_dir: Path, history: AttemptHistory) -> ev.PlanLoaded:
    """The plan as the UI shows it, with attempt counts and stuck marks from the history."""
    stuck = history.stuck_ids()
    phases = tuple(
        ev.PhaseView(
            id=phase.id,
            name=phase.name,
            subtasks=tuple(
                ev.SubtaskView(
                    id=s.id,
                    description=s.description,
                    status=s.status,
                    phase_id=phase.id,
                    attempts=history.attempt_count(s.id),
                    stuck=s.id in stuck,
                    verification=_verification(s.status, history.last_check(s.id)),
                )
                for s in phase.subtasks
            ),
        )
        for phase in plan.phases
    )
    done, total = progress(plan)
    return ev.PlanLoaded(
        spec_dir=str(spec_dir),
        feature=plan.feature,
        phases=phases,
        total=total,
        completed=done,
    )


def _verification(status: str, check: dict[str, Any] | None) -> str:
    """A completed subtask is unverified unless agent-tui saw its check pass."""
    outcome = str(check.get("outcome") or "") if check else ""
    if status == "completed" and outcome != CheckOutcome.PASSED:
        return str(CheckOutcome.UNVERIFIED)
    return outcome
