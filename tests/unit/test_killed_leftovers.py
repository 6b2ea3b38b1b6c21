"""What a killed session's sandbox left: told from what the user made by its traits and by
when that session ran, and removed before the next run's first session."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from agent_tui.engine.agents.transcript import UNFINISHED_SLACK_S, unfinished_window
from agent_tui.engine.events import core as ev
from agent_tui.workspace.leftovers import Leftovers, hold, is_placeholder, release
from tests.unit.loop_harness import make_setup, of


def transcript(logs, number, started, *, outcome=False, last_write=None):
    """A session's transcript as agent-tui writes it: the prompt first, the outcome last."""
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"session-{number:03d}.jsonl"
    lines = [
        {"ts": started, "type": "prompt", "data": {"kind": "coder", "subtask_id": "1.1"}},
        {"ts": started + 1, "type": "message", "data": {"kind": "AssistantMessage"}},
    ]
    if outcome:
        lines.append({"ts": started + 2, "type": "outcome", "data": {"outcome": "success"}})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    if last_write is not None:
        os.utime(path, (last_write, last_write))
    return path


def placeholder(path):
    """What bwrap makes to mount /dev/null on: an empty file, mode 0444."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    path.chmod(0o444)
    return path


def test_a_session_with_its_outcome_recorded_ended_and_left_nothing(tmp_path):
    now = time.time()
    transcript(tmp_path, 1, now - 50, outcome=False)
    transcript(tmp_path, 2, now - 10, outcome=True)
    assert unfinished_window(tmp_path) is None  # only the latest session counts
    assert unfinished_window(tmp_path / "none") is None


def test_a_session_killed_with_its_run_ran_from_its_prompt_to_its_last_line(tmp_path):
    now = time.time()
    path = transcript(tmp_path, 3, now - 60, last_write=now - 30)
    assert unfinished_window(tmp_path) == pytest.approx((now - 60, now - 30 + UNFINISHED_SLACK_S))
    with path.open("a") as handle:
        handle.write('{"ts": 1, "type": "outc')  # cut off as the run was killed
    assert unfinished_window(tmp_path) is not None
    path.write_text("not json\n")
    assert unfinished_window(tmp_path) is None  # nothing is assumed


def test_only_an_untouched_placeholder_made_while_the_session_ran_is_one(tmp_path):
    now = time.time()
    during = (now - 5, now + 5)
    assert is_placeholder(placeholder(tmp_path / "PAUSE"), during)
    assert not is_placeholder(tmp_path / "PAUSE", (now - 100, now - 50))  # changed since
    writable = placeholder(tmp_path / "writable")
    writable.chmod(0o644)
    assert not is_placeholder(writable, during)  # a user's `touch PAUSE`
    note = tmp_path / "note"
    note.write_text("until Monday\n")
    note.chmod(0o444)
    assert not is_placeholder(note, during)
    (tmp_path / "link").symlink_to(tmp_path / "PAUSE")
    assert not is_placeholder(tmp_path / "link", during)
    (tmp_path / "dir").mkdir()
    assert not is_placeholder(tmp_path / "dir", during)


def test_after_a_killed_session_its_placeholders_go_and_the_users_files_stay(tmp_path):
    project, spec = tmp_path / "project", tmp_path / "project" / "spec"
    made = [placeholder(project / name) for name in (".bashrc", ".mcp.json", ".vscode")]
    made.append(placeholder(project / ".claude" / "settings.json"))
    made.append(placeholder(spec / "PAUSE"))
    (project / ".gitconfig").write_text("[user]\n")  # the user's own
    (project / ".profile").write_text("")
    (project / ".profile").chmod(0o644)
    now = time.time()
    removed = Leftovers((), (project,)).after_killed((now - 5, now + 5), [spec / "PAUSE"])
    assert sorted(removed) == sorted(made)
    assert not any(p.exists() for p in made)
    assert (project / ".gitconfig").read_text() == "[user]\n" and (project / ".profile").exists()


@pytest.fixture
def setup(tmp_path):
    return make_setup(tmp_path)


async def test_a_pause_a_killed_session_left_is_removed_and_does_not_pause(setup):
    now = time.time()
    transcript(setup.spec_dir / "logs", 1, now - 20, last_write=now)
    pause = placeholder(setup.spec_dir / "PAUSE")
    stray = placeholder(setup.spec_dir.parents[2] / ".bashrc")
    loop, sessions = setup()
    assert await asyncio.wait_for(loop.run(), 10) == 0  # a pause would never end: no one resumes
    assert not of(setup.events, ev.Paused)
    assert [s.subtask_id for s in sessions.specs] == ["1.1", "1.2"]
    assert not pause.exists() and not stray.exists()
    notices = [n.message for n in of(setup.events, ev.Notice)]
    assert any("killed session's sandbox left" in m and "PAUSE" in m for m in notices), notices


@pytest.mark.parametrize("why", ["touched after the kill", "the session ended"])
async def test_a_read_only_empty_pause_the_user_touched_or_made_pauses(setup, why):
    now = time.time()
    if why == "touched after the kill":
        transcript(setup.spec_dir / "logs", 1, now - 200, last_write=now - 100)
    else:
        transcript(setup.spec_dir / "logs", 1, now - 20, outcome=True)
    pause = placeholder(setup.spec_dir / "PAUSE")
    loop, sessions = setup()
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(until(lambda: loop.paused), 10)
    assert [p.reason for p in of(setup.events, ev.Paused)] == ["PAUSE file"]
    assert pause.exists() and not sessions.specs
    loop.resume()
    assert await asyncio.wait_for(task, 10) == 0
    assert not pause.exists()  # resuming from the app removes it


async def until(condition):
    while not condition():
        await asyncio.sleep(0)


def test_lanes_hold_the_shared_git_dirs_mount_points_and_release_only_theirs(tmp_path):
    git_dir = tmp_path / ".git"
    (git_dir / "info").mkdir(parents=True)
    (git_dir / "objects" / "info").mkdir(parents=True)
    (git_dir / "remotes").mkdir()  # the user's own: not made, not removed
    made = hold(git_dir)
    names = sorted(p.relative_to(git_dir).as_posix() for p in made)
    assert names == [
        "NOTES_MERGE_WORKTREE",
        "config.worktree",
        "glab-cli",
        "info/.claude-sandbox-noreplace",
        "objects/info/.claude-sandbox-noreplace",
        "objects/info/alternates",
        "objects/info/commit-graphs",
        "objects/info/commit-graphs/.claude-sandbox-noreplace",
        "worktrees",
    ]
    assert (git_dir / "objects" / "info" / "alternates").is_file()
    assert (git_dir / "config.worktree").is_file() and (git_dir / "glab-cli").is_dir()
    # Held, they exist before every session: a session's tidy keeps them.
    leftovers = Leftovers((git_dir,), ())
    existed = leftovers.before()
    assert leftovers.tidy(existed) == []
    assert all(p.exists() for p in made)
    (git_dir / "glab-cli" / "config.yml").write_text("someone's\n")  # no longer empty: stays
    removed = release(made)
    assert sorted(p.relative_to(git_dir).as_posix() for p in removed) == [
        name for name in names if name != "glab-cli"
    ]
    assert (git_dir / "glab-cli" / "config.yml").is_file() and (git_dir / "remotes").is_dir()
    assert sorted(os.listdir(git_dir / "objects" / "info")) == []


def test_nothing_is_removed_through_a_claude_dir_made_a_link(tmp_path):
    # The CLI's mounts keep the agent from making .claude a link; if one were made, the
    # tidy after a session and after a kill would empty dirs elsewhere. Neither follows it.
    elsewhere = tmp_path / "yours"
    (elsewhere / "skills").mkdir(parents=True)
    (elsewhere / "settings.json").write_text("")
    now = time.time()
    placeholder(elsewhere / "settings.local.json")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".claude").symlink_to(elsewhere)
    leftovers = Leftovers(git_dirs=(), work_dirs=(work,))

    assert leftovers.tidy(existed=()) == []
    assert leftovers.after_killed((now - 60, now + 60)) == []
    assert sorted(p.name for p in elsewhere.iterdir()) == [
        "settings.json",
        "settings.local.json",
        "skills",
    ]
    assert (work / ".claude").is_symlink()
