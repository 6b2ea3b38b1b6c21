"""Spec lookup: a path, or a number/name prefix under .auto-claude/specs/."""

from __future__ import annotations

import pytest

from agent_tui.plan.specs import find_spec_dir
from agent_tui.plan.store import PlanError


@pytest.fixture
def project(tmp_path):
    for name in ("001-login", "002-logout", "010-billing"):
        (tmp_path / ".auto-claude" / "specs" / name).mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("001", "001-login"),
        ("2", "002-logout"),
        ("010-b", "010-billing"),
        ("002-logout", "002-logout"),
    ],
)
def test_number_or_prefix_picks_one_spec(project, spec, expected):
    assert find_spec_dir(project, spec).name == expected


def test_a_path_is_taken_as_is(project, tmp_path):
    elsewhere = tmp_path / "other-spec"
    elsewhere.mkdir()
    assert find_spec_dir(project, str(elsewhere)) == elsewhere.resolve()


@pytest.mark.parametrize(
    ("spec", "message"),
    [("999", "spec '999' not found"), ("0", "ambiguous"), (None, "3 specs in")],
)
def test_unclear_specs_are_one_sentence_errors(project, spec, message):
    with pytest.raises(PlanError, match=message):
        find_spec_dir(project, spec)


def test_the_only_spec_is_the_default(tmp_path):
    (tmp_path / ".auto-claude" / "specs" / "007-only").mkdir(parents=True)
    assert find_spec_dir(tmp_path, None).name == "007-only"


def test_no_specs_at_all(tmp_path):
    with pytest.raises(PlanError, match="no specs in"):
        find_spec_dir(tmp_path, None)
