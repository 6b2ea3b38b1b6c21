"""Start-up checks in a forked child: the answer, the refusal and every way the child can fail.

Each case runs in a fresh interpreter, as ``agent-tui run`` does: whether ``Preflight`` forks
depends on the threads alive in the process, and a test runner's own are not the point.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import json, os, signal, threading
from agent_tui.preflight import Preflight

PARENT = os.getpid()
calls = []  # appended to in whichever process runs the check


def in_child():
    return os.getpid() != PARENT


def report(**fields):
    print(json.dumps(fields))
"""


def run_case(body: str) -> dict:
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # the child printed nothing of its own
    return json.loads(lines[0])


def test_the_check_runs_in_a_child_and_its_value_comes_back():
    result = run_case("""
        def check():
            calls.append(1)
            return {"pid": os.getpid(), "items": [1, 2, 3]}

        preflight = Preflight.start(check, ValueError)
        forked = preflight.forked
        value = preflight.result()
        report(forked=forked, child=value["pid"] != PARENT, items=value["items"], calls=calls)
    """)
    assert result == {"forked": True, "child": True, "items": [1, 2, 3], "calls": []}


def test_a_refusal_in_the_child_is_raised_in_the_parent_with_its_message():
    result = run_case("""
        def check():
            calls.append(1)
            raise ValueError("plan.json: phase 2 depends on itself")

        preflight = Preflight.start(check, ValueError)
        try:
            preflight.result()
        except ValueError as exc:
            report(message=str(exc), calls=calls)
    """)
    assert result == {"message": "plan.json: phase 2 depends on itself", "calls": []}


@pytest.mark.parametrize(
    "failure",
    [
        "raise RuntimeError('a bug in the checks')",
        "os.kill(os.getpid(), signal.SIGKILL)",
        "return lambda: None  # cannot be pickled",
    ],
    ids=["crashes", "is-killed", "answers-something-unpicklable"],
)
def test_a_child_that_gives_no_usable_answer_means_the_check_runs_again_here(failure):
    result = run_case(f"""
        def check():
            if in_child():
                {failure}
            calls.append(1)
            return "checked in the parent"

        preflight = Preflight.start(check, ValueError)
        report(value=preflight.result(), calls=calls)
    """)
    assert result == {"value": "checked in the parent", "calls": [1]}


def test_no_fork_while_other_threads_run():
    result = run_case("""
        stop = threading.Event()
        threading.Thread(target=stop.wait).start()

        def check():
            calls.append(1)
            return os.getpid()

        preflight = Preflight.start(check, ValueError)
        forked = preflight.forked
        pid = preflight.result()
        stop.set()
        report(forked=forked, here=pid == PARENT, calls=calls)
    """)
    assert result == {"forked": False, "here": True, "calls": [1]}


def test_the_child_is_reaped():
    result = run_case("""
        preflight = Preflight.start(lambda: os.getpid(), ValueError)
        child = preflight.result()
        try:
            os.waitpid(child, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        report(reaped=reaped)
    """)
    assert result == {"reaped": True}
