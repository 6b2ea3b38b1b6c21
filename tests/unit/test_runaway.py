"""The runaway detector: the same call again and again, or a context growing turn after
turn, with no file changed in between; and what the next prompt says about it."""

from __future__ import annotations

from agent_tui.engine.agents.runaway import RunawayDetector, RunawayLimits, runaway_prompt

BASH = {"command": "npm test", "description": "run the tests"}


def test_the_same_call_n_times_stops_the_session_once():
    detector = RunawayDetector(RunawayLimits(repeats=4))
    reasons = [detector.tool_call("Bash", dict(BASH)) for _ in range(6)]
    assert reasons[:3] == [None, None, None]
    assert reasons[3] == (
        "it made the same Bash call 4 times (npm test) with no other file changed"
    )
    assert reasons[4:] == [None, None]


def test_another_files_change_is_progress_but_the_same_edit_is_not():
    detector = RunawayDetector(RunawayLimits(repeats=3))
    edit = {"file_path": "a.py", "old_string": "x", "new_string": "y"}
    for _ in range(2):
        assert detector.tool_call("Bash", BASH) is None
        assert detector.tool_call("Edit", edit) is None
        detector.file_changed("Edit", edit)
    assert detector.tool_call("Bash", BASH) is None  # the tests again after each edit: fine
    assert detector.tool_call("Edit", edit) is not None  # the same edit a third time


def test_a_different_input_is_a_different_call():
    detector = RunawayDetector(RunawayLimits(repeats=2))
    assert detector.tool_call("Read", {"file_path": "a"}) is None
    assert detector.tool_call("Read", {"file_path": "b"}) is None
    assert detector.tool_call("Grep", {"file_path": "a"}) is None


def test_a_context_that_grows_past_the_threshold_with_no_file_changed():
    detector = RunawayDetector(RunawayLimits(token_growth=10_000))
    assert detector.reply(20_000) is None
    assert detector.reply(29_999) is None
    detector.file_changed("Write", {"file_path": "a"})  # progress: measured afresh from here
    assert detector.reply(31_000) is None
    assert detector.reply(40_999) is None
    assert detector.reply(41_000) == (
        "its context grew by 10,000 tokens (to 41,000 per turn) with no file changed"
    )


def test_zero_turns_a_check_off():
    detector = RunawayDetector(RunawayLimits(repeats=0, token_growth=0))
    assert all(detector.tool_call("Bash", BASH) is None for _ in range(100))
    assert detector.reply(1) is None and detector.reply(10_000_000) is None


def test_a_long_input_is_shortened_in_the_reason():
    detector = RunawayDetector(RunawayLimits(repeats=1))
    reason = detector.tool_call("Write", {"file_path": "a", "content": "x" * 500})
    assert reason.endswith("…) with no other file changed") and len(reason) < 200


def test_the_next_prompt_says_why_the_last_session_was_stopped():
    stopped = {"error_kind": "runaway", "message": "runaway: it made the same Bash call 8 times"}
    assert "because it made the same Bash call 8 times." in runaway_prompt([stopped])
    assert runaway_prompt([stopped, {"error_kind": None, "message": "done"}]) == ""
    assert runaway_prompt([]) == ""
