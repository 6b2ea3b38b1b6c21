"""The spec dir in two places: who wins, what is never copied, and no link is followed."""

from __future__ import annotations

import json
import os

import pytest

from agent_tui.workspace.spec_sync import SpecMirror, Tree, merge_plan

PLAN = {
    "feature": "f",
    "phases": [
        {
            "id": "1",
            "name": "one",
            "subtasks": [
                {"id": "1.1", "description": "a", "status": "pending"},
                {"id": "1.2", "description": "b", "status": "pending"},
            ],
        }
    ],
}


def plan_text(statuses: dict[str, str] | None = None, **top) -> str:
    plan = json.loads(json.dumps(PLAN))
    plan.update(top)
    for subtask in plan["phases"][0]["subtasks"]:
        subtask["status"] = (statuses or {}).get(subtask["id"], subtask["status"])
    return json.dumps(plan, indent=2) + "\n"


@pytest.fixture
def mirror(tmp_path):
    user = tmp_path / "project" / ".auto-claude" / "specs" / "001"
    user.mkdir(parents=True)
    (user / "spec.md").write_text("# spec\n")
    (user / "implementation_plan.json").write_text(plan_text())
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    return SpecMirror(Tree(user), Tree(worktree, (".auto-claude", "specs", "001")))


def agent_dir(mirror: SpecMirror):
    return mirror.agent.path


def test_push_copies_the_spec_but_not_agent_tuis_records_or_the_users_controls(mirror):
    user = mirror.user.path
    for name in ("logs/session-001.jsonl", "memory/attempt_history.json"):
        (user / name).parent.mkdir(exist_ok=True)
        (user / name).write_text("{}\n")
    (user / "PAUSE").write_text("")
    (user / "HUMAN_INPUT.md").write_text("a note\n")
    (user / "notes" / "deep").mkdir(parents=True)
    (user / "notes" / "deep" / "context.md").write_text("context\n")
    assert mirror.push() == []
    copied = sorted(str(p.relative_to(agent_dir(mirror))) for p in agent_dir(mirror).rglob("*"))
    assert copied == [
        "implementation_plan.json",
        "notes",
        "notes/deep",
        "notes/deep/context.md",
        "spec.md",
    ]


def test_the_agents_edit_comes_back_when_the_user_changed_nothing(mirror):
    mirror.push()
    (agent_dir(mirror) / "implementation_plan.json").write_text(plan_text({"1.1": "completed"}))
    (agent_dir(mirror) / "qa_report.md").write_text("approved\n")
    taken, notes = mirror.pull()
    assert sorted(taken) == ["implementation_plan.json", "qa_report.md"] and notes == []
    user = mirror.user.path
    assert json.loads((user / "implementation_plan.json").read_text()) == json.loads(
        plan_text({"1.1": "completed"})
    )
    assert (user / "qa_report.md").read_text() == "approved\n"
    assert mirror.pull() == ([], [])  # taken once


def test_only_the_spec_files_agent_tui_knows_come_back_and_the_rest_is_named_once(mirror):
    mirror.push()
    agent = agent_dir(mirror)
    (agent / ".git" / "hooks").mkdir(parents=True)
    (agent / ".git" / "config").write_text("[core]\n\tfsmonitor = touch /tmp/pwned\n")
    (agent / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (agent / "findings.md").write_text("what I learnt\n")
    (agent / "pause").write_text("")  # the user's PAUSE, on a case-insensitive disk
    (agent / "Spec.md").write_text("# the agent's spec\n")
    (agent / "deep" / "spec.md").parent.mkdir()
    (agent / "deep" / "spec.md").write_text("# deeper\n")
    (agent / "spec.md").write_text("# the agent's edit\n")
    taken, notes = mirror.pull()
    assert taken == ["spec.md"]
    assert notes == [
        "not synced back from the agent's spec copy (only the spec files agent-tui knows "
        "are): .git/, Spec.md, deep/, findings.md, pause"
    ]
    user = mirror.user.path
    assert sorted(p.name for p in user.iterdir()) == ["implementation_plan.json", "spec.md"]
    (agent / "findings.md").write_text("more\n")
    (agent / "other.md").write_text("new\n")
    (agent / "implementation_plan.json.tmp.22755.dca37c64fdcc").write_text("{")  # the CLI's
    assert mirror.pull()[1] == [
        "not synced back from the agent's spec copy (only the spec files agent-tui knows "
        "are): other.md"
    ]
    assert mirror.pull() == ([], [])


def test_both_changed_the_plan_the_users_text_wins_with_the_agents_statuses(mirror):
    mirror.push()
    (agent_dir(mirror) / "implementation_plan.json").write_text(
        plan_text({"1.1": "completed"}, feature="the agent renamed it")
    )
    users = plan_text(x_user_field="mine")
    (mirror.user.path / "implementation_plan.json").write_text(users)
    taken, notes = mirror.pull()
    kept = json.loads((mirror.user.path / "implementation_plan.json").read_text())
    assert kept["x_user_field"] == "mine" and kept["feature"] == "f"
    assert [s["status"] for s in kept["phases"][0]["subtasks"]] == ["completed", "pending"]
    assert taken == ["implementation_plan.json"]
    assert notes == [
        "the plan was changed both here and by the agent: kept yours, with the agent's status "
        "changes (1.1 → completed)"
    ]


@pytest.mark.parametrize("how", ["weakened", "as false", "dropped", "renamed"])
def test_the_agents_copy_never_brings_back_a_check(mirror, how):
    check = {"type": "command", "command": "pytest -q", "expected": "exit 0", "expect_status": 0}
    plan = json.loads(plan_text())
    plan["phases"][0]["subtasks"][0]["verification"] = check
    users = json.dumps(plan, indent=2) + "\n"
    (mirror.user.path / "implementation_plan.json").write_text(users)
    mirror.push()
    theirs = json.loads(users)
    first = theirs["phases"][0]["subtasks"][0]
    first["status"] = "completed"
    if how == "weakened":
        first["verification"] = {"type": "command", "command": "true"}
    elif how == "as false":  # equal to 0 in Python, not as JSON
        first["verification"] = {**check, "expect_status": False}
    elif how == "dropped":
        del first["verification"]
    else:
        first["id"] = "1.1a"
    theirs["phases"][0]["subtasks"][1]["description"] = "the agent's words"
    (agent_dir(mirror) / "implementation_plan.json").write_text(json.dumps(theirs))
    taken, notes = mirror.pull()

    assert taken == ([] if how == "renamed" else ["implementation_plan.json"])  # no status
    kept = json.loads((mirror.user.path / "implementation_plan.json").read_text())
    assert json.dumps(kept["phases"][0]["subtasks"][0]["verification"]) == json.dumps(check)
    assert kept["phases"][0]["subtasks"][1]["description"] == "b"  # the user's plan stands
    status = "pending" if how == "renamed" else "completed"  # its status changes are taken
    assert kept["phases"][0]["subtasks"][0]["status"] == status
    assert notes == [
        "the agent changed or removed the check of 1.1 in its copy of the plan: kept yours, "
        "with its status changes"
    ]


def test_both_changed_another_file_the_users_stays_and_the_agents_is_kept_in_logs(mirror):
    mirror.push()
    (agent_dir(mirror) / "spec.md").write_text("# the agent's\n")
    (mirror.user.path / "spec.md").write_text("# the user's\n")
    taken, notes = mirror.pull("session-004.agent")
    assert taken == [] and (mirror.user.path / "spec.md").read_text() == "# the user's\n"
    kept = mirror.user.path / "logs" / "session-004.agent"
    assert (kept / "spec.md").read_text() == "# the agent's\n"
    said = "spec.md was changed both here and by the agent: kept yours; the agent's is in"
    assert notes == [f"{said} {kept / 'spec.md'}"]
    mirror.push()  # the next session sees the user's; the agent's stays where the note says
    assert (agent_dir(mirror) / "spec.md").read_text() == "# the user's\n"
    assert (kept / "spec.md").read_text() == "# the agent's\n"
    assert not (agent_dir(mirror) / "logs").exists()  # logs/ is never copied to the agent


def test_the_agents_version_is_not_written_through_a_link_in_logs(mirror, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, mirror.user.path / "logs")
    mirror.push()
    (agent_dir(mirror) / "spec.md").write_text("# the agent's\n")
    (mirror.user.path / "spec.md").write_text("# the user's\n")
    _, [note] = mirror.pull("session-001.agent")
    assert list(elsewhere.iterdir()) == []
    assert "kept yours; the agent's was not kept" in note and "symbolic link" in note


def test_the_agent_deleting_a_file_deletes_nothing_of_the_users(mirror):
    mirror.push()
    (agent_dir(mirror) / "spec.md").unlink()
    mirror.pull()
    assert (mirror.user.path / "spec.md").exists()
    mirror.push()
    assert (agent_dir(mirror) / "spec.md").exists()


def test_a_file_the_user_deleted_goes_from_the_copy_unless_the_agent_changed_it(mirror):
    (mirror.user.path / "old.md").write_text("old\n")
    (mirror.user.path / "kept.md").write_text("kept\n")
    mirror.push()
    (agent_dir(mirror) / "kept.md").write_text("the agent's edit\n")
    (mirror.user.path / "old.md").unlink()
    (mirror.user.path / "kept.md").unlink()
    mirror.push()
    assert not (agent_dir(mirror) / "old.md").exists()
    assert (agent_dir(mirror) / "kept.md").read_text() == "the agent's edit\n"


def test_a_link_in_the_agents_copy_is_never_read_through(mirror, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("sk-ant-oat01-not-for-the-agent\n")
    mirror.push()
    os.symlink(secret, agent_dir(mirror) / "leak.md")
    os.symlink(tmp_path, agent_dir(mirror) / "outside")
    taken, _ = mirror.pull()
    assert taken == [] and not (mirror.user.path / "leak.md").exists()
    assert not (mirror.user.path / "outside").exists()


def test_a_linked_directory_in_the_agents_copy_is_never_written_through(mirror, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (mirror.user.path / "notes").mkdir()
    (mirror.user.path / "notes" / "a.md").write_text("a\n")
    agent_dir(mirror).mkdir(parents=True)
    os.symlink(elsewhere, agent_dir(mirror) / "notes")
    notes = mirror.push()
    assert list(elsewhere.iterdir()) == []
    assert any("not synced" in note for note in notes)


def test_the_copy_reached_through_a_link_on_the_way_down_is_refused(mirror, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, mirror.agent.root / ".auto-claude")
    notes = mirror.push()
    assert list(elsewhere.iterdir()) == [] and notes


def test_a_link_in_the_users_spec_dir_is_not_copied_into_the_agents_reach(mirror, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private\n")
    os.symlink(secret, mirror.user.path / "context.md")
    notes = mirror.push()
    assert not (agent_dir(mirror) / "context.md").exists()
    assert notes == ["context.md: a link or special file in the spec dir: not copied"]


def test_merge_plan_keeps_the_user_when_the_agents_plan_is_not_a_plan():
    merged, note = merge_plan(plan_text().encode(), b"{ not json", plan_text().encode())
    assert merged is None and "kept yours" in note
