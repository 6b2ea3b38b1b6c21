"""Attempt history: every write lands on disk at once; unknown keys survive."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from agent_tui.engine.progress.history import AttemptHistory, RecoveryError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_attempts_and_stuck_are_written_immediately(tmp_path):
    history = AttemptHistory(tmp_path, now=lambda: NOW)
    history.record_attempt("1.1", 1, "error", "tool_concurrency", "API Error: 400")
    history.mark_stuck("1.1", "tool-use concurrency error 6 times in a row")
    on_disk = json.loads((tmp_path / "memory" / "attempt_history.json").read_text())
    assert on_disk["subtasks"]["1.1"]["attempts"][0]["error_kind"] == "tool_concurrency"
    assert on_disk["stuck_subtasks"] == [
        {
            "subtask_id": "1.1",
            "reason": "tool-use concurrency error 6 times in a row",
            "escalated_at": "2026-11-24T12:00:00+00:00",
            "attempt_count": 1,
        }
    ]
    again = AttemptHistory(tmp_path)
    assert again.attempt_count("1.1") == 1 and again.stuck_ids() == {"1.1"}
    again.clear_stuck("1.1")
    assert not AttemptHistory(tmp_path).is_stuck("1.1")


def test_a_session_the_user_stopped_leaves_the_subtask_status_as_it_was(tmp_path):
    # Found by a tester: after q during 1.3 the history said "failed" while the plan and the
    # tree said in progress.
    history = AttemptHistory(tmp_path, now=lambda: NOW)
    history.record_attempt("1.3", 1, "interrupted", None, "stopped by the user")
    history.record_attempt("1.4", 2, "error", "other", "CLI exited 1")
    history.record_attempt("1.4", 3, "interrupted", None, "stopped by the user")
    on_disk = json.loads((tmp_path / "memory" / "attempt_history.json").read_text())
    assert on_disk["subtasks"]["1.3"]["status"] == "pending"
    assert on_disk["subtasks"]["1.4"]["status"] == "failed"
    assert len(on_disk["subtasks"]["1.4"]["attempts"]) == 2


def test_unknown_keys_survive(tmp_path):
    path = tmp_path / "memory" / "attempt_history.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"subtasks": {}, "stuck_subtasks": [], "upstream_field": [1, 2]}))
    history = AttemptHistory(tmp_path)
    history.record_attempt("x", 1, "success", None, "")
    assert json.loads(path.read_text())["upstream_field"] == [1, 2]


def test_a_corrupt_history_is_one_sentence(tmp_path):
    path = tmp_path / "memory" / "attempt_history.json"
    path.parent.mkdir()
    path.write_text("{oops")
    with pytest.raises(RecoveryError, match="not valid JSON"):
        AttemptHistory(tmp_path)
