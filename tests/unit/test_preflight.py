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
from agent_tui.startup.preflight import Preflight

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
        def check(send):
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
        def check(send):
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
        def check(send):
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

        def check(send):
            send("early")
            calls.append(1)
            return os.getpid()

        preflight = Preflight.start(check, ValueError)
        forked = preflight.forked
        early = preflight.early()
        pid = preflight.result()
        stop.set()
        report(forked=forked, early=early, here=pid == PARENT, calls=calls)
    """)
    assert result == {"forked": False, "early": "early", "here": True, "calls": [1]}


def test_the_child_is_reaped():
    result = run_case("""
        preflight = Preflight.start(lambda send: os.getpid(), ValueError)
        child = preflight.result()
        try:
            os.waitpid(child, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        report(reaped=reaped)
    """)
    assert result == {"reaped": True}


def test_the_early_value_arrives_while_the_child_is_still_checking():
    """``run`` draws the plan from the early value while the credentials are checked."""
    result = run_case("""
        go_on_read, go_on_write = os.pipe()  # the child waits on it after sending early

        def check(send):
            send({"plan": [1, 2]})
            os.read(go_on_read, 1)
            return "all checked"

        preflight = Preflight.start(check, ValueError)
        early = preflight.early()  # would never return if it waited for the answer
        settled = preflight.settled
        os.write(go_on_write, b"x")
        report(early=early, settled=settled, value=preflight.result(), calls=calls)
    """)
    assert result == {
        "early": {"plan": [1, 2]},
        "settled": False,
        "value": "all checked",
        "calls": [],
    }


@pytest.mark.parametrize("after_early", [False, True], ids=["before-early", "after-early"])
def test_a_refusal_comes_from_whichever_call_first_sees_it(after_early):
    result = run_case(f"""
        def check(send):
            if {after_early}:
                send("plan view")
            raise ValueError("no credentials for profile 'work'")

        preflight = Preflight.start(check, ValueError)
        seen = []
        for call in (preflight.early, preflight.result):
            try:
                seen.append(["value", call()])
            except ValueError as exc:
                seen.append(["refused", str(exc)])
                break
        report(seen=seen, calls=calls)
    """)
    refusal = ["refused", "no credentials for profile 'work'"]
    expected = [["value", "plan view"], refusal] if after_early else [refusal]
    assert result == {"seen": expected, "calls": []}


def test_a_child_that_dies_after_its_early_value_means_the_check_runs_again_here():
    result = run_case("""
        def check(send):
            send("from " + ("child" if in_child() else "parent"))
            if in_child():
                os.kill(os.getpid(), signal.SIGKILL)
            calls.append(1)
            return "checked in the parent"

        preflight = Preflight.start(check, ValueError)
        report(early=preflight.early(), value=preflight.result(), calls=calls)
    """)
    assert result == {"early": "from child", "value": "checked in the parent", "calls": [1]}


def test_close_stops_a_child_whose_answer_is_not_wanted_and_reaps_it():
    result = run_case("""
        never_read, never_written = os.pipe()

        def check(send):
            send("early")
            os.read(never_read, 1)  # blocks until killed

        preflight = Preflight.start(check, ValueError)
        preflight.early()
        child = preflight._pid
        preflight.close()
        try:
            os.waitpid(child, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        report(reaped=reaped, forked=preflight.forked)
    """)
    assert result == {"reaped": True, "forked": False}


def test_close_while_another_thread_waits_for_the_answer_ends_that_wait_without_a_rerun():
    """The app waits for the verdict in a thread; quitting first must not hang on a check
    that blocks (a keyring prompt), nor run it again in the parent."""
    result = run_case("""
        from agent_tui.startup.preflight import PreflightClosed
        never_read, never_written = os.pipe()

        def check(send):
            send("plan view")
            if in_child():
                os.read(never_read, 1)  # a check that blocks
            calls.append(1)

        preflight = Preflight.start(check, ValueError)
        preflight.early()
        seen = []

        def wait():
            try:
                preflight.result()
                seen.append("answered")
            except PreflightClosed:
                seen.append("closed")

        waiter = threading.Thread(target=wait)
        waiter.start()
        preflight.close()
        waiter.join(timeout=10)
        report(seen=seen, alive=waiter.is_alive(), calls=calls, forked=preflight.forked)
    """)
    assert result == {"seen": ["closed"], "alive": False, "calls": [], "forked": False}


def test_waiting_for_the_verdict_loads_nothing_of_the_value_until_it_is_asked_for():
    """The app waits for the verdict while it draws: the value's modules load only with it."""
    result = run_case("""
        import sys

        def check(send):
            from fractions import Fraction

            return Fraction(1, 3)

        loaded_before = "fractions" in sys.modules
        preflight = Preflight.start(check, ValueError)
        preflight.wait()
        loaded_after_wait = "fractions" in sys.modules
        value = preflight.result()
        report(
            before=loaded_before,
            after_wait=loaded_after_wait,
            value=str(value),
            loaded=type(value).__module__ in sys.modules,
            calls=calls,
        )
    """)
    assert result == {
        "before": False,
        "after_wait": False,
        "value": "1/3",
        "loaded": True,
        "calls": [],
    }


def test_a_value_that_does_not_unpickle_here_means_the_check_runs_again_here():
    result = run_case("""
        import sys, types

        def check(send):
            if not in_child():
                calls.append(1)
                return "checked in the parent"
            only_here = types.ModuleType("only_in_the_child")
            exec("class Found:\\n    pass", only_here.__dict__)
            only_here.Found.__module__ = "only_in_the_child"
            sys.modules["only_in_the_child"] = only_here
            return only_here.Found()

        preflight = Preflight.start(check, ValueError)
        preflight.wait()
        report(value=preflight.result(), calls=calls)
    """)
    assert result == {"value": "checked in the parent", "calls": [1]}
