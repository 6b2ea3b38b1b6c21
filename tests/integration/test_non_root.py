"""The attacks a non-root user's run faces, run as one.

The suite runs as root in CI, where the CLI keeps its temp dir and its sandbox works as it
does for root. Every real user is not root: the CLI's temp dir is named after the uid (and
kept private only if its path is short enough), bwrap runs in an unprivileged user
namespace, and the agent's processes share the user's uid with agent-tui itself. So the
attacks that depend on any of that run again here as uid 65534, in pytest of their own.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.other_user import NOBODY, run_as_nobody

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
AS_A_USER = [
    # the CLI's temp dir for the uid: another session's task output
    "tests/integration/test_read_attacks.py::"
    "test_a_session_cannot_read_or_append_to_another_sessions_task_output[real]",
    # the user's home, checkout and data dir around the worktree
    "tests/integration/test_read_attacks.py::"
    "test_nothing_around_the_worktree_is_readable_and_honest_work_is_committed",
    # the agent runs as the user who runs agent-tui: signals, credentials, other tools
    "tests/integration/test_containment_attacks.py::"
    "test_each_attack_is_contained_and_honest_work_completes[kill the supervisor]",
    "tests/integration/test_containment_attacks.py::"
    "test_each_attack_is_contained_and_honest_work_completes[read credential stores]",
    "tests/integration/test_containment_attacks.py::"
    "test_each_attack_is_contained_and_honest_work_completes[reach other sessions and tools]",
]
TIMEOUT_S = 600


def test_the_attacks_fail_for_a_user_who_is_not_root():
    assert os.getuid() == 0, "the suite runs as root (CI); as a user, it already runs as one"
    temp_root = Path("/tmp") / f"at-{NOBODY}"
    shutil.rmtree(temp_root, ignore_errors=True)  # made anew by the run as that user
    home = Path(tempfile.mkdtemp(prefix="agent-tui-nobody-", dir="/tmp"))  # not root's TMPDIR
    try:
        os.chown(home, NOBODY, NOBODY)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            **{k: os.environ[k] for k in ("PYTHONPATH", "CI") if k in os.environ},
        }
        argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"]
        argv += [f"--basetemp={home / 'pytest'}", f"--rootdir={REPO}", *AS_A_USER]
        done = run_as_nobody(argv, needed=[REPO], env=env, cwd=REPO, timeout_s=TIMEOUT_S)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-6000:]
        assert re.search(rf"\b{len(AS_A_USER)} passed\b", out), out[-3000:]
        # as that user: its own temp root, the CLI's dir for its uid
        assert temp_root.stat().st_uid == NOBODY
    finally:
        shutil.rmtree(home, ignore_errors=True)
