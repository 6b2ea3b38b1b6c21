"""Editing the plan under review in ``$EDITOR``: only a valid plan replaces it, and an
invalid edit is kept for the next one (a fake editor script stands in for the user)."""

from __future__ import annotations

import json
import sys

import pytest

from agent_tui.tui.plan_draft import Edited, PlanDraft, editor_command
from tests.unit.loop_harness import write_plan

EDITOR = """\
#!{python}
import pathlib, sys

path = pathlib.Path(sys.argv[-1])
steps = pathlib.Path({steps!r})
lines = steps.read_text().split("\\n", 1)
steps.write_text(lines[1] if len(lines) > 1 else "")
(pathlib.Path({seen!r})).open("a").write(path.read_text() + "\\0")
step = lines[0]
if step == "fail":
    sys.exit(4)
if step == "break":
    path.write_text(path.read_text().replace('"phases"', '"phases" oops'))
elif step.startswith("rename:"):
    path.write_text(path.read_text().replace('"description": "1.1"', step[len("rename:"):]))
elif step == "fix":
    path.write_text(path.read_text().replace('"phases" oops', '"phases"'))
elif step == "empty":
    path.write_text('{{"phases": []}}')
"""


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """``$EDITOR`` is a script doing the next of ``steps`` to the file it is given."""
    steps = tmp_path / "steps"
    seen = tmp_path / "seen"
    script = tmp_path / "fake-editor"
    script.write_text(EDITOR.format(python=sys.executable, steps=str(steps), seen=str(seen)))
    script.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{script} --wait")

    def plan(*wanted: str):
        steps.write_text("\n".join(wanted))
        return lambda: [t for t in seen.read_text().split("\0") if t] if seen.exists() else []

    return plan


@pytest.fixture
def plan_path(tmp_path):
    write_plan(tmp_path / "spec", ["1.1", "1.2"])
    return tmp_path / "spec" / "implementation_plan.json"


def test_a_valid_edit_replaces_the_plan(plan_path, editor):
    editor('rename:"description": "Parse the flags"')
    draft = PlanDraft(plan_path)
    assert draft.edit() == 0
    assert draft.take() == Edited.SAVED
    descriptions = [
        s["description"] for s in json.loads(plan_path.read_text())["phases"][0]["subtasks"]
    ]
    assert descriptions == ["Parse the flags", "1.2"]
    assert draft.take() == Edited.UNCHANGED  # the next draft starts from the saved plan


def test_an_invalid_edit_leaves_the_plan_and_the_next_edit_starts_from_it(plan_path, editor):
    before = plan_path.read_text()
    seen = editor("break", "fix")
    draft = PlanDraft(plan_path)
    assert draft.edit() == 0
    assert draft.take() == Edited.INVALID
    assert draft.problem.startswith("your edit: not valid JSON (")
    assert plan_path.read_text() == before  # the run reads nothing half-edited
    assert draft.edit() == 0
    assert '"phases" oops' in seen()[1]  # the user's own text again, not the plan's
    assert draft.take() == Edited.UNCHANGED  # fixed back to what the plan says
    assert plan_path.read_text() == before


def test_a_plan_with_no_subtasks_is_not_saved(plan_path, editor):
    editor("empty")
    draft = PlanDraft(plan_path)
    draft.edit()
    assert draft.take() == Edited.INVALID
    assert draft.problem == "your edit: the plan has no subtasks"


def test_an_editor_that_fails_says_so_and_changes_nothing(plan_path, editor):
    before = plan_path.read_text()
    editor("fail")
    assert PlanDraft(plan_path).edit() == 4
    assert plan_path.read_text() == before


def test_the_editor_is_visual_then_editor_then_vi(monkeypatch):
    monkeypatch.setenv("VISUAL", "code --wait")
    monkeypatch.setenv("EDITOR", "nano")
    assert editor_command() == ["code", "--wait"]
    monkeypatch.delenv("VISUAL")
    assert editor_command() == ["nano"]
    monkeypatch.delenv("EDITOR")
    assert editor_command() == ["vi"]
