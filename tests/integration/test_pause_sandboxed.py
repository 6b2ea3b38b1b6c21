"""A pause and a note the user gives while a sandboxed command runs are never lost.

One scripted run per layout (in place, and in a git worktree) through the real CLI with the
sandbox required, four subtasks.  While each command runs, the user acts as the README says:

- 1.1, its Bash command: ``touch PAUSE``, and a note written as ``touch`` then an append;
  the loop pauses after the session; the user marks 1.4 completed in the plan, resumes;
- 1.2, its Bash command: the note rewritten whole (a temp file renamed over it, as the app's
  ``m`` does), then the command tries to write the note and PAUSE itself; and during 1.2's
  verification check (run contained too) ``touch PAUSE`` again: the loop pauses after it;
- 1.3, its Bash command: the CLI is killed (SIGKILL), which leaves the sandbox's empty
  read-only mount points behind; the try fails, the next one completes;
- 1.4 never runs: the user marked it completed while the run was paused.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from agent_tui.workspace.leftovers import CLI_PROTECTED
from tests.conftest import MemoryKeyring
from tests.integration.git_repo import git, make_repo
from tests.integration.helpers import script

pytestmark = pytest.mark.integration

RUN_TIMEOUT_S = 240.0
"""Far beyond the run's half a minute: only a run that can never end meets it."""
STEP_TIMEOUT_S = 90.0
"""How long the user waits for a command to start before giving up (the run then fails)."""
TOKEN_ENV = "AGENT_TUI_PAUSE_TEST_TOKEN"
SPEC = "001-test"
SPEC_REL = f".auto-claude/specs/{SPEC}"
NOTE_ONE = "note one: keep the change small"
NOTE_TWO = "note two: prefer pathlib"
WAIT = """\
import os, sys, time

tag, spec = sys.argv[1], sys.argv[2]
open(f"started-{tag}", "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(f"go-{tag}") and time.monotonic() < deadline:
    time.sleep(0.02)
for name in ("HUMAN_INPUT.md", "PAUSE"):
    try:
        with open(os.path.join(spec, name), "a") as handle:
            handle.write("FORGED by the agent\\n")
        print("WROTE", name)
    except OSError as exc:
        print("refused", name, exc.strerror)
for name in (f"started-{tag}", f"go-{tag}"):
    if os.path.exists(name):
        os.remove(name)
print("done", tag)
"""
"""A command that runs until the user has acted (``go-TAG``), then tries the controls."""


def waiting(tag: str) -> dict[str, Any]:
    command = f"python3 wait.py {tag} {SPEC_REL}"
    return {"tools": [{"name": "Bash", "input": {"command": command, "timeout": 120000}}]}


def completes(subtask_id: str, *first: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *first,
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
        {"text": f"Done with {subtask_id}."},
    ]


def plan() -> dict[str, Any]:
    def subtask(sid: str, **more: Any) -> dict[str, Any]:
        return {"id": sid, "description": f"make {sid}", "status": "pending", **more}

    check = {"type": "command", "command": f"python3 wait.py K {SPEC_REL}", "expected": "exit 0"}
    subtasks = [subtask("1.1"), subtask("1.2", verification=check), subtask("1.3")]
    return {
        "feature": "pause",
        "workflow_type": "feature",
        "phases": [
            {"id": "1", "name": "One", "depends_on": [], "subtasks": [*subtasks, subtask("1.4")]}
        ],
    }


@dataclass
class PausedRun:
    layout: str
    project: Path
    spec_dir: Path
    sim: SimServer
    events: list[ev.Event] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)
    """What the user and the event sink observed while the run went on."""
    exit_code: int | None = None
    loop: CoderLoop | None = None
    agent_project: Path | None = None

    def index(self, cls: type, **match: Any) -> list[int]:
        return [
            i
            for i, e in enumerate(self.events)
            if isinstance(e, cls) and all(getattr(e, k) == v for k, v in match.items())
        ]

    def started(self) -> list[str | None]:
        return [e.subtask_id for e in self.events if isinstance(e, ev.SessionStarted)]

    def first_prompt(self, nth_session: int) -> str:
        firsts = [r for r in self.sim.requests if r.turn == 0 and r.script]
        return firsts[nth_session].prompt

    @property
    def plan(self) -> dict[str, Any]:
        return json.loads((self.spec_dir / "implementation_plan.json").read_text())


class User(threading.Thread):
    """The user at the keyboard: waits for each command to start, then acts."""

    def __init__(self, run: PausedRun) -> None:
        super().__init__(daemon=True)
        self.run_ = run
        self.done = threading.Event()
        self.error: str | None = None

    def wait_for(self, name: str) -> Path:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline and not self.done.is_set():
            where = self.run_.agent_project
            if where is not None and (where / name).exists():
                return where
            self.done.wait(0.02)
        raise TimeoutError(f"{name} never appeared")

    def go(self, where: Path, tag: str) -> None:
        (where / f"go-{tag}").write_text("")

    def run(self) -> None:
        try:
            self._act()
        except Exception as exc:  # the run goes on; the tests then say what is missing
            self.error = f"{type(exc).__name__}: {exc}"

    def _act(self) -> None:
        run, spec = self.run_, self.run_.spec_dir
        pause, note = spec / "PAUSE", spec / "HUMAN_INPUT.md"
        where = self.wait_for("started-A")
        run.seen["controls while A ran"] = [os.path.lexists(pause), os.path.lexists(note)]
        pause.touch()
        note.touch()
        with note.open("a") as handle:
            handle.write(NOTE_ONE + "\n")
        self.go(where, "A")

        where = self.wait_for("started-B")
        rewritten = note.read_text() + NOTE_TWO + "\n"
        temporary = spec / ".HUMAN_INPUT.md.user.tmp"
        temporary.write_text(rewritten)
        os.replace(temporary, note)
        self.go(where, "B")

        where = self.wait_for("started-K")  # 1.2's verification check
        run.seen["PAUSE while the check ran"] = os.path.lexists(pause)
        pause.touch()
        self.go(where, "K")

        where = self.wait_for("started-C")
        assert run.loop is not None
        pid = run.loop.agents.cli_pid(lane=1)
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # as the OOM killer would, or a kill -9 of agent-tui
        run.seen["killed"] = pid
        self.go(where, "C")  # should the command outlive its CLI


def leftovers_in(directory: Path) -> list[str]:
    """The CLI's own mount points that are there: empty files, mode 0444."""
    found = []
    for name in CLI_PROTECTED:
        try:
            info = os.lstat(directory / name)
        except OSError:
            continue
        found.append(f"{name} {stat.filemode(info.st_mode)} {info.st_size}")
    return found


async def play(run: PausedRun, loop_config: LoopConfig, profiles: ProfileStore) -> None:
    user_paused: list[str] = []

    async def sink(event: ev.Event) -> None:
        run.events.append(event)
        if isinstance(event, wev.WorkspaceStatus):  # before any session: where it works
            run.agent_project = Path(event.path)
        elif isinstance(event, ev.Paused):
            user_paused.append(event.reason)
            run.seen.setdefault("PAUSE when paused", []).append(
                os.path.lexists(run.spec_dir / "PAUSE")
            )
            if len(user_paused) == 1:  # the user edits the plan while the run is paused
                edited = run.plan
                edited["phases"][0]["subtasks"][3]["status"] = "completed"
                plan_path = run.spec_dir / "implementation_plan.json"
                plan_path.write_text(json.dumps(edited, indent=2) + "\n")
            assert run.loop is not None
            run.loop.resume()
        elif isinstance(event, ev.SessionEnded) and run.seen.get("killed"):
            run.seen.setdefault("left after the kill", leftovers_in(run.agent_project))
        elif isinstance(event, ev.SessionStarted) and run.seen.get("killed"):
            assert run.agent_project is not None
            after = [os.path.lexists(run.spec_dir / "PAUSE"), leftovers_in(run.agent_project)]
            run.seen.setdefault("left when the next session started", after)

    loop = CoderLoop(
        loop_config,
        profiles,
        sink,
        clock=VirtualClock(wall_start=time.time()),
        environ={TOKEN_ENV: "sk-ant-api03-pause-test-key"},
    )
    run.loop = loop
    user = User(run)
    user.start()
    try:
        run.exit_code = await loop.run()
    finally:
        user.done.set()
        await asyncio.to_thread(user.join, 5)
    run.seen["user error"] = user.error


def layout(root: Path, kind: str) -> tuple[Path, Path]:
    project = root / "project"
    if kind == "worktree":
        files = {"README.md": "# project\n", "wait.py": WAIT}
        return make_repo(project, files, plan=plan(), spec=SPEC)
    spec_dir = project / ".auto-claude" / "specs" / SPEC
    spec_dir.mkdir(parents=True)
    (spec_dir / "spec.md").write_text("# the spec\n")
    (spec_dir / "implementation_plan.json").write_text(json.dumps(plan(), indent=2) + "\n")
    (project / "wait.py").write_text(WAIT)
    return project, spec_dir


@pytest.fixture(scope="module", params=["in place", "worktree"])
def paused(request, tmp_path_factory) -> PausedRun:
    kind = request.param
    root = tmp_path_factory.mktemp(kind.replace(" ", "-"))
    home = root / "home"
    home.mkdir()
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    with pytest.MonkeyPatch.context() as env:
        for name in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN",
                     "ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR"):  # fmt: skip
            env.delenv(name, raising=False)
        for name, sub in (("AGENT_TUI_CONFIG_DIR", "config"), ("AGENT_TUI_STATE_DIR", "state"),
                          ("AGENT_TUI_DATA_DIR", "data")):  # fmt: skip
            env.setenv(name, str(root / sub))
        (root / "gitconfig").touch()
        env.setenv("GIT_CONFIG_GLOBAL", str(root / "gitconfig"))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        project, spec_dir = layout(root, kind)
        sessions = {
            "1.1": [completes("1.1", waiting("A"))],
            "1.2": [completes("1.2", waiting("B"))],
            "1.3": [completes("1.3", waiting("C")), completes("1.3")],
            "1.4": [completes("1.4")],
        }
        scripts = [script(sid, runs) for sid, runs in sessions.items()]
        sim = SimServer(Scenario.model_validate({"name": "pause", "scripts": scripts})).start()
        config_dir = root / "claude-config"
        config_dir.mkdir()
        profile = Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)
        profiles = ProfileStore.in_memory([profile], active="test")
        profiles.data.settings.containment = ContainmentMode.REQUIRED
        loop_config = LoopConfig(
            project_dir=project,
            spec_dir=spec_dir,
            model="claude-sonnet-4-5",
            pause_between_s=0.0,
            idle_timeout_s=60.0,
            pause_on_problem=False,
            extra_env={
                "ANTHROPIC_BASE_URL": sim.base_url,
                "CLAUDE_CODE_MAX_RETRIES": "0",
                "HOME": str(home),
            },
        )
        run = PausedRun(kind, project, spec_dir, sim)
        try:
            asyncio.run(asyncio.wait_for(play(run, loop_config, profiles), RUN_TIMEOUT_S))
        finally:
            sim.stop()
            keyring.set_keyring(previous)
    return run


def test_the_run_was_sandboxed_and_the_user_could_act(paused):
    status = next(e for e in paused.events if isinstance(e, ev.ContainmentStatus))
    assert status.sandboxed, status.missing
    assert paused.seen["user error"] is None
    assert paused.exit_code == 0, [e for e in paused.events if isinstance(e, ev.LoopFinished)]


def test_a_pause_file_made_during_a_command_pauses_at_the_session_boundary(paused):
    # No empty read-only PAUSE (nor note) was mounted while the command ran, so the
    # user's touch made a file of their own, which the command's end left alone.
    assert paused.seen["controls while A ran"] == [False, False]
    ended_a = paused.index(ev.SessionEnded, subtask_id="1.1")[0]
    paused_at = paused.index(ev.Paused)
    started_b = paused.index(ev.SessionStarted, subtask_id="1.2")[0]
    assert ended_a < paused_at[0] < started_b
    assert [e.reason for e in paused.events if isinstance(e, ev.Paused)] == ["PAUSE file"] * 2
    assert paused.seen["PAUSE when paused"] == [True, True]


def test_a_pause_file_made_during_a_verification_check_pauses_after_it(paused):
    assert paused.seen["PAUSE while the check ran"] is False  # the first was removed on resume
    checked = paused.index(tev.VerificationEnded, subtask_id="1.2")
    started_c = paused.index(ev.SessionStarted, subtask_id="1.3")[0]
    assert checked and checked[0] < paused.index(ev.Paused)[1] < started_c
    assert paused.events[checked[0]].outcome == "passed"


def test_the_users_plan_edit_made_while_paused_survives_and_is_obeyed(paused):
    assert "1.4" not in paused.started()
    statuses = {s["id"]: s["status"] for s in paused.plan["phases"][0]["subtasks"]}
    assert statuses == {
        "1.1": "completed",
        "1.2": "completed",
        "1.3": "completed",
        "1.4": "completed",
    }


def test_a_note_written_during_a_command_reaches_the_next_sessions_prompt(paused):
    assert paused.started() == ["1.1", "1.2", "1.3", "1.3"]
    assert NOTE_ONE in paused.first_prompt(1) and NOTE_TWO not in paused.first_prompt(1)
    assert NOTE_TWO in paused.first_prompt(2)
    assert "FORGED" not in " ".join(r.prompt for r in paused.sim.requests)
    kept = paused.spec_dir / "logs" / "session-002.human-input.md"
    assert kept.read_text() == NOTE_ONE + "\n"


def test_the_command_cannot_write_a_control_the_user_just_replaced(paused):
    results = " ".join(t for r in paused.sim.requests for t in r.tool_results)
    assert "done B" in results
    assert "refused HUMAN_INPUT.md Read-only file system" in results
    assert "refused PAUSE Read-only file system" in results
    assert "WROTE" not in results


def test_what_a_killed_command_left_does_not_pause_and_is_tidied(paused):
    left = paused.seen["left after the kill"]
    assert left and all(" -r--r--r-- 0" in entry for entry in left), left  # it did leave some
    assert paused.seen["left when the next session started"] == [False, []]
    ended = [e.outcome for e in paused.events if isinstance(e, ev.SessionEnded)]
    assert ended[2] == "error" and ended[3] == "success"
    assert len(paused.index(ev.Paused)) == 2  # both the user's, before the kill
    assert paused.agent_project is not None and leftovers_in(paused.agent_project) == []
    if paused.layout == "worktree":
        tracked = git(paused.project, "ls-tree", "-r", "--name-only", f"agent-tui/{SPEC}")
        assert not set(tracked.split()) & set(CLI_PROTECTED)
