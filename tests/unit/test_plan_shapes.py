"""Every plan shape upstream planners write is read, and the notes say how."""

from __future__ import annotations

import json

import pytest

from agent_tui.plan import next_subtask, parse_plan, status_in_text

UPSTREAM = {
    "phase_id and title": (
        {
            "phases": [
                {
                    "phase_id": "1",
                    "title": "Setup",
                    "subtasks": [{"subtask_id": "1.1", "title": "Init", "status": "not_started"}],
                }
            ]
        },
        [
            "read phase_id as the phase id",
            "read title as the phase name",
            "read subtask_id as the subtask id",
            "read title as the subtask description",
            "read status 'not_started' as pending",
        ],
    ),
    "numeric phase, empty description, mixed depends_on": (
        {
            "phases": [
                {
                    "phase": 1,
                    "name": "A",
                    "subtasks": [{"id": "a", "description": "", "title": "T"}],
                },
                {"phase": 2, "name": "B", "depends_on": [1, "1"], "subtasks": [{"id": "b"}]},
            ]
        },
        ["read phase as the phase id", "read title as the subtask description"],
    ),
    "a flat list": (
        {"feature": "flat", "subtasks": [{"id": "x", "description": "do x", "status": "pending"}]},
        ["read a flat subtasks list as one phase"],
    ),
    "run / expect_status": (
        {
            "phases": [
                {
                    "id": "1",
                    "subtasks": [
                        {
                            "id": "v",
                            "description": "d",
                            "verification": {"run": "pytest", "expect_status": 0},
                        }
                    ],
                }
            ]
        },
        ["read a run / expect_status verification as a command"],
    ),
}


@pytest.mark.parametrize("name", list(UPSTREAM))
def test_an_upstream_shape_is_read_and_said_so(name):
    document, notes = UPSTREAM[name]
    plan = parse_plan(json.dumps(document))
    assert plan.notes == notes
    first = next_subtask(plan)
    assert first is not None and first.status == "pending"
    assert first.description  # never empty when a title says what it is


def test_the_shapes_mean_what_upstream_means():
    plan = parse_plan(json.dumps(UPSTREAM["phase_id and title"][0]))
    phase, subtask = plan.phases[0], plan.phases[0].subtasks[0]
    assert (phase.id, phase.name, subtask.id, subtask.description) == ("1", "Setup", "1.1", "Init")
    numeric = parse_plan(
        json.dumps(UPSTREAM["numeric phase, empty description, mixed depends_on"][0])
    )
    assert [p.id for p in numeric.phases] == ["1", "2"]
    assert numeric.phases[1].depends_on == ["1", "1"]
    flat = parse_plan(json.dumps(UPSTREAM["a flat list"][0]))
    assert [(p.name, [s.id for s in p.subtasks]) for p in flat.phases] == [("flat", ["x"])]
    check = parse_plan(json.dumps(UPSTREAM["run / expect_status"][0])).phases[0].subtasks[0]
    assert (check.verification.type, check.verification.command) == ("command", "pytest")
    assert check.verification.expected == "exit 0"


@pytest.mark.parametrize("name", list(UPSTREAM))
def test_a_status_is_written_back_into_the_shape_it_came_in(name):
    document, _ = UPSTREAM[name]
    text = json.dumps(document, indent=2)
    subtask_id = next_subtask(parse_plan(text)).id
    changed = json.loads(status_in_text(text, subtask_id, "in_progress"))
    before = json.loads(text)
    holder = before["subtasks"] if "subtasks" in before else before["phases"][0]["subtasks"]
    holder[0]["status"] = "in_progress"
    assert changed == before  # the same keys and names, only that status set


def test_a_canonical_plan_has_no_notes():
    plan = parse_plan(json.dumps({"phases": [{"id": "1", "subtasks": [{"id": "a"}]}]}))
    assert plan.notes == []
