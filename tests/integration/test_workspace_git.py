"""The workspace against real git: where a spec's worktree goes, how a broken one is
repaired, and what agent-tui's commits, rollbacks and diffs do (no agent session here)."""

from __future__ import annotations

import os

import pytest

from agent_tui.workspace import commits, packing
from agent_tui.workspace.git import GitError
from agent_tui.workspace.location import WorkspaceMode, WorkspaceRefused, locate
from agent_tui.workspace.review import Review
from agent_tui.workspace.worktree import open_worktree
from tests.integration.git_repo import git, make_repo, snapshot


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo", {"README.md": "# project\n", "src/app.py": "x = 1\n"})


def located(repo_and_spec, tmp_path, **kwargs):
    project, spec_dir = repo_and_spec
    return locate(project, spec_dir, root=tmp_path / "worktrees", **kwargs)


def test_a_git_project_gets_a_worktree_outside_the_repository_on_its_own_branch(repo, tmp_path):
    before = snapshot(repo[0])
    location = located(repo, tmp_path)
    worktree = open_worktree(location)
    assert location.mode is WorkspaceMode.WORKTREE
    assert location.branch == "agent-tui/001-test" and location.head == "main"
    assert tmp_path / "worktrees" in worktree.root.parents
    assert (worktree.root / "src" / "app.py").read_text() == "x = 1\n"
    assert git(worktree.root, "symbolic-ref", "--short", "HEAD").strip() == "agent-tui/001-test"
    assert snapshot(repo[0]) == before  # the user's checkout, index and HEAD as they were


def test_a_directory_that_is_no_repository_runs_in_place(tmp_path):
    project = tmp_path / "plain"
    (project / "spec").mkdir(parents=True)
    location = locate(project, project / "spec", root=tmp_path / "worktrees")
    assert location.mode is WorkspaceMode.IN_PLACE and location.reason == "not a git repository"
    assert location.agent_project_dir == project


def test_in_place_asked_for_stays_in_the_repository(repo, tmp_path):
    location = located(repo, tmp_path, in_place_asked=True)
    assert location.mode is WorkspaceMode.IN_PLACE and location.reason == "--in-place"
    assert not (tmp_path / "worktrees").exists()


def test_a_repository_without_a_commit_is_a_clear_refusal(tmp_path):
    project = tmp_path / "empty"
    (project / "spec").mkdir(parents=True)
    git(project, "init", "--quiet")
    with pytest.raises(WorkspaceRefused, match=r"no commit yet.*--in-place"):
        locate(project, project / "spec", root=tmp_path / "worktrees")


def test_a_detached_head_is_branched_from_and_said(repo, tmp_path):
    git(repo[0], "checkout", "--quiet", "--detach", "HEAD")
    short = git(repo[0], "rev-parse", "--short", "HEAD").strip()
    location = located(repo, tmp_path)
    assert location.head == f"detached at {short}"
    worktree = open_worktree(location)
    assert commits.head(worktree) == git(repo[0], "rev-parse", "HEAD").strip()


def test_the_work_branch_checked_out_by_the_user_is_refused(repo, tmp_path):
    git(repo[0], "checkout", "--quiet", "-b", "agent-tui/001-test")
    with pytest.raises(WorkspaceRefused, match="switch that checkout to another branch"):
        located(repo, tmp_path)


def test_the_work_branch_in_a_worktree_of_the_users_own_is_refused(repo, tmp_path):
    git(repo[0], "worktree", "add", "--quiet", "-b", "agent-tui/001-test", str(tmp_path / "mine"))
    with pytest.raises(WorkspaceRefused, match="git worktree remove"):
        located(repo, tmp_path)


def test_a_project_inside_an_agent_tui_worktree_is_refused(repo, tmp_path):
    worktree = open_worktree(located(repo, tmp_path))
    spec_copy = worktree.root / ".auto-claude" / "specs" / "001-test"
    spec_copy.mkdir(parents=True)
    with pytest.raises(WorkspaceRefused, match="give --project the repository itself"):
        locate(worktree.root, spec_copy, root=tmp_path / "worktrees")


def test_a_git_dir_sent_elsewhere_by_a_commondir_is_refused_before_its_config_is_read(
    repo, tmp_path
):
    project = repo[0]
    elsewhere = tmp_path / "agents"
    elsewhere.mkdir()
    canary = tmp_path / "canary"
    (elsewhere / "config").write_text(f'[core]\n\tfsmonitor = "echo ran >> {canary}; false"\n')
    for name in ("objects", "refs"):
        (elsewhere / name).symlink_to(project / ".git" / name)
    (project / ".git" / "commondir").write_text(f"{elsewhere}\n")
    with pytest.raises(WorkspaceRefused, match=r"commondir sends git to another folder"):
        located(repo, tmp_path)
    assert not canary.exists()


def test_opening_again_reuses_the_worktree_and_its_commits(repo, tmp_path):
    location = located(repo, tmp_path)
    first = open_worktree(location)
    (first.root / "new.txt").write_text("new\n")
    done = commits.commit_subtask(first, "1.1", "add new", "Sessions: 1")
    again = open_worktree(located(repo, tmp_path))
    assert again.root == first.root and again.repaired == ()
    assert commits.head(again) == done.commit


def test_a_worktree_whose_directory_was_deleted_is_made_again_on_its_branch(repo, tmp_path):
    first = open_worktree(located(repo, tmp_path))
    (first.root / "new.txt").write_text("new\n")
    kept = commits.commit_subtask(first, "1.1", "add new", "").commit
    for path in sorted(first.root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
    first.root.rmdir()
    again = open_worktree(located(repo, tmp_path))
    assert commits.head(again) == kept
    assert (again.root / "new.txt").read_text() == "new\n"
    assert any("broken" in note for note in again.repaired)


def test_a_half_made_worktree_is_moved_aside_and_made_again(repo, tmp_path):
    location = located(repo, tmp_path)
    first = open_worktree(location)
    (first.root / ".git").unlink()  # as if the crash came before git wrote it
    (first.root / "notes.txt").write_text("something of the agent's\n")
    again = open_worktree(located(repo, tmp_path))
    assert (again.root / ".git").is_file() and not (again.root / "notes.txt").exists()
    aside = [p for p in again.root.parent.iterdir() if ".stale-" in p.name]
    assert len(aside) == 1 and (aside[0] / "notes.txt").exists()  # nothing lost
    assert git(repo[0], "worktree", "list").count("agent-tui/001-test") == 1


def test_a_directory_git_does_not_know_at_the_worktree_path_is_moved_aside(repo, tmp_path):
    location = located(repo, tmp_path)
    assert location.worktree is not None
    location.worktree.mkdir(parents=True)
    (location.worktree / "left.txt").write_text("left\n")
    worktree = open_worktree(location)
    assert (worktree.root / ".git").is_file()
    assert any("moved what was at" in note for note in worktree.repaired)


def test_a_stale_index_lock_from_a_killed_run_is_removed(repo, tmp_path):
    first = open_worktree(located(repo, tmp_path))
    (first.admin_dir / "index.lock").write_text("")
    again = open_worktree(located(repo, tmp_path))
    assert not (again.admin_dir / "index.lock").exists()
    (again.root / "new.txt").write_text("new\n")
    assert commits.commit_subtask(again, "1.1", "works", "").commit is not None


def test_an_index_lock_a_live_process_holds_is_left_and_refuses_the_run(repo, tmp_path):
    first = open_worktree(located(repo, tmp_path))
    lock = first.admin_dir / "index.lock"
    with open(lock, "w") as held:  # as a git status run by the user in the worktree holds it
        with pytest.raises(GitError, match="is held open"):
            open_worktree(located(repo, tmp_path))
        assert lock.exists() and not held.closed
    assert not (open_worktree(located(repo, tmp_path)).admin_dir / "index.lock").exists()


def two_projects(tmp_path, names=("a", "b")):
    """One repository, a project in each of ``names``, each with a spec ``001-login``."""
    root, _ = make_repo(tmp_path / "repo")
    specs = []
    for name in names:
        spec_dir = root / name / ".auto-claude" / "specs" / "001-login"
        spec_dir.mkdir(parents=True)
        (spec_dir / "spec.md").write_text(f"# {name}\n")
        (root / name / "app.py").write_text(f"name = {name!r}\n")
        specs.append((root / name, spec_dir))
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "two projects")
    return root, [locate(p, s, root=tmp_path / "worktrees") for p, s in specs]


@pytest.mark.parametrize(
    "names", [("a", "b"), ("my app", "my-app"), ("x/.lock", "we~ird^:[@{dir}..")]
)
def test_same_named_specs_of_two_projects_have_their_own_branch_and_worktree(tmp_path, names):
    root, (one, two) = two_projects(tmp_path, names)
    assert one.branch != two.branch and one.worktree != two.worktree
    for location in (one, two):
        assert location.branch is not None and location.branch.endswith("/001-login")
        assert git(root, "check-ref-format", "--branch", location.branch).strip()
    first, second = open_worktree(one), open_worktree(two)
    (first.location.agent_project_dir / "app.py").write_text("name = 'changed in one'\n")
    commits.commit_subtask(first, "1.1", "one's work", "")
    assert (second.location.agent_project_dir / "app.py").read_text() == f"name = {names[1]!r}\n"
    assert Review(two, second.repo_git).commits() == []
    assert len(Review(one, first.repo_git).commits()) == 1
    assert git(root, "rev-parse", "--verify", "--quiet", str(one.branch)).strip()


def test_a_spec_in_the_root_keeps_the_branch_and_worktree_runs_had_before(repo, tmp_path):
    location = located(repo, tmp_path)
    assert location.branch == "agent-tui/001-test"
    assert location.worktree is not None and location.worktree.parent.parent == (
        tmp_path / "worktrees"
    )


def test_a_worktree_left_off_its_branch_is_put_back_on_it(repo, tmp_path):
    first = open_worktree(located(repo, tmp_path))
    git(first.root, "checkout", "--quiet", "--detach")
    again = open_worktree(located(repo, tmp_path))
    assert git(again.root, "symbolic-ref", "--short", "HEAD").strip() == "agent-tui/001-test"
    assert any("put back on" in note for note in again.repaired)


def test_a_commit_takes_the_project_but_never_a_tracked_spec_dir(tmp_path):
    project, spec_dir = make_repo(tmp_path / "repo", ignore_specs=False)
    worktree = open_worktree(locate(project, spec_dir, root=tmp_path / "worktrees"))
    copy = worktree.root / ".auto-claude" / "specs" / "001-test"
    (copy / "spec.md").write_text("# edited by the sync\n")
    (worktree.root / "feature.py").write_text("y = 2\n")
    done = commits.commit_subtask(worktree, "1.1", "the feature", "Sessions: 1")
    changed = git(worktree.root, "show", "--name-only", "--format=", done.commit).split()
    assert changed == ["feature.py"] and done.files == 1
    assert (
        git(worktree.root, "status", "--porcelain").strip()
        == "M .auto-claude/specs/001-test/spec.md"
    )


def test_a_token_in_the_work_stops_its_commit_and_stages_nothing(repo, tmp_path):
    worktree = open_worktree(located(repo, tmp_path))
    before = commits.head(worktree)
    (worktree.root / "settings.py").write_text(
        "DEBUG = True\nKEY = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345'\n"
    )
    done = commits.commit_subtask(worktree, "1.1", "settings", "")
    assert done.commit is None and commits.head(worktree) == before
    [finding] = done.findings
    assert (finding.path, finding.line) == ("settings.py", 2)
    assert "AbCdEfGhIj" not in finding.masked and "sk-ant-api03-…" in finding.masked
    assert git(worktree.root, "diff", "--cached", "--name-only") == ""  # nothing staged
    assert (worktree.root / "settings.py").exists()  # the work itself stays


def test_a_token_is_found_in_a_file_called_binary_and_on_a_line_that_starts_with_pluses(
    repo, tmp_path
):
    """git prints "Binary files differ" for a file the agent's .gitattributes marks
    ``-diff``, and ``+++ `` starts an added line that starts with ``++ ``."""
    worktree = open_worktree(located(repo, tmp_path))
    key = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    (worktree.root / ".gitattributes").write_text("*.dat -diff\n")
    (worktree.root / "notes.dat").write_text(f"api_key = {key}\n")
    (worktree.root / "fixture.txt").write_text(f"first\n++ {key}\n")
    done = commits.commit_subtask(worktree, "1.1", "fixtures", "")
    assert done.commit is None
    assert sorted((f.path, f.line) for f in done.findings) == [
        ("fixture.txt", 2),
        ("notes.dat", 1),
    ]


def test_a_rollback_undoes_changes_and_new_files_but_keeps_ignored_ones(repo, tmp_path):
    worktree = open_worktree(located(repo, tmp_path))
    (worktree.root / ".gitignore").write_text(".auto-claude/\n__pycache__/\n")
    commits.commit_subtask(worktree, "1.1", "ignore caches", "")
    (worktree.root / "src" / "app.py").write_text("x = 'broken'\n")
    (worktree.root / "README.md").unlink()
    (worktree.root / "new" / "deep").mkdir(parents=True)
    (worktree.root / "new" / "deep" / "file.py").write_text("junk\n")
    (worktree.root / "__pycache__").mkdir()
    (worktree.root / "__pycache__" / "app.pyc").write_text("cache")
    patch = commits.uncommitted_diff(worktree)
    good = commits.rollback(worktree)
    assert good == commits.head(worktree) and not commits.has_changes(worktree)
    assert (worktree.root / "src" / "app.py").read_text() == "x = 1\n"
    assert (worktree.root / "README.md").exists() and not (worktree.root / "new").exists()
    assert (worktree.root / "__pycache__" / "app.pyc").exists()
    text = patch.decode()
    assert "+x = 'broken'" in text and "new/deep/file.py" in text and "deleted file" in text


def test_the_patch_of_a_rollback_applies_to_the_good_commit(repo, tmp_path):
    worktree = open_worktree(located(repo, tmp_path))
    (worktree.root / "src" / "app.py").write_text("x = 3\n")
    (worktree.root / "added.txt").write_text("added\n")
    patch_path = tmp_path / "try.diff"
    patch_path.write_bytes(commits.uncommitted_diff(worktree))
    commits.rollback(worktree)
    git(worktree.root, "apply", str(patch_path))
    assert (worktree.root / "src" / "app.py").read_text() == "x = 3\n"
    assert (worktree.root / "added.txt").read_text() == "added\n"


def test_a_subtasks_commits_are_found_by_its_trailer(repo, tmp_path):
    worktree = open_worktree(located(repo, tmp_path))
    for subtask_id, name in (("1.1", "a.txt"), ("1.10", "b.txt"), ("1.1", "c.txt")):
        (worktree.root / name).write_text(name)
        commits.commit_subtask(worktree, subtask_id, f"make {name}", "")
    review = Review.of(worktree.location)
    found = review.commits("1.1")
    assert [subject for _, subject in found] == [
        "subtask 1.1: make a.txt",
        "subtask 1.1: make c.txt",
    ]
    diff = review.subtask_diff("1.1").decode()
    assert "a.txt" in diff and "c.txt" in diff and "b.txt" not in diff
    assert "+++ b/b.txt" in review.branch_diff().decode()


def test_agent_tui_commits_run_no_hook_of_the_repository(repo, tmp_path):
    hook = repo[0] / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path / 'hook-ran'}\nexit 1\n")
    os.chmod(hook, 0o755)
    worktree = open_worktree(located(repo, tmp_path))
    (worktree.root / "x.txt").write_text("x\n")
    assert commits.commit_subtask(worktree, "1.1", "x", "").commit is not None
    assert not (tmp_path / "hook-ran").exists()


def test_a_commit_without_an_identity_is_agent_tuis_and_with_one_the_users(
    repo, tmp_path, isolated_git
):
    worktree = open_worktree(located(repo, tmp_path))
    (worktree.root / "x.txt").write_text("x\n")
    first = commits.commit_subtask(worktree, "1.1", "x", "").commit
    assert git(repo[0], "log", "-1", "--format=%an <%ae>", first).strip() == (
        "agent-tui <agent-tui@localhost>"
    )
    isolated_git.write_text("[user]\n\tname = Dana\n\temail = dana@example.com\n")
    (worktree.root / "y.txt").write_text("y\n")
    second = commits.commit_subtask(worktree, "1.2", "y", "").commit
    assert git(repo[0], "log", "-1", "--format=%an <%ae>", second).strip() == (
        "Dana <dana@example.com>"
    )


def test_a_subtask_committed_already_is_not_committed_twice(repo, tmp_path):
    worktree = open_worktree(located(repo, tmp_path))
    (worktree.root / "x.txt").write_text("x\n")
    first = commits.commit_subtask(worktree, "1.1", "x", "").commit
    again = commits.commit_subtask(worktree, "1.1", "x", "")  # a run killed right after
    assert again.commit == first and commits.head(worktree) == first
    empty = commits.commit_subtask(worktree, "1.2", "nothing to change", "").commit
    assert empty != first  # a subtask that changed no file still gets its one commit


def test_a_subtask_commit_is_not_signed_even_where_the_user_signs(repo, tmp_path):
    # Signing may ask for a passphrase an unattended run cannot give; here it would fail.
    git(repo[0], "config", "commit.gpgsign", "true")
    git(repo[0], "config", "gpg.program", "false")
    worktree = open_worktree(located(repo, tmp_path))
    (worktree.root / "new.py").write_text("y = 2\n")
    done = commits.commit_subtask(worktree, "1.1", "add new.py", "Sessions: 1")
    assert done.commit is not None and done.files == 1
    assert git(repo[0], "config", "--get", "commit.gpgsign").strip() == "true"  # theirs, kept


def loose_objects(common_dir) -> set[str]:
    objects = common_dir / "objects"
    return {d.name + f.name for d in objects.iterdir() if len(d.name) == 2 for f in d.iterdir()}


def test_a_runs_commits_are_packed_as_it_goes_and_nothing_of_the_users_is_touched(repo, tmp_path):
    location = located(repo, tmp_path)
    worktree = open_worktree(location)
    common = location.common_dir
    git(repo[0], "repack", "-q")  # the user's history in a pack of the user's
    packs_before = set((common / "objects" / "pack").glob("*.pack"))
    (tmp_path / "blob.txt").write_text("kept loose\n")
    users_own = git(repo[0], "hash-object", "-w", str(tmp_path / "blob.txt")).strip()
    since = commits.head(worktree)
    for n in range(1, 41):
        (worktree.root / f"out_{n}.txt").write_text(f"{n}\n")
        assert commits.commit_subtask(worktree, f"1.{n}", f"make out_{n}.txt", "").commit
        if n % packing.PACK_EVERY == 0:
            since = packing.pack_since(worktree, since)
            assert loose_objects(common) == {users_own}  # each commit's 3 objects packed
    assert len(loose_objects(common)) == 1 + 3 * (40 - packing.PACK_EVERY)
    assert packs_before <= set((common / "objects" / "pack").glob("*.pack"))
    git(repo[0], "fsck", "--no-progress", "--no-dangling")
    assert git(worktree.root, "show", "HEAD~39:out_1.txt") == "1\n"
    assert git(repo[0], "cat-file", "-p", users_own) == "kept loose\n"
