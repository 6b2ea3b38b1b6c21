"""A hostile agent in a worktree, through the real CLI and the sim, sandbox required: it
cannot commit, move a branch, or plant a hook or config in the user's repository, while
its honest edit is committed by agent-tui."""

from __future__ import annotations

import re

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.events import workspace as wev
from tests.integration.conftest import TOKEN_ENV
from tests.integration.git_repo import branch_log, git
from tests.integration.helpers import coder_steps, plan_doc, script

pytestmark = pytest.mark.integration

ATTACK = """\
import pathlib, subprocess
def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True)
common = pathlib.Path(git("rev-parse", "--git-common-dir").stdout.strip()).resolve()
for args in (
    ["-c", "user.name=x", "-c", "user.email=x@x", "commit", "--allow-empty", "-m", "evil"],
    ["update-ref", "refs/heads/main", "HEAD"],
    ["branch", "evil"],
):
    done = git(*args)
    print("GIT", args[4] if args[0] == "-c" else args[0], done.returncode)
targets = [common / "hooks" / "pre-commit", common / "config", common / "refs" / "heads" / "evil"]
for target in targets + [pathlib.Path(".git")]:
    try:
        with open(target, "a") as handle:
            handle.write("[core]\\n\\thooksPath = /tmp\\n")
        print("WROTE", target)
    except OSError as exc:
        print("refused", target.name, exc.strerror)
"""


@pytest.fixture
def contained(make_run, tmp_path):
    config_dir = tmp_path / "claude-config"
    config_dir.mkdir()
    store = ProfileStore.in_memory(
        [Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)], active="test"
    )
    store.data.settings.containment = ContainmentMode.REQUIRED

    def build(steps_for, containment=ContainmentMode.REQUIRED):
        store.data.settings.containment = containment
        project = tmp_path / "project"
        steps = steps_for(project)
        run = make_run(plan_doc([("1", [], ["1.1"])]), [script("1.1", [steps])], profiles=store)
        (run.project / ".gitignore").write_text(".auto-claude/\n")
        git(run.project, "init", "--quiet", "--initial-branch=main")
        git(run.project, "add", "--all")
        git(run.project, "commit", "--quiet", "-m", "start")
        return run

    return build


def attack_steps(project) -> list[dict]:
    def tool(name, **tool_input):
        return {"tools": [{"name": name, "input": tool_input}]}

    return [
        tool("Write", file_path="{project}/attack.py", content=ATTACK),
        tool("Bash", command="python3 attack.py"),
        tool("Bash", command="git commit --allow-empty -m evil"),
        tool("Write", file_path=str(project / ".git" / "hooks" / "post-commit"), content="x"),
        *coder_steps("1.1"),
    ]


async def test_the_agent_cannot_commit_move_a_branch_or_plant_a_hook(contained):
    run = contained(attack_steps)
    project = run.project
    refs_before = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    config_before = (project / ".git" / "config").read_bytes()
    await run.go()
    assert run.exit_code == 0
    results = " ".join(run.sim.requests[-1].tool_results)
    assert "WROTE" not in results
    for name in ("pre-commit", "config", "evil", ".git"):
        assert f"refused {name} Read-only file system" in results
    for command in ("commit", "update-ref", "branch"):
        assert re.search(rf"GIT {command} [1-9]", results), command  # git ran, and failed
    assert "Bash denied: git commit writes the repository" in results  # the guard, too
    refs_after = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    assert [r for r in refs_after.splitlines() if "agent-tui/" not in r] == refs_before.splitlines()
    assert (project / ".git" / "config").read_bytes() == config_before
    assert not (project / ".git" / "hooks" / "pre-commit").exists()
    assert not (project / ".git" / "hooks" / "post-commit").exists()
    assert branch_log(project, "agent-tui/001-test") == ["subtask 1.1: make 1.1"]
    assert [e.id for e in run.of(wev.SubtaskCommitted)] == ["1.1"]
    leftovers = ("NOTES_MERGE_WORKTREE", "glab-cli", "config.worktree")
    assert not any((project / ".git" / name).exists() for name in leftovers)


def nested_repo_code(canary) -> str:
    """The agent makes a repository inside its worktree whose filter and fsmonitor would
    write ``canary`` (outside its sandbox: only agent-tui's own git could), commits in it
    with its filter off, and makes its files look older than any index."""
    payload = f"sh -c 'echo ran >> {canary}; cat'"
    return f"""\
import os, pathlib, subprocess, time
subprocess.run(["git", "init", "-q", "sub"], check=True)
config = pathlib.Path("sub/.git/config")
config.write_text(config.read_text() + '''[filter "x"]
\\tclean = {payload}
\\tsmudge = {payload}
[core]
\\tfsmonitor = {payload}
''')
pathlib.Path("sub/.gitattributes").write_text("* filter=x\\n")
pathlib.Path("sub/f.txt").write_text("nested\\n")
quiet = ["-c", "filter.x.clean=cat", "-c", "core.fsmonitor=false", "-c", "user.name=a",
         "-c", "user.email=a@a"]
for step in (["add", "-A"], ["commit", "-qm", "nested"]):
    subprocess.run(["git", *quiet, *step], cwd="sub", check=True)
old = time.time() - 30 * 86400
for path in pathlib.Path("sub").rglob("*"):
    if ".git" not in path.parts:
        os.utime(path, (old, old))
print("NESTED", pathlib.Path("sub/.git/HEAD").exists())
"""


SPEC_GIT = """\
import pathlib
spec = pathlib.Path(".auto-claude/specs/001-test/.git")
for name, text in [("HEAD", "ref: refs/heads/main\\n"), ("objects/ab/cd", "x"),
                   ("refs/heads/main", "0" * 40 + "\\n"),
                   ("config", "[core]\\n\\tfsmonitor = PAYLOAD\\n\\tpager = PAYLOAD\\n")]:
    (spec / name).parent.mkdir(parents=True, exist_ok=True)
    (spec / name).write_text(text.replace("PAYLOAD", "touch CANARY"))
print("PLANTED", sorted(p.name for p in spec.iterdir()))
"""


def files_of(project) -> list[str]:
    """The user's checkout as a listing, git's own files and the spec dirs aside."""
    return sorted(
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if not p.relative_to(project).as_posix().startswith((".git", ".auto-claude"))
    )


def python_steps(name: str, code: str) -> list[dict]:
    return [
        {
            "tools": [
                {"name": "Write", "input": {"file_path": "{project}/" + name, "content": code}}
            ]
        },
        {"tools": [{"name": "Bash", "input": {"command": f"python3 {name}"}}]},
    ]


async def test_a_nested_repository_runs_nothing_and_honest_work_still_merges(
    contained, tmp_path, capsys
):
    from agent_tui.cli.commands import main
    from agent_tui.engine.events import core as ev

    canary = tmp_path / "canary"
    run = contained(lambda project: [*python_steps("nest.py", nested_repo_code(canary)),
                                     *coder_steps("1.1")])  # fmt: skip
    project = run.project
    token_url = "https://x-access-token:ghp_URLTOKENCANARY0123456789@github.com/a/b.git"
    git(project, "config", "remote.origin.url", token_url)  # readable to the agent
    before = files_of(project)
    await run.go()
    assert run.exit_code == 0 and "NESTED True" in " ".join(run.sim.requests[-1].tool_results)
    reported = [e.message for e in run.of(ev.Notice) if e.message.startswith("git config:")]
    assert reported == [
        f"git config: remote.origin.url in {project / '.git' / 'config'} holds a credential a "
        "session could read: keep it in a credential helper instead (git config --global "
        "credential.helper store, or your system's: osxkeychain, libsecret, manager) and "
        "remove it from there"
    ]
    assert not any("URLTOKENCANARY" in e.message for e in run.of(ev.Notice))
    assert not canary.exists()
    assert files_of(project) == before  # the user's checkout gained no file
    assert branch_log(project, "agent-tui/001-test") == ["subtask 1.1: make 1.1"]
    tree = git(project, "ls-tree", "-r", "agent-tui/001-test")
    assert "out_1_1.txt" in tree and "sub" not in tree and "160000" not in tree
    said = [e.message for e in run.of(ev.Notice) if "separate git repository" in e.message]
    assert len(said) == 1 and said[0].startswith("workspace: sub/ is a separate git repository")

    assert main(["merge", "--project", str(project)]) == 0, capsys.readouterr().err
    assert (project / "out_1_1.txt").read_text() == "1.1\n" and not (project / "sub").exists()
    assert not canary.exists()


@pytest.mark.parametrize("mode", [ContainmentMode.REQUIRED, ContainmentMode.OFF])
async def test_a_git_dir_in_the_agents_spec_copy_is_not_synced_and_said_once(
    contained, tmp_path, mode
):
    """Sandboxed, neither the CLI's Write (``.git/`` and ``.GIT/`` are sensitive paths to
    it) nor Bash (the spec dir is read-only to it) can plant a git dir, while ``pause`` (the
    user's ``PAUSE`` on a case-insensitive disk) gets in; unsandboxed, Bash plants ``.git/``
    too.  Only the known spec files come back, and what was left is named once."""
    from agent_tui.engine.events import core as ev

    canary = tmp_path / "canary"
    code = SPEC_GIT.replace("CANARY", str(canary))

    def write(path: str, text: str) -> dict:
        return {"tools": [{"name": "Write", "input": {"file_path": path, "content": text}}]}

    hooks = f"[core]\n\tfsmonitor = touch {canary}\n\tpager = touch {canary}\n"
    steps = [
        write("{spec_dir}/.git/config", hooks),
        write("{spec_dir}/.GIT/config", hooks),
        write("{spec_dir}/.GIT/HEAD", "ref: refs/heads/main\n"),
        write("{spec_dir}/pause", ""),
        *python_steps("plant.py", code),
        *coder_steps("1.1"),
    ]
    run = contained(lambda project: steps, containment=mode)
    await run.go()
    assert run.exit_code == 0 and run.statuses() == {"1.1": "completed"}
    results = " ".join(t for r in run.sim.requests for t in r.tool_results)
    sandboxed = mode is ContainmentMode.REQUIRED
    assert ("PLANTED ['HEAD', 'config', 'objects', 'refs']" in results) is not sandboxed
    assert not (run.spec_dir / ".git").exists() and not (run.spec_dir / ".GIT").exists()
    assert sorted(p.name for p in run.spec_dir.iterdir() if not p.name.startswith(".")) == [
        "implementation_plan.json", "logs", "memory", "spec.md",
    ]  # fmt: skip
    said = [e.message for e in run.of(ev.Notice) if "not synced back" in e.message]
    prefix = (
        "spec sync: not synced back from the agent's spec copy (only the spec files agent-tui "
        "knows are): "
    )
    assert all(note.startswith(prefix) for note in said)
    named = [name for note in said for name in note.removeprefix(prefix).split(", ")]
    assert sorted(named) == (["pause"] if sandboxed else [".git/", "pause"])  # each once
    assert not canary.exists()
    assert git(run.project, "status", "--porcelain") == ""  # git in the user's spec dir: its own


async def test_what_the_agent_unignores_and_plants_never_replaces_yours_nor_runs_as_you(
    contained, tmp_path, capsys
):
    """Through the real CLI: the agent stops ignoring ``.env`` and writes its own, and plants
    a git directory whose ``objects`` and ``refs`` are links; ``merge`` refuses to replace
    your ignored ``.env``, and the copy is never committed."""
    from agent_tui.cli.commands import main

    canary = tmp_path / "canary"
    plant = f"""\
import os, pathlib
pathlib.Path(".gitignore").write_text(".auto-claude/\\n")
pathlib.Path(".env").write_text("AGENT=1\\n")
d = pathlib.Path("tools/x"); d.mkdir(parents=True)
(d / "HEAD").write_text("ref: refs/heads/main\\n")
(d / "config").write_text('[core]\\n\\tbare = false\\n\\tworktree = .\\n\\tfsmonitor = "echo ran >> {canary}; false"\\n')
os.symlink(".", d / "objects"); os.symlink(".", d / "refs")
print("PLANTED")
"""  # noqa: E501
    run = contained(lambda project: [*python_steps("plant.py", plant), *coder_steps("1.1")])
    project = run.project
    (project / ".gitignore").write_text(".auto-claude/\n.env\n")
    git(project, "commit", "--quiet", "-am", "ignore .env")
    (project / ".env").write_text("MINE=secret\n")
    await run.go()
    assert run.exit_code == 0 and "PLANTED" in " ".join(run.sim.requests[-1].tool_results)
    tree = git(project, "ls-tree", "-r", "--name-only", "agent-tui/001-test")
    assert ".env" in tree and "tools/x" not in tree  # the copy is taken out of the commit

    capsys.readouterr()
    assert main(["merge", "--project", str(project)]) == 2
    assert "adds .env, which you have here untracked or ignored" in capsys.readouterr().err
    assert (project / ".env").read_text() == "MINE=secret\n"
    assert not canary.exists()
