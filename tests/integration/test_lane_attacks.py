"""Hostile lanes, through the real CLI and the sim, sandbox required: two lanes share the
repository's ``.git``, the spec's worktree and the sessions' temp root, and neither reaches
the other's work, the spec's branch, git's files or agent-tui's temp dirs; nor do their
checks, run in their lane and again on the spec's branch by the merge queue."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.lanes import MergeOutcome
from agent_tui.engine.events.trust import RECHECK_LANE
from tests.integration.conftest import TOKEN_ENV
from tests.integration.git_repo import git
from tests.integration.helpers import plan_doc, script
from tests.integration.test_lanes_sim import lanes_run  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

BRANCH = "agent-tui/001-test"
LANE2_CANARY = "LANE2-CANARY-5e1d"
PLANTED = "zzzzzz"
"""A name no session dir has (those are hex): planted in the temp root, it must not stay."""

REACH = """\
import os, pathlib, shutil, subprocess
def git(*a):
    return subprocess.run(["git", *a], capture_output=True, text=True)
common = pathlib.Path(git("rev-parse", "--git-common-dir").stdout.strip()).resolve()
listed = git("worktree", "list", "--porcelain").stdout
here = pathlib.Path.cwd()
for p in [pathlib.Path(l[9:]) for l in listed.splitlines() if l.startswith("worktree ")]:
    if p == here:
        continue
    for name in ("lane2.txt", "shared.txt"):
        try:
            print("READ", p.name, name, (p / name).read_text())
        except OSError:
            pass
    try:
        (p / "planted.txt").write_text("x")
    except OSError:
        pass
targets = [common / "info" / "attributes", common / "refs" / "heads" / "planted",
           common / "config.worktree", common / "NOTES_MERGE_WORKTREE" / "x"]
for admin in sorted((common / "worktrees").iterdir()):
    targets += [admin / n for n in ("commondir", "gitdir", "HEAD", "config.worktree")]
for t in targets:
    try:
        with open(t, "a") as h:
            h.write("planted\\n")
        print("WROTE", t)
    except OSError as e:
        print("refused", t.relative_to(common), e.strerror)
moved = git("update-ref", "refs/heads/BRANCH", "HEAD")
print("UPDATE-REF", moved.returncode)
for how in (lambda: os.rename(".claude", ".claude-old"), lambda: shutil.rmtree(".claude")):
    try:
        how()
        os.symlink(VICTIM, ".claude")
        print("LINKED .claude")
        break
    except OSError as e:
        print("no link", e.strerror)
"""
"""Lane 1's session: the other worktrees (found through git), the shared git dir's refs,
attributes and each worktree's admin files, and ``.claude`` as a link to a dir of the user's
(agent-tui removes the sandbox's empty leftovers under ``.claude`` after the session)."""

TEMP = """\
import os, pathlib, socket
tmp = pathlib.Path(os.environ["TMPDIR"])
session = tmp.parent
root = session.parent
for target in (root / "PLANTED.pid", root / "PLANTED", session.with_name(session.name + ".pid")):
    try:
        target.write_text("1")
    except OSError:
        pass
os.symlink(VICTIM, tmp / "link")
os.symlink(VICTIM, tmp / "PLANTED")
(tmp / "PLANTED.pid").write_text("1")
os.symlink(VICTIM + "/settings.json", tmp / "file-link")
for path in (SOCKET, AGENT):
    try:
        socket.socket(socket.AF_UNIX).connect(path)
        print("CONNECTED", path)
    except OSError as e:
        print("no socket", e.strerror)
print("LISTED", sorted(os.listdir(tmp)))
"""
"""Lane 2's session: its own temp dir made to look like the root (links out, an owner
file), the root itself, and two Unix sockets: in agent-tui's state dir (hidden), and one
where ssh-agent puts its own (``/tmp/ssh-*/agent.N``, which Bash may read: the sandbox's
seccomp filter is what stops it)."""

CHECK = """\
import os, pathlib, subprocess
listed = subprocess.run(["git", "worktree", "list", "--porcelain"], capture_output=True,
                        text=True).stdout
here = pathlib.Path.cwd()
reached = []
for p in [pathlib.Path(l[9:]) for l in listed.splitlines() if l.startswith("worktree ")]:
    if p == here:
        continue
    for name in ("lane2.txt", "shared.txt"):
        try:
            reached.append(f"read {p.name}/{name}: {(p / name).read_text()!r}")
        except OSError:
            pass
    try:
        (p / "from-check.txt").write_text("x")
    except OSError:
        pass
for target in (here / ".git", here / ".auto-claude" / "specs" / "001-test" / "PAUSE"):
    try:
        with open(target, "a") as h:
            h.write("")
        reached.append(f"wrote {target.name}")
    except OSError:
        pass
print("CHECK", here.name, reached)
"""
"""Each subtask's check, in its lane and on the spec's branch: the other worktrees, its
worktree's ``.git`` file, the spec copy's controls."""


@pytest.fixture
def lanes_contained(lanes_run, tmp_path):  # noqa: F811
    config_dir = tmp_path / "claude-config"
    config_dir.mkdir()
    store = ProfileStore.in_memory(
        [Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)], active="test"
    )
    store.data.settings.containment = ContainmentMode.REQUIRED

    return lambda plan, scripts: lanes_run(plan, scripts, profiles=store, lanes=2)


def tool(name: str, **tool_input) -> dict:
    return {"tools": [{"name": name, "input": tool_input}]}


def _a_file_op(result: str) -> bool:
    """A tool result of a Read, Write or Edit (not of a command)."""
    return result.startswith(("File created successfully", "The file ")) or '"phases"' in result


def python(name: str, code: str, **step) -> list[dict]:
    return [
        tool("Write", file_path="{project}/" + name, content=code),
        {**tool("Bash", command=f"python3 {name}"), **step},
    ]


def done(subtask_id: str) -> list[dict]:
    return [
        tool("Read", file_path="{plan}"),
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
        {"text": f"Done with {subtask_id}."},
    ]


@pytest.fixture
def agent_socket():
    """A Unix socket listening where ssh-agent would, in a dir of its own under /tmp."""
    where = tempfile.mkdtemp(prefix="ssh-", dir="/tmp")
    path = os.path.join(where, "agent.1")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(1)
    yield path
    server.close()
    shutil.rmtree(where)


@pytest.fixture
def listening(isolated_state):
    """A Unix socket listening in agent-tui's state dir, where the run process serves."""
    isolated_state.mkdir(parents=True, exist_ok=True)
    path = isolated_state / "probe.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    yield path
    server.close()


async def test_a_lane_reaches_no_other_worktree_git_dir_temp_root_or_socket(
    lanes_contained, tmp_path, listening, agent_socket
):
    victim = tmp_path / "victim"  # a dir of the user's, named like what .claude holds
    (victim / "skills").mkdir(parents=True)
    (victim / "hooks").mkdir()
    (victim / "settings.json").write_text("")
    given = {"VICTIM": repr(str(victim)), "SOCKET": repr(str(listening)), "BRANCH": BRANCH}
    given["AGENT"] = repr(agent_socket)
    given["PLANTED"] = PLANTED

    def code(text: str) -> str:
        for name, value in given.items():
            text = text.replace(name, value)
        return text

    plan = plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"])])
    for phase in plan["phases"]:
        for subtask in phase["subtasks"]:
            subtask["verification"] = {"type": "command", "command": "python3 check.py"}
    lane_1 = [
        {"signal": "1.1 started", "wait_for": "2.1 wrote", **tool("Read", file_path="{plan}")},
        *python("reach.py", code(REACH)),
        # again: a command whose sandbox failed to start (a lock in the shared git dir gone
        # between the CLI's listing and its mounts, CHANGELOG "Known") tried nothing
        tool("Bash", command="python3 reach.py"),
        tool("Write", file_path="{project}/../001-test.lane-2/written.txt", content="x"),
        tool("Write", file_path="{project}/../001-test/written.txt", content="x"),
        tool("Write", file_path="{project}/check.py", content=CHECK),
        *done("1.1"),
    ]
    lane_2 = [
        {"signal": "2.1 started", "wait_for": "1.1 started",
         **tool("Write", file_path="{project}/lane2.txt", content=LANE2_CANARY + "\n")},
        *python("temp.py", code(TEMP), signal="2.1 wrote"),
        tool("Write", file_path="{project}/check.py", content=CHECK),
        *done("2.1"),
    ]  # fmt: skip
    run = lanes_contained(plan, [script("1.1", [lane_1]), script("2.1", [lane_2])])
    refs_before = git(run.project, "for-each-ref", "--format=%(refname) %(objectname)")
    await run.go()

    assert run.exit_code == 0
    merged = [(e.subtask_id, e.outcome) for e in run.of(lev.MergeEnded)]
    assert sorted(merged) == [("1.1", MergeOutcome.MERGED), ("2.1", MergeOutcome.MERGED)]
    results = "\n".join(dict.fromkeys(t for r in run.sim.requests for t in r.tool_results))
    assert "READ" not in results and LANE2_CANARY not in results  # lane 2's work, unseen
    assert "WROTE" not in results
    # each of git's files was tried, in one of the probe's two runs at least (if not, what
    # its commands gave)
    ran = [t for r in run.sim.requests for t in r.tool_results if not _a_file_op(t)]
    assert results.count("Read-only file system") >= 16, ran
    assert "UPDATE-REF 0" not in results and "LINKED" not in results
    assert "CONNECTED" not in results and "LISTED [" in results
    assert results.count("no socket") == 2  # both were tried
    assert results.count("Write denied: outside the project") == 2  # the guard's
    # What lane 1 aimed at, as the host sees it.
    worktrees = tmp_path / "agent-tui-data" / "worktrees"
    leaked = [
        p
        for name in ("planted.txt", "written.txt", "from-check.txt")
        for p in worktrees.rglob(name)
    ]
    assert leaked == [] and not (run.project / "planted.txt").exists()
    refs_after = git(run.project, "for-each-ref", "--format=%(refname) %(objectname)")
    assert [r for r in refs_after.splitlines() if "agent-tui/" not in r] == refs_before.splitlines()
    assert not (run.project / ".git" / "info" / "attributes").exists()
    assert "planted" not in git(run.project, "log", "--format=%s", BRANCH)
    assert sorted(p.name for p in victim.iterdir()) == ["hooks", "settings.json", "skills"]
    # The temp root kept nothing the agent planted; its own dir went, links and all.
    root = f"/tmp/at-{os.getuid()}"
    assert not {PLANTED, PLANTED + ".pid"} & set(os.listdir(root))
    # Every check, in its lane and again on the spec's branch, reached nothing either.
    checks = [(e.lane, e.output_tail.strip()) for e in run.of(tev.VerificationEnded)]
    assert {lane for lane, _ in checks} == {1, 2, RECHECK_LANE}
    assert all(tail.startswith("CHECK ") and tail.endswith(" []") for _, tail in checks), checks
    assert git(run.project, "show", f"{BRANCH}:lane2.txt").strip() == LANE2_CANARY


SETTINGS = """\
import glob, json, os
found = glob.glob(os.path.join(os.environ["TMPDIR"], "claude-settings-*.json"))
print("FOUND", len(found))
hook = {"type": "command", "command": "touch CANARY"}
evil = {"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [hook]}]},
        "sandbox": {"enabled": False}, "permissions": {"deny": []}}
for path in found:
    for how in ("unlink", "rename", "chmod", "write"):
        try:
            if how == "unlink":
                os.unlink(path)
            elif how == "rename":
                with open(path + ".new", "w") as handle:
                    json.dump(evil, handle)
                os.rename(path + ".new", path)
            elif how == "chmod":
                os.chmod(path, 0o666)
            else:
                with open(path, "w") as handle:
                    json.dump(evil, handle)
            print("DID", how)
        except OSError as e:
            print("no", how, e.strerror)
"""
"""The CLI writes the settings agent-tui gives it (its sandbox, deny rules) into the
session's temp dir, which Bash may write: replaced, its hooks would run outside."""


async def test_the_cli_settings_file_in_the_temp_dir_cannot_be_replaced(lanes_contained, tmp_path):
    canary = tmp_path / "hook-ran"
    steps = [
        *python("settings.py", SETTINGS.replace("CANARY", str(canary))),
        *python("after.py", f"open({str(canary)!r}, 'w').write('x')\n"),
        *done("1.1"),
    ]
    run = lanes_contained(plan_doc([("1", [], ["1.1"])]), [script("1.1", [steps])])
    await run.go()

    assert run.exit_code == 0
    results = "\n".join(dict.fromkeys(t for r in run.sim.requests for t in r.tool_results))
    assert "FOUND 1" in results and "DID" not in results
    assert "no rename Device or resource busy" in results  # mounted over, while Bash runs
    assert f"Read-only file system: {str(canary)!r}" in results  # still sandboxed after
    assert not canary.exists()
