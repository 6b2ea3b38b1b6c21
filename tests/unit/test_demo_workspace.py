"""Where the demo lays out its sample project (a git repository of its own where git is
installed): never over something it did not make."""

from __future__ import annotations

import re
import shlex
import shutil
from types import SimpleNamespace

import pytest

from agent_tui.cli.commands import main
from agent_tui.cli.demo import (
    DEMO_MARKER,
    DemoWorkspaceError,
    create_workspace,
    demo_config,
    review_commands,
)
from agent_tui.config import worktrees_dir
from agent_tui.workspace.location import WorkspaceMode, locate
from agent_tui.workspace.worktree import open_worktree
from tests.integration.git_repo import git, make_repo
from tests.unit.test_cli_bad_input import snapshot

UNUSED_SIM = SimpleNamespace(base_url="http://127.0.0.1:9")
"""A config names the sim's address; these tests start no session."""


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


def test_the_sample_is_a_git_repository_with_one_commit_of_the_demos(tmp_path, isolated_git):
    # The user's git config says another identity, another first branch, signing (with no
    # key here: a commit that signed would fail) and a template with a hook: none of it
    # may shape the demo's repository, and the config itself is only read.
    template = tmp_path / "template"
    (template / "hooks").mkdir(parents=True)
    hook = template / "hooks" / "post-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path / 'hook-ran'}\n")
    hook.chmod(0o755)
    isolated_git.write_text(
        "[user]\n\tname = The User\n\temail = user@example.com\n"
        f"[init]\n\tdefaultBranch = trunk\n\ttemplateDir = {template}\n"
        "[commit]\n\tgpgsign = true\n"
    )
    config_before = isolated_git.read_bytes()
    workspace = create_workspace(tmp_path / "demo")
    project = workspace.project_dir
    assert workspace.repository and workspace.in_place_reason == ""
    log = git(project, "log", "--format=%an <%ae> %cn|%s").splitlines()
    assert log == ["agent-tui demo <demo@agent-tui.invalid> agent-tui demo|The greeter sample"]
    assert git(project, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(project, "ls-files").split() == [".gitignore", "README.md"]
    assert git(project, "status", "--porcelain") == ""  # the spec dir is ignored
    assert git(project, "check-ignore", str(workspace.spec_dir / "implementation_plan.json"))
    assert not list((project / ".git").rglob("hooks/*")) and not (tmp_path / "hook-ran").exists()
    assert isolated_git.read_bytes() == config_before


def test_a_temp_dir_demo_keeps_its_worktree_under_its_own_root(tmp_path):
    workspace = create_workspace()
    try:
        config = demo_config(workspace, UNUSED_SIM)
        assert workspace.owns_root
        assert config.worktrees_dir == workspace.root / "worktrees"
        assert config.workspace is None  # the run finds its worktree, as any run's
    finally:
        workspace.release()
        shutil.rmtree(workspace.root)
    kept = create_workspace(tmp_path / "demo")
    assert demo_config(kept, UNUSED_SIM).worktrees_dir is None  # where `agent-tui diff` looks


def test_a_workdir_rerun_removes_the_worktree_the_last_run_made(tmp_path):
    first = create_workspace(tmp_path / "demo")
    old = open_worktree(locate(first.project_dir, first.spec_dir, root=worktrees_dir()))
    (old.root / "work.py").write_text("the last demo's agent wrote this")
    mine = tmp_path / "mine"  # a worktree of the user's own, on a branch of theirs
    git(first.project_dir, "worktree", "add", "--quiet", "-b", "mine", str(mine))
    first.release()
    second = create_workspace(tmp_path / "demo")
    assert not old.root.exists()
    assert (mine / "README.md").is_file()
    new = open_worktree(locate(second.project_dir, second.spec_dir, root=worktrees_dir()))
    assert new.root == old.root and new.created
    assert new.repaired == ()  # nothing in the way, nothing moved aside
    assert not (new.root / "work.py").exists()
    assert [p.name for p in old.root.parent.iterdir()] == [old.root.name]


def test_without_git_the_sample_is_laid_out_to_be_worked_on_in_place(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "bin-without-git"))
    workspace = create_workspace(tmp_path / "demo")
    assert not workspace.repository and workspace.in_place_reason == "git is not installed"
    assert not (workspace.project_dir / ".git").exists()
    assert not (workspace.project_dir / ".gitignore").exists()
    location = demo_config(workspace, UNUSED_SIM).workspace
    assert location is not None and location.mode is WorkspaceMode.IN_PLACE
    assert location.reason == "git is not installed"


def test_the_review_commands_run_as_printed_from_a_path_with_a_space(tmp_path):
    project = tmp_path / "my demo" / "greeter"
    text = review_commands(project)
    commands = re.findall(r"agent-tui \w+ --project (?:'[^']*'|\S+)", text)
    assert [shlex.split(c) for c in commands] == [
        ["agent-tui", verb, "--project", str(project)] for verb in ("diff", "merge", "discard")
    ]


def test_in_a_workdir_inside_the_users_repository_the_run_is_on_the_samples_own(tmp_path):
    user, _ = make_repo(tmp_path / "user", spec="001-theirs")
    refs = git(user, "for-each-ref")
    workspace = create_workspace(user / "demo")
    location = locate(workspace.project_dir, workspace.spec_dir, root=worktrees_dir())
    assert location.mode is WorkspaceMode.WORKTREE
    assert location.repo_root == workspace.project_dir
    assert location.common_dir == workspace.project_dir / ".git"
    open_worktree(location)
    assert git(workspace.project_dir, "branch", "--list", "agent-tui/*").split() == [
        "+",
        "agent-tui/001-greeter",
    ]
    assert git(user, "for-each-ref") == refs and git(user, "worktree", "list").count("\n") == 1


def test_a_git_that_fails_leaves_the_sample_in_place_with_the_reason(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\necho 'fatal: cannot write here' >&2\nexit 128\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    workspace = create_workspace(tmp_path / "demo")
    assert workspace.in_place_reason == (
        "git could not make the sample a repository: git init failed: fatal: cannot write here"
    )
    assert sorted(p.name for p in workspace.project_dir.iterdir()) == [".auto-claude", "README.md"]
    assert demo_config(workspace, UNUSED_SIM).workspace.reason == workspace.in_place_reason


def test_a_broken_sample_repository_never_reaches_the_users_worktrees(tmp_path):
    # A rerun whose last removal of the sample was cut short finds an empty greeter/.git:
    # git must not go up to the user's repository around the workdir and remove theirs.
    user, _ = make_repo(tmp_path / "user", spec="001-theirs")
    theirs = tmp_path / "their-worktree"
    git(user, "worktree", "add", "--quiet", "-b", "agent-tui/001-theirs", str(theirs))
    (theirs / "work.txt").write_text("not committed yet")
    workdir = user / "demo-wd"
    create_workspace(workdir).release()
    shutil.rmtree(workdir / "greeter" / ".git")
    (workdir / "greeter" / ".git").mkdir()
    create_workspace(workdir).release()
    assert (theirs / "work.txt").read_text() == "not committed yet"
