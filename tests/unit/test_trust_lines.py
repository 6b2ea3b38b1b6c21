"""What headless text, JSON lines and the app's log say of checks and QA."""

from __future__ import annotations

import json

import pytest

from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome, QAStep, QAVerdictKind
from agent_tui.headless import format_json, format_text
from agent_tui.tui.log_lines import log_line


def text(event) -> str:
    line = format_text(event)
    assert line is not None
    return line.split(" ", 1)[1]  # past the time stamp


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        (
            tev.VerificationStarted(
                subtask_id="1.1", command="pytest -q", sandboxed=True, timeout_s=300
            ),
            "verify    1.1: pytest -q (sandboxed, up to 300 s)",
        ),
        (
            tev.VerificationStarted(
                subtask_id="1.1", command="pytest -q", sandboxed=False, timeout_s=300
            ),
            "verify    1.1: pytest -q (UNSANDBOXED: it runs with your own access, up to 300 s)",
        ),
        (
            tev.VerificationEnded(
                subtask_id="1.1",
                outcome=CheckOutcome.PASSED,
                command="pytest -q",
                exit_status=0,
                duration_s=1.25,
                reason="`pytest -q` exited 0",
            ),
            "verify    1.1 passed: exited 0 (1.2 s)",
        ),
        (
            tev.VerificationEnded(
                subtask_id="1.1",
                outcome=CheckOutcome.FAILED,
                command="pytest -q",
                exit_status=1,
                reason="`pytest -q` exited 1 (expected 0)",
                output_tail="....F\n1 failed, 4 passed\n\n",
            ),
            "verify    1.1 FAILED: exited 1 (expected 0)\n"
            "          │ ....F\n"
            "          │ 1 failed, 4 passed",
        ),
        (
            tev.VerificationEnded(
                subtask_id="1.1",
                outcome=CheckOutcome.TIMED_OUT,
                command="sleep 9",
                reason="`sleep 9` did not finish within 5 s",
            ),
            "verify    1.1 FAILED: did not finish within 5 s (no output)",
        ),
        (
            tev.VerificationEnded(
                subtask_id="2.2",
                outcome=CheckOutcome.UNVERIFIED,
                reason="unverified: a manual check, which agent-tui cannot run",
            ),
            "verify    2.2 unverified: a manual check, which agent-tui cannot run",
        ),
        (
            tev.QAIteration(iteration=2, step=QAStep.REVIEWING, max_iterations=10),
            "qa        review 2 of at most 10",
        ),
        (
            tev.QAIteration(iteration=0, step=QAStep.FIXING, max_iterations=10),
            "qa        fixing what QA_FIX_REQUEST.md asks, before the first review",
        ),
        (
            tev.QAVerdict(iteration=1, verdict=QAVerdictKind.REJECTED, issues=("a", "b")),
            "qa        review 1: rejected (2 issues): a; b",
        ),
        (
            tev.QAVerdict(iteration=3, verdict=QAVerdictKind.NONE),
            "qa        review 3 left no verdict",
        ),
        (
            tev.QAEscalated(reason="3 QA reviews in a row left no verdict", path="/s/QA_E.md"),
            "escalated 3 QA reviews in a row left no verdict: see /s/QA_E.md",
        ),
    ],
)
def test_headless_text_for_checks_and_qa(event, shown):
    assert text(event) == shown


def test_json_lines_carry_the_check_and_its_output_masked():
    token = "sk-ant-oat01-" + "Q" * 50
    event = tev.VerificationEnded(
        subtask_id="1.1",
        outcome=CheckOutcome.TIMED_OUT,
        command="make test",
        reason="`make test` did not finish within 5 s",
        output_tail=f"printing {token}\x1b]0;title\x07",
        ts=5.0,
    )
    data = json.loads(format_json(event))
    assert data["type"] == "verification_ended" and data["outcome"] == "timed_out"
    assert token not in data["output_tail"] and "\x1b" not in data["output_tail"]


def test_the_apps_log_says_unsandboxed_in_red_and_lists_a_rejections_issues():
    started = log_line(
        tev.VerificationStarted(subtask_id="1.1", command="make", sandboxed=False, timeout_s=9)
    )
    assert started is not None
    assert started.plain == "  ⚖ checking 1.1: make  UNSANDBOXED: it runs with your own access"
    assert any(span.style == "bold red" for span in started.spans)
    verdict = log_line(tev.QAVerdict(iteration=1, verdict=QAVerdictKind.REJECTED, issues=("a",)))
    assert verdict is not None and verdict.plain == "  ◆ QA review 1: rejected\n      - a"
    failed = log_line(
        tev.VerificationEnded(
            subtask_id="1.1",
            outcome=CheckOutcome.FAILED,
            command="make",
            reason="`make` exited 2 (expected 0)",
            output_tail="make: *** [all] Error 2\n",
        )
    )
    assert failed is not None
    assert failed.plain == "  ✘ 1.1 failed: exited 2 (expected 0)\n      │ make: *** [all] Error 2"


def test_a_failed_checks_lines_show_the_end_of_its_output():
    output = "".join(f"line {n}\n" for n in range(1, 31)) + "FAILED test_x - assert 7 == 8\n\n"
    event = tev.VerificationEnded(
        subtask_id="1.1",
        outcome=CheckOutcome.FAILED,
        command="pytest -q",
        reason="`pytest -q` exited 1 (expected 0)",
        output_tail=output,
    )
    shown = [f"line {n}" for n in range(22, 31)] + ["FAILED test_x - assert 7 == 8"]
    logged = log_line(event)
    assert logged is not None
    assert logged.plain.splitlines() == [
        "  ✘ 1.1 failed: exited 1 (expected 0)",
        *(f"      │ {line}" for line in shown),
    ]
    assert text(event).splitlines() == [
        "verify    1.1 FAILED: exited 1 (expected 0)",
        *(f"          │ {line}" for line in shown),
    ]
    passed = log_line(
        tev.VerificationEnded(
            subtask_id="1.1", outcome=CheckOutcome.PASSED, reason="exited 0", output_tail=output
        )
    )
    assert passed is not None and "│" not in passed.plain


def test_a_check_run_again_on_the_spec_branch_says_so_in_the_log_and_headless():
    started = tev.VerificationStarted(
        subtask_id="1.1", command="pytest -q", sandboxed=True, timeout_s=300, lane=RECHECK_LANE
    )
    failed = tev.VerificationEnded(
        subtask_id="1.1",
        outcome=CheckOutcome.FAILED,
        command="pytest -q",
        reason="`pytest -q` exited 1 (expected 0)",
        output_tail="1 failed\n",
        lane=RECHECK_LANE,
    )
    passed = tev.VerificationEnded(
        subtask_id="2.1", outcome=CheckOutcome.PASSED, command="make",
        reason="`make` exited 0", duration_s=0.5, lane=RECHECK_LANE,
    )  # fmt: skip
    shown = [log_line(e) for e in (started, failed, passed)]
    assert [line.plain if line else None for line in shown] == [
        "  ⚖ re-checking 1.1: pytest -q  (sandboxed)",
        "  ✘ re-check of 1.1 failed: exited 1 (expected 0)\n      │ 1 failed",
        "  ✔ re-check of 2.1 passed: exited 0",
    ]
    assert [text(e) for e in (started, failed, passed)] == [
        "recheck   1.1: pytest -q (sandboxed, up to 300 s)",
        "recheck   1.1 FAILED: exited 1 (expected 0)\n          │ 1 failed",
        "recheck   2.1 passed: exited 0 (0.5 s)",
    ]
    # Its lane's own check, in a run of several lanes: after the lane, as its session's lines.
    own = tev.VerificationStarted(
        subtask_id="2.1", command="make", sandboxed=True, timeout_s=300, lane=2
    )
    assert (format_text(own, lanes=True) or "").split(" ", 1)[1] == (
        "L2 verify    2.1: make (sandboxed, up to 300 s)"
    )
    assert (format_text(started, lanes=True) or "").split(" ", 1)[1].startswith("recheck ")


def test_a_planners_transcript_is_named_from_the_spec_before_any_plan_is_loaded():
    # Found by a newcomer: new's planner line showed the transcript's whole absolute path
    # (no plan yet to know the spec dir by), where run's showed logs/session-001.jsonl.
    from agent_tui.engine.events import core as ev

    started = ev.SessionStarted(
        session=1, kind="planner", subtask_id=None, profile="default", attempt=1, model=None,
        transcript="/home/u/app/.auto-claude/specs/001-x/logs/session-001.jsonl",
    )  # fmt: skip
    line = log_line(started, None)
    assert line is not None and line.plain.endswith("→ logs/session-001.jsonl")
    assert "/home/u" not in line.plain
