"""Builders for test plans and scripted sessions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def plan_doc(phases: list[tuple[str, list[str], list[str]]]) -> dict[str, Any]:
    """A plan: each phase is (id, depends_on, subtask ids)."""
    return {
        "feature": "integration",
        "workflow_type": "feature",
        "x_custom": {"kept": True},
        "phases": [
            {
                "id": pid,
                "name": f"Phase {pid}",
                "depends_on": deps,
                "subtasks": [
                    {"id": sid, "description": f"make {sid}", "status": "pending"} for sid in ids
                ],
            }
            for pid, deps, ids in phases
        ],
    }


def coder_steps(subtask_id: str) -> list[dict[str, Any]]:
    """A well-behaved session: write a file, read the plan, mark the subtask completed."""
    name = "out_" + subtask_id.replace(".", "_") + ".txt"
    return [
        {
            "text": f"Working on {subtask_id}.",
            "tools": [
                {
                    "name": "Write",
                    "input": {"file_path": "{project}/" + name, "content": subtask_id + "\n"},
                }
            ],
        },
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
        {"text": f"Done with {subtask_id}."},
    ]


def script(subtask_id: str, sessions: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "match": rf"Subtask ID: {subtask_id.replace('.', chr(92) + '.')}\b",
        "sessions": sessions,
    }


def keep_subtasks(plan_path: Path, ids: tuple[str, ...]) -> None:
    """Cut the demo's plan down to the subtasks ``ids`` (and the phases that hold them)."""
    plan = json.loads(plan_path.read_text())
    for phase in plan["phases"]:
        phase["subtasks"] = [s for s in phase["subtasks"] if s["id"] in ids]
    plan["phases"] = [p for p in plan["phases"] if p["subtasks"]]
    kept = [s["id"] for p in plan["phases"] for s in p["subtasks"]]
    assert kept == list(ids), f"the demo plan has no subtask(s) {set(ids) - set(kept)}"
    plan_path.write_text(json.dumps(plan, indent=2))
