"""The run as its own process, for real: it outlives its app and its terminal, only its
user reaches its socket, ``ls`` lists the runs of every project, and a run killed with -9
leaves a stale socket that is cleaned up."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import signal
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest

from agent_tui.cli.commands import build_parser, main
from agent_tui.runproc import registry
from agent_tui.runproc.places import RunPlace, runs_dir
from agent_tui.runproc.process import spawn
from agent_tui.runproc.record import KILLED, RunState
from agent_tui.runproc.sockets import connect
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from agent_tui.startup.checks import check_run
from agent_tui.startup.launch import RUN_PROCESS
from tests.integration.helpers import coder_steps, plan_doc, script
from tests.tui.test_app_process import finish, gone, launch, read_until

NOBODY = 65534


def paused_spec(root: Path) -> Path:
    """A project whose spec's PAUSE file holds its run before any session."""
    spec = root / ".auto-claude" / "specs" / "001-paused"
    spec.mkdir(parents=True)
    (spec / "implementation_plan.json").write_text(json.dumps(plan_doc([("1", [], ["1.1"])])))
    (spec / "PAUSE").write_text("")
    return spec


def start_run(project: Path) -> int:
    """The run process ``agent-tui run --project PROJECT`` starts, without its app; its pid."""
    checked = check_run(build_parser().parse_args(["run", "--project", str(project)]))
    started = spawn(RUN_PROCESS, pickle.dumps(checked), RunPlace.of(checked.spec_dir))
    return started.pid


def until(predicate, what: str, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def ls() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ls"]) == 0
    return out.getvalue()


def record_of(project: Path):
    return next((r for r in registry.runs() if r.project_dir == str(project.resolve())), None)


@pytest.fixture(scope="module")
def two_runs():
    """Two paused runs in two projects, each in its own process, in one state dir (each
    test points AGENT_TUI_STATE_DIR there: the test's own isolated one is set after this).

    Under /tmp in a directory others may pass through (pytest's own is 0700), so that only
    the runs directory's and the socket's own modes keep another user out."""
    root = Path(tempfile.mkdtemp(prefix="agent-tui-runs-"))
    root.chmod(0o711)
    with contextlib.ExitStack() as cleanup, pytest.MonkeyPatch.context() as patch:
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        patch.setenv("AGENT_TUI_STATE_DIR", str(root / "state"))
        patch.setenv("AGENT_TUI_CONFIG_DIR", str(root / "config"))
        patch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-the-tests-default-login")
        projects = [root / "alpha", root / "beta"]
        for project in projects:
            paused_spec(project)
        pids = [start_run(project) for project in projects]
        try:
            for project in projects:
                until(lambda p=project: (r := record_of(p)) and r.state == RunState.PAUSED, "pause")
            yield root / "state", projects, pids
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            for pid in pids:
                assert gone(pid, 30), "a run process outlived SIGTERM"


def test_ls_lists_two_runs_in_two_projects(two_runs, monkeypatch):
    state, projects, pids = two_runs
    monkeypatch.setenv("AGENT_TUI_STATE_DIR", str(state))
    listed = ls()
    lines = listed.splitlines()
    assert lines[0].split()[:3] == ["STATE", "SPEC", "PROGRESS"]
    for project, pid in zip(projects, pids, strict=True):
        row = next(line for line in lines if line.endswith(str(project)))
        assert row.split()[:6] == ["paused", "001-paused", "0/1", "0/1", "$0.00", str(pid)]
        assert "paused: PAUSE file" in row


def test_only_the_runs_user_reaches_its_socket(two_runs, monkeypatch):
    state, projects, _pids = two_runs
    monkeypatch.setenv("AGENT_TUI_STATE_DIR", str(state))
    record = record_of(projects[0])
    path = Path(record.socket)
    info = os.lstat(path)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.getuid()
    assert stat.S_IMODE(os.stat(runs_dir()).st_mode) == 0o700
    connect(path).close()  # its own user gets in
    if os.getuid() != 0:
        return  # only root can become another user to try the door
    assert as_nobody(path) == "refused: PermissionError"
    # Even with the modes opened up (a umask gone wrong), the run closes on a stranger.
    for opened in (runs_dir(), path):
        os.chmod(opened, 0o777)
    try:
        assert as_nobody(path) == "closed before hello"
    finally:
        os.chmod(path, 0o600)
        os.chmod(runs_dir(), 0o700)


def as_nobody(path: Path) -> str:
    """What connecting to ``path`` as user nobody (in a forked child) comes to."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        said = "connected"
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(10)
            client.connect(str(path))
            said = "closed before hello" if client.recv(1 << 16) == b"" else "got a hello"
        except OSError as exc:
            said = f"refused: {type(exc).__name__}"
        finally:
            os.write(write_end, said.encode())
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as answer:
        return answer.read().decode()


def test_a_stale_socket_after_kill_9_is_cleaned_and_the_spec_runs_again(tmp_path, default_login):
    project = tmp_path / "project"
    paused_spec(project)
    pid = start_run(project)
    until(lambda: (r := record_of(project)) and r.state == RunState.PAUSED, "the pause")
    socket_path = Path(record_of(project).socket)
    os.kill(pid, signal.SIGKILL)
    assert gone(pid, 10)
    assert socket_path.exists()  # nothing could remove it
    listed = ls()
    assert "finished: killed" in listed and "run it again" not in listed
    assert not socket_path.exists()
    record = record_of(project)
    assert (record.state, record.outcome) == (RunState.FINISHED, KILLED)
    again = start_run(project)  # the kernel dropped the lock: the same spec runs again
    try:
        until(lambda: (r := record_of(project)) and r.pid == again and r.state == "paused", "run")
        assert socket_path.exists()
        connect(socket_path).close()
    finally:
        os.kill(again, signal.SIGTERM)
        assert gone(again, 30)
    record = record_of(project)
    assert (record.state, record.outcome, record.exit_code) == (
        RunState.FINISHED,
        "interrupted",
        130,
    )
    assert not socket_path.exists()


def test_a_run_detached_from_its_app_goes_on_and_completes(tmp_path, isolated_home):
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    scenario = Scenario.model_validate(
        {
            "pace_s": 0.2,
            "scripts": [script(sid, [coder_steps(sid)]) for sid in ("1.1", "1.2")],
        }
    )
    project = tmp_path / "project"
    spec = project / ".auto-claude" / "specs" / "001-detach"
    spec.mkdir(parents=True)
    (spec / "implementation_plan.json").write_text(json.dumps(plan, indent=2))
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    with SimServer(scenario) as sim:
        env = {
            "ANTHROPIC_BASE_URL": sim.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-detached-run-test",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(isolated_home),
            "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"),
        }
        app, terminal = launch(
            "run",
            "--project",
            str(project),
            "--model",
            "claude-sonnet-4-5",
            controlling=True,
            **env,
        )
        seen = bytearray()
        try:
            assert read_until(terminal, b"session 1:", seen, 60), bytes(seen[-2000:])
            os.write(terminal, b"\x04")  # ctrl+d
            assert read_until(terminal, b"detached", seen, 30), bytes(seen[-2000:])
        finally:
            code = finish(app, terminal, seen)  # and the terminal closes
        assert code == 0, bytes(seen[-2000:])
        assert b"the run goes on (process " in seen and b"agent-tui attach --project" in seen
        record = record_of(project)
        assert record is not None and record.pid != app.pid
        done = until(
            lambda: (r := record_of(project)) and r.finished and r, "the run to finish", 120
        )
    assert (done.outcome, done.exit_code, done.done, done.total) == ("complete", 0, 2, 2)
    statuses = [
        s["status"]
        for s in json.loads((spec / "implementation_plan.json").read_text())["phases"][0][
            "subtasks"
        ]
    ]
    assert statuses == ["completed", "completed"]
    assert gone(record.pid, 10), "the run process stayed after its run"
    assert not Path(record.socket).exists()
    assert b"Traceback" not in seen
