"""Spec lookup: a path, or a number/name prefix under .auto-claude/specs/."""

from __future__ import annotations

import pytest

from agent_tui.plan.specs import find_spec_dir
from agent_tui.plan.store import PlanError


@pytest.fixture
def project(tmp_path):
    for name in ("001-login", "002-logout", "010-billing"):
        spec_dir(tmp_path / ".auto-claude" / "specs" / name)
    return tmp_path


def spec_dir(path, file="spec.md"):
    path.mkdir(parents=True)
    (path / file).write_text("{}" if file.endswith(".json") else "# the task")
    return path


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
    elsewhere = spec_dir(tmp_path / "other-spec", "implementation_plan.json")
    assert find_spec_dir(project, str(elsewhere)) == elsewhere.resolve()


@pytest.mark.parametrize(
    ("spec", "message"),
    [("999", "spec '999' not found"), ("0", "ambiguous"), (None, "3 specs in")],
)
def test_unclear_specs_are_one_sentence_errors(project, spec, message):
    with pytest.raises(PlanError, match=message):
        find_spec_dir(project, spec)


def test_the_only_spec_is_the_default(tmp_path):
    spec_dir(tmp_path / ".auto-claude" / "specs" / "007-only")
    assert find_spec_dir(tmp_path, None).name == "007-only"


def test_no_specs_at_all(tmp_path):
    with pytest.raises(PlanError, match=r'no specs in .*: agent-tui new "SENTENCE" makes one'):
        find_spec_dir(tmp_path, None)


def test_a_directory_with_neither_spec_nor_plan_is_not_a_spec(project, tmp_path):
    # Found by hand: --spec ../../etc started a planner that wrote its logs into /etc.
    bare = tmp_path / "not-a-spec"
    bare.mkdir()
    (project / ".auto-claude" / "specs" / "020-empty").mkdir()
    for spec in (str(bare), "020"):
        with pytest.raises(PlanError, match="is not a spec directory: it has neither spec"):
            find_spec_dir(project, spec)


def test_a_folder_with_neither_file_is_not_counted_among_the_specs(tmp_path):
    # Found in review: a folder just made beside the one spec stopped it being the default,
    # and made a prefix they shared ambiguous.
    spec_dir(tmp_path / ".auto-claude" / "specs" / "001-login")
    (tmp_path / ".auto-claude" / "specs" / "002-wip").mkdir()
    assert find_spec_dir(tmp_path, None).name == "001-login"
    assert find_spec_dir(tmp_path, "1").name == "001-login"


def test_an_exact_folder_name_wins_over_a_spec_it_is_the_prefix_of(tmp_path):
    # Found in review: --spec 001 with an empty folder 001 beside 001-login quietly ran
    # 001-login; the folder typed in full is the one meant, and is refused with the reason.
    spec_dir(tmp_path / ".auto-claude" / "specs" / "001-login")
    (tmp_path / ".auto-claude" / "specs" / "001").mkdir()
    with pytest.raises(PlanError, match="001 is not a spec directory"):
        find_spec_dir(tmp_path, "001")


@pytest.mark.parametrize(("spec", "expected"), [("1", "001-login"), ("10", "010-billing")])
def test_a_number_is_the_whole_number_of_a_spec(project, spec, expected):
    assert find_spec_dir(project, spec).name == expected


def test_a_number_that_only_starts_a_specs_number_is_not_taken_for_it(tmp_path):
    for name in ("002-beta", "010-gamma"):
        spec_dir(tmp_path / ".auto-claude" / "specs" / name)
    with pytest.raises(PlanError, match="no spec is numbered '01': did you mean 010-gamma"):
        find_spec_dir(tmp_path, "01")


def test_a_relative_path_is_read_from_the_current_dir_as_any_command_line_path(
    project, monkeypatch
):
    monkeypatch.chdir(project / ".auto-claude")
    found = find_spec_dir(project, "specs/002-logout")
    assert found == (project / ".auto-claude" / "specs" / "002-logout").resolve()
    monkeypatch.chdir(project / ".auto-claude" / "specs" / "001-login")
    assert find_spec_dir(project, ".").name == "001-login"
    assert find_spec_dir(project, "../010-billing").name == "010-billing"


def test_a_relative_path_meant_for_the_project_says_it_is_read_from_here(
    project, tmp_path, monkeypatch
):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(PlanError) as refused:
        find_spec_dir(project, "./.auto-claude/specs/001-login")
    assert str(refused.value) == (
        f"spec './.auto-claude/specs/001-login': no such directory "
        f"({elsewhere}/.auto-claude/specs/001-login); a relative path is read from the "
        f"current directory, not the project: give {project}/.auto-claude/specs/001-login, "
        f"or run from {project}"
    )


def test_a_bare_number_or_name_is_still_looked_up_under_the_project(project, tmp_path, monkeypatch):
    decoy = tmp_path / "cwd"
    spec_dir(decoy / "001-login")  # a folder of that name here is not what a prefix names
    monkeypatch.chdir(decoy)
    assert (
        find_spec_dir(project, "001-login")
        == (project / ".auto-claude" / "specs" / "001-login").resolve()
    )


def test_folders_that_are_not_specs_are_named_with_what_they_lack(tmp_path):
    specs = tmp_path / ".auto-claude" / "specs"
    (specs / "001-wip").mkdir(parents=True)
    with pytest.raises(PlanError) as refused:
        find_spec_dir(tmp_path, None)
    assert str(refused.value) == (
        f"no specs in {specs}: 001-wip has neither spec.md nor implementation_plan.json "
        "(a spec holds the task, its plan, or both)"
    )
    (specs / "002-draft").mkdir()
    with pytest.raises(PlanError, match=r": 001-wip, 002-draft have neither spec\.md"):
        find_spec_dir(tmp_path, None)


def test_a_spec_outside_the_project_is_refused(project, tmp_path):
    outside = spec_dir(tmp_path.parent / f"{tmp_path.name}-outside-spec")
    with pytest.raises(PlanError, match="is outside the project"):
        find_spec_dir(project, str(outside))
