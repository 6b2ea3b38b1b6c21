"""Where the demo lays out its sample project: never over something it did not make."""

from __future__ import annotations

import pytest

from agent_tui.cli import main
from agent_tui.demo import DEMO_MARKER, DemoWorkspaceError, create_workspace
from tests.unit.test_cli_bad_input import snapshot


def test_a_new_workdir_gets_the_sample_project_and_is_marked_as_the_demos(tmp_path):
    workspace = create_workspace(tmp_path / "demo")
    assert (workspace.spec_dir / "implementation_plan.json").is_file()
    assert (tmp_path / "demo" / DEMO_MARKER).is_file()
    assert not workspace.owns_root


def test_a_workdir_an_earlier_demo_made_starts_afresh(tmp_path):
    first = create_workspace(tmp_path / "demo")
    (first.project_dir / "left-over.py").write_text("from the last run")
    first.release()  # that demo has ended
    second = create_workspace(tmp_path / "demo")
    assert second.project_dir == first.project_dir
    assert not (second.project_dir / "left-over.py").exists()
    assert (second.spec_dir / "implementation_plan.json").is_file()


@pytest.mark.parametrize("name", ["greeter", "profiles", "home", "notes.txt"])
def test_a_workdir_holding_the_users_own_files_is_left_alone(tmp_path, name):
    # Found trying --workdir: an existing greeter/ was deleted without a word; and a
    # directory with anything else in it (--workdir ~, say) got the demo's files mixed in.
    if "." in name:
        (tmp_path / name).write_text("the user's own notes")
    else:
        (tmp_path / name).mkdir()
        (tmp_path / name / "work.py").write_text("the user's own work")
    before = snapshot(tmp_path)
    with pytest.raises(DemoWorkspaceError, match="is not empty and no earlier demo used it"):
        create_workspace(tmp_path)
    assert snapshot(tmp_path) == before


def test_an_empty_existing_workdir_is_used(tmp_path):
    workspace = create_workspace(tmp_path)
    assert workspace.project_dir == tmp_path.resolve() / "greeter"


def test_the_command_refuses_an_unusable_workdir_in_one_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "greeter").mkdir()
    cases = {
        str(tmp_path / "a-file"): "is not a directory",
        str(tmp_path / "a-file" / "below"): "cannot set up the demo in",
        str(tmp_path): "is not empty and no earlier demo used it",
    }
    for workdir, expected in cases.items():
        assert main(["demo", "--headless", "--workdir", workdir]) == 2
        err = capsys.readouterr().err
        assert err.startswith("agent-tui: ") and expected in err, err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "greeter"]


def test_a_second_demo_in_the_same_workdir_is_refused_while_the_first_runs(tmp_path):
    first = create_workspace(tmp_path / "demo")
    (first.project_dir / "work.py").write_text("the first demo's agent wrote this")
    with pytest.raises(DemoWorkspaceError, match="another agent-tui demo is using"):
        create_workspace(tmp_path / "demo")
    assert (first.project_dir / "work.py").is_file()
    first.release()
    create_workspace(tmp_path / "demo").release()
