"""Merge and discard against real git: history kept, nothing changed on a refusal or a
conflict, the branch and worktree removed only after a merge that succeeded."""

from __future__ import annotations

import shutil

import pytest

from agent_tui.workspace import commits
from agent_tui.workspace.location import locate
from agent_tui.workspace.merge import MergeConflict, MergeRefused, discard, merge
from agent_tui.workspace.worktree import open_worktree
from tests.integration.git_repo import git, make_repo, snapshot


def with_work(tmp_path, **repo_options):
    """A repository, and a worktree with two subtask commits (one edits README.md)."""
    project, spec_dir = make_repo(tmp_path / "repo", **repo_options)
    location = locate(project, spec_dir, root=tmp_path / "worktrees")
    worktree = open_worktree(location)
    (worktree.root / "feature.py").write_text("def feature():\n    return 1\n")
    commits.commit_subtask(worktree, "1.1", "add the feature", "Sessions: 1")
    (worktree.root / "README.md").write_text("# project\n\nNow with a feature.\n")
    commits.commit_subtask(worktree, "1.2", "document it", "Sessions: 2")
    return project, spec_dir, location, worktree


def test_merge_brings_the_work_in_with_its_history_then_removes_branch_and_worktree(tmp_path):
    project, _, location, worktree = with_work(tmp_path)
    message = merge(location, squash=False)
    assert "2 commits, with its history" in message and "into main" in message
    assert (project / "feature.py").exists()
    parents = git(project, "log", "-1", "--format=%P").split()
    assert len(parents) == 2  # a merge commit, the subtasks' commits beneath it
    subjects = git(project, "log", "--format=%s").splitlines()
    assert "subtask 1.1: add the feature" in subjects and "subtask 1.2: document it" in subjects
    assert git(project, "branch", "--list", "agent-tui/*") == ""
    assert not worktree.root.exists()
    assert git(project, "status", "--porcelain") == ""


def test_squash_makes_one_commit_of_all_the_subtasks(tmp_path):
    project, _, location, _ = with_work(tmp_path)
    merge(location, squash=True)
    assert len(git(project, "log", "-1", "--format=%P").split()) == 1
    body = git(project, "log", "-1", "--format=%B")
    assert "subtask 1.1: add the feature" in body and "subtask 1.2: document it" in body
    assert (project / "feature.py").exists()
    assert git(project, "branch", "--list", "agent-tui/*") == ""


def test_a_dirty_tree_refuses_the_merge_and_changes_nothing(tmp_path):
    project, _, location, worktree = with_work(tmp_path)
    (project / "README.md").write_text("# my own edit\n")
    before = snapshot(project)
    with pytest.raises(MergeRefused, match=r"uncommitted changes \(README.md\)"):
        merge(location, squash=False)
    assert snapshot(project) == before
    assert worktree.root.exists() and git(project, "branch", "--list", "agent-tui/001-test")


def test_a_conflict_aborts_cleanly_and_names_the_files(tmp_path):
    project, _, location, worktree = with_work(tmp_path)
    (project / "README.md").write_text("# project\n\nThe user's own line.\n")
    git(project, "commit", "--quiet", "-am", "the user's change")
    before = snapshot(project, index_bytes=False)
    with pytest.raises(MergeConflict, match=r"conflicts in README.md: aborted"):
        merge(location, squash=False)
    assert snapshot(project, index_bytes=False) == before
    assert not (project / ".git" / "MERGE_HEAD").exists()
    assert worktree.root.exists() and git(project, "branch", "--list", "agent-tui/001-test")


@pytest.mark.parametrize("squash", [False, True])
def test_an_untracked_file_the_merge_would_overwrite_is_named(tmp_path, squash):
    project, _, location, worktree = with_work(tmp_path)
    (project / "feature.py").write_text("# the user's own, not committed\n")
    before = snapshot(project, index_bytes=False)
    with pytest.raises(MergeRefused, match=r"adds feature\.py, which you have here untracked"):
        merge(location, squash=squash)
    assert snapshot(project, index_bytes=False) == before
    assert worktree.root.exists() and git(project, "branch", "--list", "agent-tui/001-test")


def unignored_work(tmp_path, plant):
    """The user's ignored ``.env`` and another spec's files; the agent's commit stops
    ignoring them and brings its own (``plant`` writes them in its worktree)."""
    ignores = {"README.md": "# project\n", ".gitignore": ".auto-claude/\n.env\n"}
    project, _, location, worktree = with_work(tmp_path, files=ignores, ignore_specs=False)
    (project / ".env").write_text("DATABASE_URL=postgres://me:secret@db/prod\n")
    other = project / ".auto-claude" / "specs" / "002-other"
    (other / "memory").mkdir(parents=True)
    (other / "implementation_plan.json").write_text('{"feature": "mine"}\n')
    (other / "memory" / "attempt_history.json").write_text("{}\n")
    (worktree.root / ".gitignore").write_text("")
    plant(worktree.root)
    commits.commit_subtask(worktree, "1.3", "the agent's", "Sessions: 3")
    return project, location, worktree, other


def agents_files(root):
    (root / ".env").write_text("DATABASE_URL=sqlite:///agent.db\n")
    other = root / ".auto-claude" / "specs" / "002-other"
    other.mkdir(parents=True)
    (other / "implementation_plan.json").write_text('{"feature": "the agent\'s"}\n')


def a_file_for_the_folder(root):
    (root / ".auto-claude" / "specs").mkdir(parents=True)
    (root / ".auto-claude" / "specs" / "002-other").write_text("gone\n")


def a_link_for_the_folder(root):
    (root / ".auto-claude" / "specs").mkdir(parents=True)
    (root / ".auto-claude" / "specs" / "002-other").symlink_to("/")


@pytest.mark.parametrize("squash", [False, True])
@pytest.mark.parametrize(
    ("plant", "named"),
    [
        (agents_files, ".auto-claude/specs/002-other/implementation_plan.json, .env"),
        (a_file_for_the_folder, ".auto-claude/specs/002-other"),
        (a_link_for_the_folder, ".auto-claude/specs/002-other"),
    ],
)
def test_a_merge_never_replaces_what_the_user_has_and_git_ignores(tmp_path, squash, plant, named):
    """git's merge replaces an ignored file, or a whole ignored folder, with what the branch
    adds there (``--no-overwrite-ignore`` or not): the agent could overwrite a ``.env`` or
    another spec's plan by un-ignoring them in its commit."""
    project, location, worktree, other = unignored_work(tmp_path, plant)
    with pytest.raises(MergeRefused) as refused:
        merge(location, squash=squash)
    assert str(refused.value).startswith(f"agent-tui/001-test adds {named}, which you have")
    assert str(refused.value).endswith("nothing was merged")
    assert (project / ".env").read_text() == "DATABASE_URL=postgres://me:secret@db/prod\n"
    assert (other / "implementation_plan.json").read_text() == '{"feature": "mine"}\n'
    assert (other / "memory" / "attempt_history.json").read_text() == "{}\n"
    assert git(project, "log", "-1", "--format=%s") == "start\n"
    assert worktree.root.exists() and git(project, "branch", "--list", "agent-tui/001-test")

    (project / ".env").unlink()  # moved aside, as the refusal says: the merge goes ahead
    shutil.rmtree(other)
    merge(location, squash=squash)
    assert "subtask 1.3: the agent's" in git(project, "log", "--format=%B")


def test_a_squash_conflict_aborts_cleanly_too(tmp_path):
    project, _, location, _ = with_work(tmp_path)
    (project / "README.md").write_text("# project\n\nThe user's own line.\n")
    git(project, "commit", "--quiet", "-am", "the user's change")
    before = snapshot(project, index_bytes=False)
    with pytest.raises(MergeConflict):
        merge(location, squash=True)
    assert snapshot(project, index_bytes=False) == before


def test_a_tracked_spec_dir_the_run_updated_does_not_block_the_merge(tmp_path):
    project, spec_dir, location, _ = with_work(tmp_path, ignore_specs=False)
    (spec_dir / "spec.md").write_text("# the spec, statuses synced by the run\n")
    merge(location, squash=False)
    assert (project / "feature.py").exists()
    assert git(project, "status", "--porcelain").strip() == "M .auto-claude/specs/001-test/spec.md"


def test_a_detached_head_is_refused(tmp_path):
    project, _, location, _ = with_work(tmp_path)
    git(project, "checkout", "--quiet", "--detach")
    with pytest.raises(MergeRefused, match="HEAD is detached"):
        merge(location, squash=False)


def test_merge_keeps_what_the_worktree_held_uncommitted_in_the_spec_logs(tmp_path):
    project, spec_dir, location, worktree = with_work(tmp_path)
    (worktree.root / "unfinished.py").write_text("half = True\n")
    message = merge(location, squash=False)
    kept = list((spec_dir / "logs").glob("uncommitted-*.diff"))
    assert len(kept) == 1 and "unfinished.py" in kept[0].read_text()
    assert kept[0].name in message and not (project / "unfinished.py").exists()


def test_no_branch_means_nothing_to_merge_or_discard(tmp_path):
    project, spec_dir = make_repo(tmp_path / "repo")
    location = locate(project, spec_dir, root=tmp_path / "worktrees")
    with pytest.raises(MergeRefused, match="nothing to merge"):
        merge(location, squash=False)
    with pytest.raises(MergeRefused, match="nothing to discard"):
        discard(location)


def test_discard_removes_branch_and_worktree_and_says_how_to_get_the_branch_back(tmp_path):
    project, _, location, worktree = with_work(tmp_path)
    tip = git(project, "rev-parse", "agent-tui/001-test").strip()
    before = snapshot(project)
    message = discard(location)
    assert f"git branch agent-tui/001-test {tip[:12]}" in message
    assert not worktree.root.exists() and git(project, "branch", "--list", "agent-tui/*") == ""
    assert snapshot(project) == before


def test_the_diff_command_names_an_unknown_subtask_and_colours_only_on_a_terminal(
    tmp_path, capsys, monkeypatch
):
    import json

    from agent_tui.cli.commands import main

    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path))  # its worktrees: tmp/worktrees
    plan = {"phases": [{"id": "1", "name": "p", "subtasks": [{"id": "1.1", "description": "d"}]}]}
    project, spec_dir, _, _ = with_work(tmp_path, plan=plan)
    assert json.loads((spec_dir / "implementation_plan.json").read_text()) == plan
    assert main(["diff", "--project", str(project), "--subtask", "9.9"]) == 2
    assert "the plan has no subtask '9.9' (its subtasks: 1.1)" in capsys.readouterr().err
    assert main(["diff", "--project", str(project), "--subtask", "1.1"]) == 0
    out = capsys.readouterr().out
    assert "+def feature():" in out and "\x1b[" not in out  # not a terminal: no colour
    assert main(["diff", "--project", str(project)]) == 0
    whole = capsys.readouterr().out
    assert "feature.py" in whole and "README.md" in whole


def test_uncommitted_work_that_cannot_be_saved_refuses_the_merge_in_one_line(
    tmp_path, capsys, monkeypatch
):
    from agent_tui.cli.commands import main

    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path))  # its worktrees: tmp/worktrees
    project, spec_dir, _, worktree = with_work(tmp_path)
    (worktree.root / "unfinished.py").write_text("half = True\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (spec_dir / "logs").symlink_to(elsewhere)
    before = snapshot(project)
    assert main(["merge", "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "is a symbolic link" in err and "nothing was merged" in err
    assert snapshot(project) == before and list(elsewhere.iterdir()) == []
    assert (worktree.root / "unfinished.py").exists()
    assert git(project, "branch", "--list", "agent-tui/001-test")


def test_merge_and_discard_of_one_project_leave_a_same_named_spec_of_another_alone(tmp_path):
    from tests.integration.test_workspace_git import two_projects

    root, (one, two) = two_projects(tmp_path)
    first, second = open_worktree(one), open_worktree(two)
    (first.location.agent_project_dir / "app.py").write_text("name = 'a, changed'\n")
    commits.commit_subtask(first, "1.1", "a's work", "")
    discard(two)
    assert not second.root.exists()
    assert first.root.exists() and git(root, "branch", "--list", str(one.branch))
    open_worktree(two)
    assert f"{two.branch} is already in main" in merge(two, squash=False)
    assert (root / "a" / "app.py").read_text() == "name = 'a'\n"  # a's work not merged
    assert first.root.exists() and git(root, "branch", "--list", str(one.branch))
    assert "(1 commits, with its history)" in merge(one, squash=False)
    assert (root / "a" / "app.py").read_text() == "name = 'a, changed'\n"
    assert not first.root.exists() and git(root, "branch", "--list", "agent-tui/*") == ""
    assert [p.name for p in (tmp_path / "worktrees").iterdir()] == []  # no empty folders


def test_the_diff_of_a_branch_with_nothing_new_says_so(tmp_path, capsys, monkeypatch):
    from agent_tui.cli.commands import main

    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path))  # its worktrees: tmp/worktrees
    project, spec_dir = make_repo(tmp_path / "repo")
    open_worktree(locate(project, spec_dir, root=tmp_path / "worktrees"))
    assert main(["diff", "--project", str(project)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "agent-tui/001-test changes nothing yet: no diff to show" in captured.err


@pytest.mark.parametrize("command", ["merge", "discard"])
def test_merge_or_discard_during_a_run_says_once_to_stop_it(tmp_path, capsys, monkeypatch, command):
    import os

    from agent_tui.cli.commands import main
    from agent_tui.engine.control.runlock import RunLock

    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path))  # its worktrees: tmp/worktrees
    project, spec_dir, _, worktree = with_work(tmp_path)
    held = RunLock(spec_dir)
    held.acquire()  # as a run holds it
    yes = ["--yes"] if command == "discard" else []
    before = snapshot(project)
    try:
        assert main([command, "--project", str(project), *yes]) == 2
    finally:
        held.release()
    err = capsys.readouterr().err
    assert err.startswith(f"agent-tui: spec '001-test' is already being run (pid {os.getpid()} ")
    assert err.endswith("): stop that run first, or wait for it to finish\n")
    assert snapshot(project) == before and worktree.root.exists()


COMPLETE_PLAN = {
    "feature": "f",
    "phases": [
        {
            "id": "1",
            "name": "P",
            "subtasks": [
                {"id": "1.1", "description": "add the feature", "status": "completed"},
                {"id": "1.2", "description": "document it", "status": "completed"},
            ],
        }
    ],
}


def finished_spec(tmp_path):
    """A spec whose two subtasks are completed and committed on its work branch."""
    from agent_tui.config import worktrees_dir

    project, spec_dir = make_repo(tmp_path / "repo", plan=COMPLETE_PLAN)
    location = locate(project, spec_dir, root=worktrees_dir())
    worktree = open_worktree(location)
    (worktree.root / "feature.py").write_text("def feature():\n    return 1\n")
    commits.commit_subtask(worktree, "1.1", "add the feature", "Sessions: 1")
    return project, location


@pytest.mark.parametrize("squash", [False, True])
def test_opening_a_merged_spec_says_so_and_makes_no_branch_again(tmp_path, capsys, squash):
    # Found by a user: a spec already merged got its branch and worktree made again, with
    # nothing to do.
    from agent_tui.cli.commands import main

    project, location = finished_spec(tmp_path)
    merge(location, squash=squash)
    merged = git(project, "rev-parse", "--short", "HEAD").strip()
    before = snapshot(project)
    assert main(["run", "--project", str(project), "--headless"]) == 2
    assert capsys.readouterr().err == (
        f"agent-tui: spec '001-test' is complete and was merged into your branch at {merged}: "
        "nothing to do (to work on it again, set a subtask back to pending in its plan)\n"
    )
    assert snapshot(project) == before
    assert git(project, "branch", "--list", "agent-tui/*") == ""
    assert not location.worktree.exists()


def test_a_complete_spec_whose_branch_was_discarded_has_nothing_to_do_either(tmp_path, capsys):
    from agent_tui.cli.commands import main

    project, location = finished_spec(tmp_path)
    discard(location)
    assert main(["run", "--project", str(project), "--headless"]) == 2
    assert capsys.readouterr().err == (
        "agent-tui: spec '001-test' is complete and has no branch agent-tui/001-test "
        "(merged, discarded, or never made): nothing to do (to work on it again, set a "
        "subtask back to pending in its plan)\n"
    )
    assert git(project, "branch", "--list", "agent-tui/*") == ""


def test_a_complete_spec_not_merged_yet_still_runs(tmp_path, default_login):
    from agent_tui.cli import commands as cli
    from agent_tui.startup.checks import check_run

    project, location = finished_spec(tmp_path)
    args = cli.parse(cli.build_parser(), ["run", "--project", str(project), "--headless"])
    assert check_run(args).workspace == location  # its branch is there to review or merge
