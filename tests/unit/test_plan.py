"""Plan models and store: round trips, legacy names, validation sentences, next subtask."""

from __future__ import annotations

import json

import pytest

from agent_tui.plan import (
    PlanError,
    is_complete,
    load_plan,
    next_subtask,
    parse_plan,
    progress,
    save_plan,
    set_status,
)

PLAN = {
    "feature": "f",
    "workflow_type": "feature",
    "created_at": "2026-01-01T00:00:00Z",
    "spec_meta": {"nested": [1, {"deep": True}]},
    "phases": [
        {
            "id": "1",
            "name": "One",
            "depends_on": [],
            "parallel_safe": True,
            "subtasks": [
                {
                    "id": "1.1",
                    "description": "a",
                    "status": "completed",
                    "notes": "kept",
                    "verification": {
                        "type": "command",
                        "command": "true",
                        "expected": "0",
                        "timeout": 30,
                    },
                },
                {"id": "1.2", "description": "b", "status": "pending", "files_to_create": ["x"]},
            ],
        },
        {
            "id": "2",
            "name": "Two",
            "depends_on": ["1"],
            "subtasks": [{"id": "2.1", "description": "c", "status": "pending"}],
        },
    ],
}


def test_round_trip_keeps_unknown_fields_at_every_level(tmp_path):
    path = tmp_path / "implementation_plan.json"
    path.write_text(json.dumps(PLAN))
    save_plan(path, load_plan(path))
    assert json.loads(path.read_text()) == PLAN


def test_status_change_survives_save_and_nothing_else_changes(tmp_path):
    path = tmp_path / "implementation_plan.json"
    path.write_text(json.dumps(PLAN))
    save_plan(path, set_status(load_plan(path), "1.2", "in_progress"))
    saved = json.loads(path.read_text())
    assert saved["phases"][0]["subtasks"][1]["status"] == "in_progress"
    saved["phases"][0]["subtasks"][1]["status"] = "pending"
    assert saved == PLAN


def test_legacy_names_are_read():
    plan = parse_plan(
        json.dumps(
            {
                "phases": [
                    {
                        "id": 1,
                        "name": "P",
                        "chunks": [
                            {"subtask_id": "c1", "title": "legacy title", "status": "pending"}
                        ],
                    },
                    {"id": 2, "depends_on": [1], "chunks": []},
                ]
            }
        )
    )
    subtask = plan.phases[0].subtasks[0]
    assert (subtask.id, subtask.description) == ("c1", "legacy title")
    assert plan.phases[1].depends_on == ["1"] and plan.phases[0].id == "1"


def test_next_subtask_honours_phase_dependencies():
    plan = parse_plan(json.dumps(PLAN))
    assert next_subtask(plan).id == "1.2"
    set_status(plan, "1.2", "completed")
    assert next_subtask(plan).id == "2.1"


def test_a_dependency_with_a_stuck_subtask_blocks_its_dependants():
    plan = parse_plan(json.dumps(PLAN))
    assert next_subtask(plan, skip={"1.2"}) is None


def test_in_progress_left_by_a_crash_is_retried_not_frozen():
    plan = parse_plan(json.dumps(PLAN))
    set_status(plan, "1.2", "in_progress")
    assert next_subtask(plan).id == "1.2"


def test_progress_and_completion():
    plan = parse_plan(json.dumps(PLAN))
    assert progress(plan) == (1, 3)
    assert not is_complete(plan)
    for sid in ("1.2", "2.1"):
        set_status(plan, sid, "completed")
    assert is_complete(plan)
    assert not is_complete(parse_plan('{"phases": []}'))


BAD_PLANS = [
    ("", "the plan file is empty"),
    ("{not json", "not valid JSON (Expecting property name enclosed in double quotes at line 1"),
    ("[1, 2]", "the plan must be a JSON object, not list"),
    (
        '{"phases": [{"id": "1", "subtasks": [{"id": "a", "status": "done"}]}]}',
        "phase 1, subtask 1, status 'done' is not one of pending, in_progress, completed",
    ),
    (
        '{"phases": [{"id": "1", "subtasks": [{"description": "no id"}]}]}',
        "phase 1, subtask 1, id is missing",
    ),
    ('{"phases": [{"id": "1"}, {"id": "1"}]}', "phase id '1' appears twice"),
    (
        '{"phases": [{"id": "1", "subtasks": [{"id": "a"}, {"id": "a"}]}]}',
        "subtask id 'a' appears twice",
    ),
    ('{"phases": [{"id": "1", "depends_on": ["9"]}]}', "depends on unknown phase '9'"),
    (
        '{"phases": [{"id": "1", "depends_on": ["2"]}, {"id": "2", "depends_on": ["1"]}]}',
        "in a cycle (1 → 2 → 1)",
    ),
    ('{"phases": "many"}', "phases: input should be a valid list"),
]


@pytest.mark.parametrize(("text", "message"), BAD_PLANS)
def test_bad_plans_are_one_clear_sentence(text, message):
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.json")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_or_huge_file(tmp_path):
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path / "nope.json")
    huge = tmp_path / "huge.json"
    huge.write_text('{"phases": [], "pad": "' + "x" * (5 * 1024 * 1024) + '"}')
    with pytest.raises(PlanError, match="too large"):
        load_plan(huge)
