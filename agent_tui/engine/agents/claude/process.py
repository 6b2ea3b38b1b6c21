"""The CLI as a process agent-tui can always end: a process group of its own, which dies
with agent-tui and leaves nothing behind.

The SDK starts the CLI itself, so agent-tui cannot hand it ``preexec_fn``.  Instead each
session's ``cli_path`` is a small launcher that starts the CLI as a process group of its
own (so a stop reaches its Bash children and its sandbox's socat relays too), writes its pid
where the session finds it, relays the SDK's signals to the group, and stays to watch:
when agent-tui dies (``PR_SET_PDEATHSIG`` on Linux, so a ``kill -9`` of agent-tui leaves no
CLI behind) or the CLI ends, it kills what is left of the group.  A stopped CLI
(``kill -STOP``) answers nothing; the session then ends its group itself.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from agent_tui.engine.sandbox.tmpdirs import sweep_named

_LAUNCHER = """\
import os, signal, sys, time

parent, pid_file, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
linux = sys.platform.startswith("linux")
if linux:
    import ctypes

    prctl = ctypes.CDLL(None).prctl
    prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: what the CLI orphans comes back here, not to init
watcher = os.getpid()
child = os.fork()
if child == 0:
    os.setpgid(0, 0)
    if linux:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the CLI dies with its watcher, too
    if os.getppid() != watcher:
        os._exit(137)
    os.execv(argv[0], argv)


def end_group(signum=signal.SIGKILL):
    try:
        os.killpg(child, signum)
    except OSError:
        pass


def adopted():
    # What the CLI orphaned outside its group (a sandbox that made a session of its own,
    # as the CLI died): this process's children now, as their subreaper.
    me, found = os.getpid(), set()
    for name in os.listdir("/proc") if linux else ():
        try:
            with open(f"/proc/{name}/stat") as handle:
                if int(handle.read().rsplit(")", 1)[1].split()[1]) == me:
                    found.add(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return found - {child}


def end_adopted():
    for _ in range(200):  # a kill may orphan the next (a sandbox's relays): up to ~2 s
        for pid in adopted():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            return
        if not adopted():
            return
        time.sleep(0.01)


def parent_gone(signum, frame):
    end_group()
    end_adopted()
    os._exit(137)


def relay(signum, frame):
    end_group(signum)


try:
    os.setpgid(child, child)
except OSError:
    pass  # the child did it first
with open(pid_file, "w") as handle:
    handle.write(str(child))
signal.signal(signal.SIGUSR2, parent_gone)
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(signum, relay)
if linux:
    prctl(1, signal.SIGUSR2)  # PR_SET_PDEATHSIG
if os.getppid() != parent:
    parent_gone(None, None)
os.closerange(0, 3)  # the CLI holds the SDK's pipes; only it may answer on them
while True:  # an orphan that ends meanwhile is reaped here, not left a zombie
    pid, status = os.wait()
    if pid == child:
        break
end_group()  # what the CLI left behind (its sandbox's socat relays, a runaway command)
end_adopted()  # and what it left outside its group
code = os.waitstatus_to_exitcode(status)
os._exit(128 - code if code < 0 else code)  # nothing to flush: its output was the CLI's
"""


def bundled_cli() -> Path | None:
    """The CLI that claude-agent-sdk ships, found without importing the SDK (that is slow)."""
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "_bundled" / "claude"


def find_cli() -> str | None:
    """The bundled CLI, else ``claude`` on PATH: the one the SDK would run."""
    bundled = bundled_cli()
    if bundled is not None and bundled.exists():
        return str(bundled)
    return shutil.which("claude")


LAUNCHER_PREFIX = "agent-tui-cli-"


class CliLauncher:
    """A lane's launcher script (in a private temp dir, removed by :meth:`close`).  A lane
    runs one session at a time, so one pid file serves them all."""

    def __init__(self, cli: str) -> None:
        self.cli = cli
        sweep_named(Path(tempfile.gettempdir()), LAUNCHER_PREFIX)  # a killed agent-tui's
        self._dir = Path(tempfile.mkdtemp(prefix=f"{LAUNCHER_PREFIX}{os.getpid()}-"))
        launcher = self._dir / "launch.py"
        launcher.write_text(_LAUNCHER)
        self.pid_file = self._dir / "cli.pid"
        self.path = self._dir / "claude"
        self.path.write_text(
            "#!/bin/sh\n"
            f"exec {_quote(sys.executable)} -S -E {_quote(str(launcher))} {os.getpid()} "
            f'{_quote(str(self.pid_file))} {_quote(cli)} "$@"\n'
        )
        self.path.chmod(0o700)

    def pid(self) -> int | None:
        """The running session's CLI (the last one started)."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.pid_file.read_text().strip())
        return None

    def forget(self) -> None:
        """The session has ended: its pid may be reused by anything."""
        with contextlib.suppress(OSError):
            self.pid_file.unlink()

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def kill_group(pid: int, signum: int = signal.SIGKILL) -> bool:
    """Signal the CLI's whole process group (it leads its own); False if it is gone."""
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True
