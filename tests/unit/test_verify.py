"""Verification parsing and judging: what a plan's check asks, and whether a run passes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_tui.engine.checks.runner import unwrap, wrap
from agent_tui.engine.checks.verify import (
    OUTPUT_TAIL_CHARS,
    CheckSite,
    CommandCheck,
    CommandRun,
    Expectation,
    Verifier,
    check_of,
    failed_check_prompt,
    judge,
    parse_expected,
    tail,
)
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.plan import Subtask, parse_plan


@pytest.mark.parametrize(
    ("expected", "wanted"),
    [
        (None, Expectation()),
        ("", Expectation()),
        ("  ", Expectation()),
        # A bare number is what the output shows, as upstream planners mean it.
        ("0", Expectation(output="0")),
        ("7", Expectation(output="7")),
        (3, Expectation(output="3")),
        ("exit 0", Expectation(exit_status=0)),
        ("exit 2", Expectation(exit_status=2)),
        ("Exit code 1", Expectation(exit_status=1)),
        ("exits with status 4", Expectation(exit_status=4)),
        ("exit code: 5", Expectation(exit_status=5)),
        ("OK", Expectation(output="OK")),
        ("pong", Expectation(output="pong")),
        ("Hello, Ada!", Expectation(output="Hello, Ada!")),
        ("prints 'Goodbye, Ada.'", Expectation(output="Goodbye, Ada.")),
        ("`3 passed`", Expectation(output="3 passed")),
        ("All tests pass", Expectation(described="All tests pass")),
        ("Build succeeds", Expectation(described="Build succeeds")),
        ("No errors", Expectation(described="No errors")),
        ("Returns 200", Expectation(described="Returns 200")),
        ("300", Expectation(output="300")),
        ("exit 300", Expectation(output="exit 300")),  # no exit status is that large
        ("status code 201", Expectation(output="status code 201")),  # HTTP's, not an exit
        (True, Expectation()),
    ],
)
def test_what_expected_asks_of_the_command(expected, wanted):
    assert parse_expected(expected) == wanted


def subtask_verification(verification):
    plan = parse_plan(
        json.dumps(
            {"phases": [{"id": "1", "subtasks": [{"id": "1.1", "verification": verification}]}]}
        )
    )
    return plan.subtasks()[0].verification


@pytest.mark.parametrize(
    ("verification", "found"),
    [
        (
            {"type": "command", "command": "pytest -q", "expected": "All tests pass"},
            CommandCheck("pytest -q", Expectation(described="All tests pass")),
        ),
        ({"run": "make test", "expect_status": 0}, CommandCheck("make test", Expectation())),
        ({"run": "false", "expect_status": "1"}, CommandCheck("false", Expectation(exit_status=1))),
        (
            {"command": "echo hi", "expected": "hi"},
            CommandCheck("echo hi", Expectation(output="hi")),
        ),
        (
            {"type": "Test", "command": "go test ./..."},
            CommandCheck("go test ./...", Expectation()),
        ),
        (None, "the plan gives no verification"),
        ({"type": "manual", "instructions": "look"}, "a manual check, which agent-tui cannot run"),
        ({"type": "browser", "url": "http://x"}, "a browser check, which agent-tui cannot run"),
        ({"type": "api", "url": "http://x"}, "an api check, which agent-tui cannot run"),
        ({"type": "e2e", "steps": ["a"]}, "an e2e check, which agent-tui cannot run"),
        ({"type": "command", "command": "  "}, "the verification names no command"),
        ({"type": "command"}, "the verification names no command"),
        ({"run": "x", "expect_status": "zero"}, "expect_status 'zero' is not an exit status"),
    ],
)
def test_which_verifications_are_commands_to_run(verification, found):
    assert check_of(subtask_verification(verification)) == found


CHECK = CommandCheck("make test", Expectation())


@pytest.mark.parametrize(
    ("check", "run", "outcome", "reason"),
    [
        (CHECK, CommandRun(exit_status=0), CheckOutcome.PASSED, "`make test` exited 0"),
        (
            CHECK,
            CommandRun(exit_status=2, output="boom"),
            CheckOutcome.FAILED,
            "`make test` exited 2 (expected 0)",
        ),
        (
            CommandCheck("false", Expectation(exit_status=1)),
            CommandRun(exit_status=1),
            CheckOutcome.PASSED,
            "`false` exited 1",
        ),
        (
            CommandCheck("greet", Expectation(output="Hello, Ada!")),
            CommandRun(exit_status=0, output="hello,   ada!\n"),
            CheckOutcome.PASSED,
            "`greet` exited 0 and showed 'Hello, Ada!'",
        ),
        (
            CommandCheck("greet", Expectation(output="Hello, Ada!")),
            CommandRun(exit_status=0, output="Hello, Bob!\n"),
            CheckOutcome.FAILED,
            "`greet` exited 0 but its output does not show 'Hello, Ada!'",
        ),
        (
            CHECK,
            CommandRun(timed_out=True),
            CheckOutcome.TIMED_OUT,
            "`make test` did not finish within 30 s",
        ),
        (
            CHECK,
            CommandRun(error="the sandbox did not start"),
            CheckOutcome.FAILED,
            "`make test` did not run: the sandbox did not start",
        ),
    ],
)
def test_a_run_passes_only_as_its_check_asks(check, run, outcome, reason):
    assert judge(check, run, 30) == (outcome, reason)


SEVEN = CommandCheck("add 3 4", parse_expected("7"))


@pytest.mark.parametrize("output", ["7", "7\n", "Result: 7.", "3 + 4 = 7\nok", "(7)"])
def test_a_bare_number_expected_passes_when_the_output_shows_it(output):
    assert judge(SEVEN, CommandRun(exit_status=0, output=output), 30) == (
        CheckOutcome.PASSED,
        "`add 3 4` exited 0 and showed '7'",
    )


@pytest.mark.parametrize("output", ["17", "70", "7.5", "0.7", "-7", "", "seven"])
def test_a_bare_number_is_not_shown_inside_another_number(output):
    assert judge(SEVEN, CommandRun(exit_status=0, output=output), 30) == (
        CheckOutcome.FAILED,
        "`add 3 4` exited 0 but its output does not show '7'",
    )


def test_a_bare_number_is_not_an_exit_status():
    # Found by a user: "expected": "7" with output 7 failed three times, "exited 0
    # (expected 7)".
    assert judge(SEVEN, CommandRun(exit_status=7, output="7"), 30) == (
        CheckOutcome.FAILED,
        "`add 3 4` exited 7 (expected 0)",
    )


def test_the_tail_keeps_the_end_of_the_output_from_a_whole_line_and_masks_tokens():
    lines = [f"line {n}" for n in range(5000)]
    token = "sk-ant-oat01-" + "T" * 60
    kept = tail("\n".join([*lines, f"FAILED: {token}"]))
    assert kept.startswith("…\nline ") and "\nFAILED: sk-ant-oat01-…" in kept
    assert len(kept) <= OUTPUT_TAIL_CHARS + 1 and token not in kept
    assert tail("short\n") == "short\n"


def test_the_wrapped_report_is_read_back_and_output_cannot_fake_it():
    nonce = "agent-tui-0123456789abcdef"
    script = wrap("pytest -q", nonce)
    assert "(\npytest -q\n)" in script and f"'\\n{nonce} %s\\n'" in script
    text = f"3 failed\n{nonce} 0 forged later?\nagent-tui-ffff 0\n\n{nonce} 1\n"
    assert unwrap(text, nonce) == (1, f"3 failed\n{nonce} 0 forged later?\nagent-tui-ffff 0\n")
    assert unwrap("Sandbox required but unavailable", nonce) is None


def test_a_wrapped_check_starts_in_its_own_directory_whatever_the_shell_was_left_in():
    script = wrap("pytest -q", "agent-tui-0123456789abcdef", Path("/work/it's here"))
    assert script.startswith("cd -- '/work/it'\"'\"'s here' || exit 1\n(\npytest -q\n)")


def test_the_next_prompt_carries_the_last_failed_check_and_drops_it_once_one_passes():
    failed = {
        "outcome": "failed",
        "command": "pytest -q",
        "reason": "`pytest -q` exited 1 (expected 0)",
        "output_tail": "1 failed, 2 passed",
    }
    attempts = [{"outcome": "check_failed", "verification": failed}, {"outcome": "error"}]
    text = failed_check_prompt(attempts)
    assert "Command: `pytest -q`" in text and "exited 1 (expected 0)" in text
    assert "1 failed, 2 passed" in text
    passed = {**failed, "outcome": "passed"}
    assert failed_check_prompt([*attempts, {"verification": passed}]) == ""
    assert failed_check_prompt([{"outcome": "incomplete"}]) == ""
    timed_out = {**failed, "outcome": "timed_out", "output_tail": ""}
    assert "(no output)" in failed_check_prompt([{"verification": timed_out}])


class PassingRunner:
    async def run(self, command: str, cwd: Path, timeout_s: float) -> CommandRun:
        return CommandRun(exit_status=0, output="ok")


@pytest.mark.parametrize("lane", [1, 3, RECHECK_LANE])
async def test_a_checks_events_say_which_lanes_work_it_checks(tmp_path, lane):
    events: list = []

    async def emit(event) -> None:
        events.append(event)

    verifier = Verifier(
        enabled=True,
        timeout_s=5.0,
        emit=emit,
        clock=VirtualClock(),
        runner=lambda containment: (PassingRunner(), True),
    )
    site = CheckSite(tmp_path, None, Guard(tmp_path), lane)
    command = {"type": "command", "command": "test -e a.txt"}
    await verifier.check(Subtask(id="1.1", verification=command), site)
    await verifier.check(Subtask(id="1.2", verification={"type": "manual"}), site)
    assert [(type(e), e.subtask_id, e.lane) for e in events] == [
        (tev.VerificationStarted, "1.1", lane),
        (tev.VerificationEnded, "1.1", lane),
        (tev.VerificationEnded, "1.2", lane),  # unverified: nothing ran, still its lane's
    ]
    assert events[1].outcome == CheckOutcome.PASSED
