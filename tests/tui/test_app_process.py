"""The real app in a real pseudo-terminal: a signal mid-session stops it the way a user needs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import termios
import time

import pytest

from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from benchmarks.common import pty_size, write_spec
from tests.integration.helpers import plan_doc, script

SPEC = ("greeter", ".auto-claude", "specs", "001-greeter")


def read_until(fd: int, marker: bytes, seen: bytearray, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while marker not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the app has gone and closed the terminal
                return marker in seen
            if not chunk:
                return marker in seen
            seen.extend(chunk)
    return True


def drain(fd: int, seen: bytearray, seconds: float) -> None:
    """Read whatever the terminal gets for ``seconds``."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        seen.extend(chunk)


def launch(*args: str, controlling: bool = False, **env: str) -> tuple[subprocess.Popen, int]:
    """``agent-tui ARGS`` in a 120x36 pty, as a user starts it; returns it and the pty's end.

    ``controlling``: the pty is the process's controlling terminal, as in a terminal window,
    so closing the pty's end hangs up on it (SIGHUP and SIGCONT to it and its children)."""
    master, slave = os.openpty()
    pty_size(slave, 120, 36)
    argv = [sys.executable, "-m", "agent_tui.cli", *args]

    def take_the_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color", **env},
        start_new_session=True,
        preexec_fn=take_the_terminal if controlling else None,
    )
    os.close(slave)
    return process, master


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stop_signal_mid_session_records_it_restores_the_terminal_and_exits_130(tmp_path, signum):
    process, master = launch("demo", "--workdir", str(tmp_path))
    seen = bytearray()
    try:
        assert read_until(master, b"session 1:", seen, 60), bytes(seen[-2000:])
        assert read_until(master, b"Core library", seen, 5)
        started = len(seen)
        process.send_signal(signum)
        # Keep reading: an app whose terminal output is not drained blocks on its writes.
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            drain(master, seen, 0.5)
        drain(master, seen, 0.5)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)
    assert process.returncode == 130
    assert b"\x1b[?1049l" in seen[started:]  # the alternate screen was left: terminal restored
    assert b"Traceback" not in seen
    spec_dir = tmp_path.joinpath(*SPEC)
    history = json.loads((spec_dir / "memory" / "attempt_history.json").read_text())
    attempts = history["subtasks"]["1.1"]["attempts"]
    assert [a["outcome"] for a in attempts] == ["interrupted"]
    transcript = (spec_dir / "logs" / "session-001.jsonl").read_text().splitlines()
    last = json.loads(transcript[-1])
    assert last["type"] == "outcome" and last["data"]["outcome"] == "interrupted"


@pytest.mark.parametrize("headless", [False, True], ids=["app", "headless"])
def test_the_terminal_closing_mid_session_records_it_and_exits_130(tmp_path, headless):
    # A closed window hangs up on the app and on the CLI it runs: the app must not block on
    # its dead terminal (a dead writer thread's full queue, a key thread spinning on EIO),
    # must take the CLI's death by the same hangup for an interruption, not a failed try,
    # and must record the session and exit 130, in the app and headless alike.
    mode = ["--headless"] if headless else []
    process, master = launch("demo", *mode, "--workdir", str(tmp_path), controlling=True)
    seen = bytearray()
    try:
        started = b"session   #1" if headless else b"session 1:"
        assert read_until(master, started, seen, 60), bytes(seen[-2000:])
        if not headless:
            assert read_until(master, b"Core library", seen, 5)
        os.close(master)  # the window closes
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130
    spec_dir = tmp_path.joinpath(*SPEC)
    history = json.loads((spec_dir / "memory" / "attempt_history.json").read_text())
    assert [a["outcome"] for a in history["subtasks"]["1.1"]["attempts"]] == ["interrupted"]


def launch_run(tmp_path, project, **env: str) -> tuple[subprocess.Popen, int]:
    """``agent-tui run`` in a pty, with its own profiles dir: the checks run in a forked child."""
    return launch(
        "run", "--project", str(project), AGENT_TUI_CONFIG_DIR=str(tmp_path / "cfg"), **env
    )


THREAD_AT_START = """
import threading

threading.Thread(target=threading.Event().wait, daemon=True).start()
"""
"""A ``sitecustomize`` that starts a thread: a process with threads does not fork its checks."""


def finish(process: subprocess.Popen, master: int, seen: bytearray) -> int:
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        drain(master, seen, 0.5)
    drain(master, seen, 0.2)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    os.close(master)
    return process.wait()


def add_profile(tmp_path, credentials: str) -> None:
    claude_dir = tmp_path / "claude-work"
    claude_dir.mkdir()
    creds = claude_dir / ".credentials.json"
    creds.write_text(credentials)
    creds.chmod(0o600)
    (tmp_path / "cfg").mkdir()
    profiles = {"profiles": [{"name": "work", "config_dir": str(claude_dir)}], "active": "work"}
    (tmp_path / "cfg" / "profiles.json").write_text(json.dumps(profiles))


def test_run_in_a_terminal_shows_the_plan_then_the_loop_it_made_after_the_first_frame(tmp_path):
    project, spec = write_spec(tmp_path, 120)
    (spec / "PAUSE").write_text("")
    add_profile(
        tmp_path,
        json.dumps(
            {"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "scopes": ["user:inference"]}}
        ),
    )
    process, master = launch_run(tmp_path, project)
    seen = bytearray()
    try:
        assert read_until(master, b"subtask 1.1", seen, 30), bytes(seen[-2000:])
        # The loop is made in a thread once the plan is on screen; it reports the PAUSE file.
        assert read_until(master, b"paused: PAUSE file", seen, 30), bytes(seen[-2000:])
        # The status line names the profile the run starts on, before any session.
        assert read_until(master, b"work", seen, 10), bytes(seen[-2000:])
        os.write(master, b"q")
    finally:
        code = finish(process, master, seen)
    assert code == 130  # quit while paused, before every subtask was done
    assert b"Traceback" not in seen


COUNTING_KEYRING = '''
import os, pathlib
from keyring.backend import KeyringBackend


class Counting(KeyringBackend):
    """A keychain with no entries that notes which process asked it, once per lookup."""

    priority = 1

    def get_password(self, service, username):
        with pathlib.Path(__file__).with_name("lookups").open("a") as lookups:
            lookups.write(f"{os.getpid()}\\n")

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError
'''


def test_run_in_a_terminal_checks_the_credentials_once_in_the_child(tmp_path):
    """The forked child checks; the app builds its loop from what the child checked."""
    project, spec = write_spec(tmp_path, 10)
    (spec / "PAUSE").write_text("")
    add_profile(
        tmp_path,
        json.dumps(
            {"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "scopes": ["user:inference"]}}
        ),
    )
    (tmp_path / "counting_keyring.py").write_text(COUNTING_KEYRING)
    process, master = launch(
        "run",
        "--project",
        str(project),
        AGENT_TUI_CONFIG_DIR=str(tmp_path / "cfg"),
        PYTHONPATH=str(tmp_path),
        PYTHON_KEYRING_BACKEND="counting_keyring.Counting",
    )
    seen = bytearray()
    try:
        assert read_until(master, b"paused: PAUSE file", seen, 30), bytes(seen[-2000:])
        os.write(master, b"q")
    finally:
        code = finish(process, master, seen)
    assert code == 130
    lookups = (tmp_path / "lookups").read_text().split()
    assert len(lookups) == 1, lookups
    assert int(lookups[0]) != process.pid


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("plan", b"implementation_plan.json"),
        ("credentials", b"profile 'work'"),
    ],
)
@pytest.mark.parametrize("forked", [True, False], ids=["forked", "checked-in-the-parent"])
def test_run_in_a_terminal_refuses_bad_input_before_the_app_opens(
    tmp_path, breakage, message, forked
):
    env = {}
    if not forked:
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "sitecustomize.py").write_text(THREAD_AT_START)
        env["PYTHONPATH"] = str(tmp_path / "site")
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing new under tmp_path but what the run writes
    project, spec = write_spec(tmp_path, 10)
    good = json.dumps(
        {"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "scopes": ["user:inference"]}}
    )
    add_profile(tmp_path, "{not json" if breakage == "credentials" else good)
    plan = spec / "implementation_plan.json"
    if breakage == "plan":
        plan.write_text('{"phases": [')
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    process, master = launch_run(tmp_path, project, **env)
    seen = bytearray()
    code = finish(process, master, seen)
    assert code == 2
    lines = [line for line in bytes(seen).decode().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agent-tui: "), lines
    assert message in seen
    assert b"\x1b[?1049h" not in seen  # the app's alternate screen never opened
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


BLOCKING_KEYRING = '''
import pathlib, threading
from keyring.backend import KeyringBackend


class Blocking(KeyringBackend):
    """A keychain that never answers, like a locked one waiting on an unlock prompt."""

    priority = 1

    def get_password(self, service, username):
        pathlib.Path(__file__).with_name("asked").write_text("")
        threading.Event().wait()

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError
'''


def test_ctrl_c_while_the_credentials_check_hangs_exits_at_once_without_showing_the_app(
    tmp_path,
):
    """The plan is drawn off screen while the keychain is asked; a keychain that never
    answers must not keep ctrl+c from quitting (the app waited for it on its way out)."""
    import termios

    project, _spec = write_spec(tmp_path, 10)
    add_profile(
        tmp_path,
        json.dumps(
            {"claudeAiOauth": {"accessToken": "sk-ant-oat01-x", "scopes": ["user:inference"]}}
        ),
    )
    (tmp_path / "blocking_keyring.py").write_text(BLOCKING_KEYRING)
    process, master = launch(
        "run",
        "--project",
        str(project),
        AGENT_TUI_CONFIG_DIR=str(tmp_path / "cfg"),
        PYTHONPATH=str(tmp_path),
        PYTHON_KEYRING_BACKEND="blocking_keyring.Blocking",
    )
    seen = bytearray()
    try:
        deadline = time.monotonic() + 30
        # Wait until the checks are stuck in the keychain and the app holds the terminal
        # (raw mode: ctrl+c is a key, not a signal).
        while time.monotonic() < deadline and not (
            (tmp_path / "asked").exists() and not termios.tcgetattr(master)[3] & termios.ICANON
        ):
            drain(master, seen, 0.05)
        assert (tmp_path / "asked").exists(), bytes(seen[-2000:])
        os.write(master, b"\x03")
    finally:
        code = finish(process, master, seen)
    assert code == 130, bytes(seen[-2000:])
    assert b"\x1b[?1049h" not in seen  # never shown: the checks had not passed
    assert b"Traceback" not in seen


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, name) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as handle:
                found[int(entry)] = (int(fields[1]), handle.read().strip())
        except OSError:
            continue
    return found


def cli_of(pid: int, timeout_s: float = 30) -> int:
    """The Claude Code CLI the process runs (a descendant named claude)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        processes = _processes()
        for candidate, (parent, name) in processes.items():
            if name != "claude":
                continue
            while parent not in (0, 1, pid):
                parent = processes.get(parent, (0, ""))[0]
            if parent == pid:
                return candidate
        time.sleep(0.05)
    raise AssertionError(f"no CLI under pid {pid}")


def gone(pid: int, timeout_s: float) -> bool:
    """Whether ``pid`` has exited (or become a zombie), waiting up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def run_process_pid() -> int:
    """The pid of the one run process this test started (from its record in the state dir)."""
    from agent_tui.runproc import registry

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        records = registry.runs()
        if records:
            return records[0].pid
        time.sleep(0.05)
    raise AssertionError("no run process")


def hanging_run(tmp_path, sim_url: str) -> tuple[list[str], dict[str, str]]:
    """A project whose first session hangs waiting for its second reply; args and env."""
    project = tmp_path / "project"
    spec = project / ".auto-claude" / "specs" / "001-hang"
    spec.mkdir(parents=True)
    plan = plan_doc([("1", [], ["1.1"])])
    (spec / "implementation_plan.json").write_text(json.dumps(plan, indent=2))
    (tmp_path / "home").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    env = {
        "ANTHROPIC_BASE_URL": sim_url,
        "ANTHROPIC_API_KEY": "sk-ant-api03-stopped-cli-test",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "HOME": str(tmp_path / "home"),
        "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"),
    }
    return ["run", "--project", str(project), "--model", "claude-sonnet-4-5"], env


HANG = [
    {"text": "Reading.", "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
    {"fault": "hang"},
]


@pytest.mark.parametrize("how", ["ctrl+c", "SIGTERM headless"])
def test_a_cli_that_stops_answering_is_ended_and_its_session_recorded(tmp_path, how):
    headless = how.endswith("headless")
    scenario = Scenario.model_validate({"scripts": [script("1.1", [HANG])]})
    with SimServer(scenario) as sim:
        args, env = hanging_run(tmp_path, sim.base_url)
        process, master = launch(*args, *(["--headless"] if headless else []), **env)
        seen = bytearray()
        cli = None
        try:
            assert read_until(master, b"Read", seen, 60), bytes(seen[-2000:])
            # In the app, the run is a process of its own: the CLI is that one's.
            runner = process.pid if headless else run_process_pid()
            cli = cli_of(runner)
            os.kill(cli, signal.SIGSTOP)  # it answers nothing now, and only KILL ends it
            asked = time.monotonic()
            if headless:
                process.send_signal(signal.SIGTERM)
            else:
                os.write(master, b"\x03")
            # Generous for a loaded machine: without the group kill it took 20-60 s.
            while process.poll() is None and time.monotonic() - asked < 10:
                drain(master, seen, 0.2)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if cli is not None and not gone(cli, 0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(cli, signal.SIGKILL)
            os.close(master)
    assert process.returncode == 130, bytes(seen[-2000:])
    assert gone(cli, 2), "the stopped CLI was left behind"
    assert gone(runner, 10), "the run process outlived the stop"
    spec_dir = tmp_path / "project" / ".auto-claude" / "specs" / "001-hang"
    history = json.loads((spec_dir / "memory" / "attempt_history.json").read_text())
    assert [a["outcome"] for a in history["subtasks"]["1.1"]["attempts"]] == ["interrupted"]


def test_the_cli_does_not_outlive_agent_tui_killed_with_9(tmp_path):
    scenario = Scenario.model_validate({"scripts": [script("1.1", [HANG])]})
    with SimServer(scenario) as sim:
        args, env = hanging_run(tmp_path, sim.base_url)
        process, master = launch(*args, "--headless", **env)
        seen = bytearray()
        try:
            assert read_until(master, b"Read", seen, 60), bytes(seen[-2000:])
            cli = cli_of(process.pid)
            process.kill()
            process.wait()
            # Without the parent-death signal the orphan lingered ~12 s, until its pipes broke.
            assert gone(cli, 3), "the CLI outlived agent-tui"
        finally:
            os.close(master)
