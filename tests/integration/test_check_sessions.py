"""Check sessions through the real CLI and its sandbox: a lane's checks share one contained
session, nothing one check leaves reaches the next, a timeout ends the session, nothing
blocks the event loop, and the session's CLI dies with agent-tui."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agent_tui.auth.profiles import ProfileStore
from agent_tui.config import ContainmentMode, Settings
from agent_tui.engine.checks.runner import ContainedRunner
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.sandbox.containment import Containment, check_sandbox
from tests.integration.test_verification_sim import processes_naming, wait_for
from tests.loop_watch import no_slow_callbacks

pytestmark = pytest.mark.integration

CHECK_S = 60.0
"""Bounds each check in real time: a check that never ends fails the test."""


def contained(project: Path) -> Containment:
    spec_dir = project / ".auto-claude" / "specs" / "001-test"
    spec_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(containment=ContainmentMode.REQUIRED)
    return Containment.build(
        settings, ProfileStore.in_memory([]), project, spec_dir, check_sandbox()
    )


@pytest.fixture
def project(tmp_path, isolated_home) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    (path / "data.txt").write_text("hello\n")
    return path


async def test_a_lanes_checks_share_one_session_and_nothing_one_leaves_reaches_the_next(
    project, isolated_home
):
    marker = f"left_{uuid.uuid4().hex}"
    clock = VirtualClock(auto_advance=False)
    runner = ContainedRunner(env={"HOME": str(isolated_home)}, clock=clock)
    containment = contained(project)

    async def check(command: str):
        return await asyncio.wait_for(runner.run(containment, command, project, 30), CHECK_S)

    try:
        asyncio.get_running_loop().set_debug(True)
        first = await check("cat data.txt")  # starts the session (and loads the SDK)
        assert (first.exit_status, first.output) == (0, "hello\n")
        session = runner._sessions[project]
        cli = session.pid
        with no_slow_callbacks():
            leave = await check(
                f"export LEFT=1; cd /; (exec -a {marker} sleep 987 &); echo left; exit 4"
            )
            assert (leave.exit_status, leave.output) == (4, "left\n")
            await wait_for(lambda: not processes_naming(marker), "its sandbox to end", 10)
            after = await check('echo "LEFT=$LEFT"; pwd; touch ../outside.txt')
            assert after.output.startswith(f"LEFT=\n{project}\n")
            assert "Read-only file system" in after.output and after.exit_status == 1
            assert session.pid == cli and session.checks == 3  # one session, one CLI

            hang = asyncio.ensure_future(runner.run(containment, "sleep 986", project, 30))
            await wait_for(lambda: clock.sleepers > 0, "the check's deadline")
            clock.advance(30)
            timed_out = await asyncio.wait_for(hang, CHECK_S)
            assert timed_out.timed_out and not session.running
            await wait_for(lambda: not processes_naming("sleep 986"), "the command's end", 10)
            again = await check("cat data.txt")
            assert again.exit_status == 0 and runner._sessions[project].pid != cli

            crashed = runner._sessions[project].pid
            os.killpg(crashed, signal.SIGKILL)  # its CLI ends while no check runs
            await wait_for(lambda: not _alive(crashed), "the CLI to end", 10)
            after_crash = await check("cat data.txt")  # a new session runs it, not a failure
            assert after_crash.exit_status == 0 and runner._sessions[project].pid != crashed
            await runner.close()
        assert not runner._sessions
    finally:
        await runner.close()


def processes_in(path: Path) -> list[int]:
    """The processes whose working directory is ``path``."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            if os.readlink(f"/proc/{pid}/cwd") == str(path):
                found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


async def test_a_warmed_session_runs_the_next_check_and_one_starting_ends_with_the_run(
    project, isolated_home
):
    runner = ContainedRunner(
        env={"HOME": str(isolated_home)}, clock=VirtualClock(auto_advance=False)
    )
    containment = contained(project)
    try:
        runner.warm(containment, project)
        runner.warm(containment, project)  # already starting: not a second CLI
        assert len(runner._warming) == 1
        await wait_for(lambda: project in runner._sessions, "the warmed session")
        session = runner._sessions[project]
        ran = await asyncio.wait_for(runner.run(containment, "cat data.txt", project, 30), CHECK_S)
        assert (ran.exit_status, ran.output) == (0, "hello\n")
        assert runner._sessions[project] is session and session.checks == 1
        runner.warm(containment, project)  # one is kept: nothing to start
        assert not runner._warming

        other = project / "other"
        other.mkdir()
        runner.warm(containment, other)
        await wait_for(lambda: processes_in(other), "its CLI to start")
        await runner.close()  # the run ends while it starts
        assert not runner._warming and not runner._sessions
        await wait_for(lambda: not processes_in(other), "its CLI to end", 10)
    finally:
        await runner.close()


CHILD = """
import asyncio, sys
from pathlib import Path
from agent_tui.auth.profiles import ProfileStore
from agent_tui.config import ContainmentMode, Settings
from agent_tui.engine.checks.runner import ContainedRunner
from agent_tui.engine.clock import RealClock
from agent_tui.engine.sandbox.containment import Containment, check_sandbox

project, home, pid_file, marker = map(Path, sys.argv[1:5])
spec = project / ".auto-claude" / "specs" / "001-test"
settings = Settings(containment=ContainmentMode.REQUIRED)
profiles = ProfileStore.in_memory([])
containment = Containment.build(settings, profiles, project, spec, check_sandbox())
runner = ContainedRunner(env={"HOME": str(home)}, clock=RealClock())

async def main():
    async def note_cli():
        while not runner._sessions or runner._sessions[project].pid is None:
            await asyncio.sleep(0.05)
        pid_file.write_text(str(runner._sessions[project].pid))
    asyncio.ensure_future(note_cli())
    await runner.run(containment, f"touch started; exec -a {marker} sleep 985", project, 300)

asyncio.run(main())
"""


async def test_a_checks_cli_dies_with_agent_tui(project, isolated_home, tmp_path):
    """``kill -9`` of agent-tui during a check leaves neither its CLI nor its command."""
    pid_file = tmp_path / "cli.pid"
    marker = f"check_{uuid.uuid4().hex}"
    (project / ".auto-claude" / "specs" / "001-test").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(project), str(isolated_home), str(pid_file), marker],
        env=env,
    )
    try:
        await wait_for(lambda: (project / "started").exists(), "the check to start", 120)
        await wait_for(pid_file.exists, "the check's CLI to be named", 10)
        cli = int(pid_file.read_text())
        assert processes_naming(marker)
        child.send_signal(signal.SIGKILL)  # as kill -9 of agent-tui
        child.wait(timeout=10)
        await wait_for(lambda: not _alive(cli), "the check's CLI to die", 10)
        await wait_for(lambda: not processes_naming(marker), "the command to die", 10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_a_check_session_sends_the_model_nothing_of_the_agents_claude_md(
    project, isolated_home, monkeypatch
):
    # The agent writes the worktree's CLAUDE.md; the check session is agent-tui's own, and
    # runs bare: none of it reaches its conversation (nor hooks, plugins or the keychain).
    from agent_tui.engine.checks.scripted_model import ScriptedModel

    marker = f"agent-wrote-{uuid.uuid4().hex}"
    (project / "CLAUDE.md").write_text(f"# Rules\nAlways say {marker}.\n")
    sent: list[bytes] = []
    reply = ScriptedModel._reply

    def recorded(self, raw: bytes) -> bytes:
        sent.append(raw)
        return reply(self, raw)

    monkeypatch.setattr(ScriptedModel, "_reply", recorded)
    runner = ContainedRunner(
        env={"HOME": str(isolated_home)}, clock=VirtualClock(auto_advance=False)
    )
    try:
        run = await asyncio.wait_for(
            runner.run(contained(project), "grep -c Always CLAUDE.md", project, 30), CHECK_S
        )
    finally:
        await runner.close()
    assert (run.exit_status, run.output) == (0, "1\n")  # the check itself reads it
    assert len(sent) >= 2  # the prompt, then the Bash call's result
    assert not any(marker.encode() in raw for raw in sent)


def _sockets() -> set[Path]:
    import stat
    import tempfile

    found = set()
    for root in {Path("/tmp"), Path(tempfile.gettempdir())}:
        for entry in root.iterdir():
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(entry.lstat().st_mode):
                    found.add(entry)
    return found


async def test_a_check_session_closed_with_the_run_leaves_no_socket_in_tmp(project, isolated_home):
    # Found by a newcomer: every run left its check sessions' sandbox sockets in /tmp
    # (thousands on a machine that runs it often); a killed CLI never removes them.
    before = _sockets()
    clock = VirtualClock(auto_advance=False)
    runner = ContainedRunner(env={"HOME": str(isolated_home)}, clock=clock)
    try:
        run = await asyncio.wait_for(runner.run(contained(project), "true", project, 30), CHECK_S)
        assert run.exit_status == 0
        made = _sockets() - before
        assert made  # the sandbox's, while the session is up
    finally:
        await runner.close()
    assert not [path for path in made if path.exists()]


async def test_a_hostile_check_reads_no_credential_store_a_readable_path_would_open(
    project, isolated_home
):
    """The attack a newcomer found: ``readable_paths`` naming ``~/.ssh`` re-opened it for
    Bash, and a check printed the key. Such a setting is now refused before any session;
    and a store that lies *inside* what a session reads (a profile's login in the project)
    stays unreadable to the check's Bash, through the real CLI with the sandbox on."""
    from agent_tui.auth.profiles import Profile
    from agent_tui.engine.sandbox.containment import ContainmentRefused

    canary = f"CANARY-{uuid.uuid4().hex}"
    (isolated_home / ".ssh").mkdir(exist_ok=True)
    (isolated_home / ".ssh" / "id_rsa").write_text(canary)
    login = project / "login"
    login.mkdir()
    (login / ".credentials.json").write_text(canary)
    spec_dir = project / ".auto-claude" / "specs" / "001-test"
    spec_dir.mkdir(parents=True, exist_ok=True)
    profiles = ProfileStore.in_memory([Profile(name="p", config_dir=str(login))], active="p")
    environ = {"HOME": str(isolated_home)}
    for readable in ("~/.ssh", "~/.ssh/id_rsa", str(login)):
        settings = Settings(containment=ContainmentMode.REQUIRED, readable_paths=[readable])
        with pytest.raises(ContainmentRefused, match="credential store"):
            Containment.build(settings, profiles, project, spec_dir, check_sandbox(), environ)
    settings = Settings(containment=ContainmentMode.REQUIRED)
    containment = Containment.build(settings, profiles, project, spec_dir, check_sandbox(), environ)
    runner = ContainedRunner(env=environ, clock=VirtualClock(auto_advance=False))
    reads = [
        "cat login/.credentials.json",
        "python3 -c \"print(open('login/.credentials.json').read())\"",
        f"cat {isolated_home}/.ssh/id_rsa",
    ]
    try:
        for command in reads:
            run = await asyncio.wait_for(runner.run(containment, command, project, 30), CHECK_S)
            assert run.exit_status not in (0, None), (command, run)
            assert canary not in run.output, command
    finally:
        await runner.close()
