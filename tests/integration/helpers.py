"""Builders for test plans and scripted sessions."""

from __future__ import annotations

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
