"""Run a command as an ordinary user (``nobody``) from the root the suite runs as.

Real users are not root, and the CLI and its sandbox behave differently for them (the temp
dir the CLI keeps for a uid, bwrap in an unprivileged user namespace). CI runs as root; this
lets a test run part of the suite as uid 65534 against the same installed packages.

Python, the installed packages and this checkout often sit below a directory only root may
enter (``/root``: pyenv, a venv, the clone itself). The command therefore runs in a mount
namespace made with bwrap (as root, so no user namespace of its own): each such directory is
covered with an empty tmpfs into which the paths the command needs are bound back, read-only,
so the user reaches them and nothing else there. The rest of the file system is the host's.

What it needs: bwrap and setpriv (installed by the test command), and unprivileged user
namespaces for that user (the CLI's own bwrap): on Ubuntu 24.04, AppArmor's
``apparmor_restrict_unprivileged_userns`` must be off, as for any user's sandbox.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

NOBODY = 65534
"""The uid and gid the command runs as (``nobody``/``nogroup`` on Debian)."""


def _closed_to_others(path: Path) -> bool:
    try:
        return not os.stat(path).st_mode & stat.S_IXOTH
    except OSError:
        return False


def _views(needed: Iterable[Path]) -> list[str]:
    """bwrap arguments that make each needed path reachable by any user: the topmost
    ancestor others cannot pass through becomes an empty tmpfs, the needed paths below it
    are bound back."""
    covers: dict[Path, list[Path]] = {}
    for path in {p.resolve() for p in needed}:
        closed = next((a for a in reversed(path.parents) if _closed_to_others(a)), None)
        if closed is not None:
            covers.setdefault(closed, []).append(path)
    args: list[str] = []
    for cover in sorted(covers, key=lambda p: len(p.parts)):
        args += ["--perms", "0755", "--tmpfs", str(cover)]
        made: set[Path] = set()
        for path in sorted(covers[cover]):
            # bwrap would make the dirs between as 0700: make them passable first
            for between in reversed(path.parents):
                if between not in made and between.is_relative_to(cover) and between != cover:
                    args += ["--perms", "0755", "--dir", str(between)]
                    made.add(between)
            args += ["--ro-bind", str(path), str(path)]
    return args


def python_paths() -> list[Path]:
    """What this interpreter needs to start and import agent-tui and its packages."""
    paths = {
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.executable).parent,
        Path(os.path.realpath(sys.executable)).parent,
        *(Path(p) for p in sys.path if p and Path(p).is_dir()),
        Path(sysconfig.get_paths()["purelib"]),
    }
    return sorted(paths)


def run_as_nobody(
    argv: Sequence[str],
    *,
    needed: list[Path],
    env: dict[str, str],
    cwd: Path,
    timeout_s: float,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as uid/gid 65534 with no capabilities, in a view where ``needed``
    (and this Python) are reachable; its output as text."""
    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
    assert bwrap and setpriv, "bwrap and setpriv are needed (scripts/install-sandbox)"
    needed = [*needed, cwd]
    for path in needed:
        assert not _closed_to_others(path.resolve()), (
            f"{path} is closed to other users (made under umask 077?): the user the test "
            "runs as cannot read it"
        )
    # this Python's own: one closed to others (a user site dir) is left out of reach
    python = [p for p in python_paths() if not _closed_to_others(p.resolve())]
    view = _views([*needed, *python])
    command = [
        bwrap,
        "--dev-bind", "/", "/",
        *view,
        "--die-with-parent",
        "--chdir", str(cwd),
        "--",
        setpriv,
        f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
        "--inh-caps=-all",
        *argv,
    ]  # fmt: skip
    return subprocess.run(
        command,
        env=env,
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
