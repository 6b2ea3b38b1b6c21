"""A long run's attempt history: each change costs bounded bytes however large the history
has grown, and every reader at every moment sees every change made."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime

import pytest

from agent_tui.engine.progress.history import AttemptHistory, RecoveryError
from agent_tui.engine.progress.journal import WHOLE_BYTES

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CHECK = {
    "outcome": "passed",
    "command": "pytest -q tests/test_feature.py",
    "exit_status": 0,
    "reason": "`pytest -q` exited 0",
    "output_tail": "".join(f"tests/test_feature.py::test_{n} PASSED\n" for n in range(40)),
}


def one_subtask(history: AttemptHistory, n: int) -> None:
    """What a subtask's try writes: its attempt, and its commit to make and made."""
    subtask = f"{n // 50 + 1}.{n % 50 + 1}"
    history.record_attempt(subtask, n + 1, "success", None, "done", CHECK, profile="work")
    history.set_pending_commit(subtask)
    history.set_pending_commit(None)


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch):
    """Bytes and crashes are what these count (a crash made by hand), not a disk's
    flushes: they only make the tests slow."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def test_bytes_written_per_change_stay_bounded_as_the_history_grows(tmp_path):
    history = AttemptHistory(tmp_path, now=lambda: NOW)
    per_subtask = []
    for window in range(6):
        before = history.file.bytes_written
        for n in range(window * 100, (window + 1) * 100):
            one_subtask(history, n)
        per_subtask.append((history.file.bytes_written - before) / 100)
    size = (tmp_path / "memory" / "attempt_history.json").stat().st_size
    assert size > 10 * WHOLE_BYTES  # the file alone would cost this per change
    entry = len(json.dumps(history.data["subtasks"]["12.50"]))
    assert max(per_subtask[1:]) < 12 * entry  # three changes, each a line and its share
    assert per_subtask[-1] < 1.5 * per_subtask[1]  # flat: 600 subtasks in, as at 100
    assert AttemptHistory(tmp_path).data == history.data


def big_history(tmp_path) -> AttemptHistory:
    history = AttemptHistory(tmp_path, now=lambda: NOW)
    for n in range(60):  # past the size the file is rewritten whole at
        one_subtask(history, n)
    assert history.file.journal.exists()
    return history


def test_a_reader_sees_every_change_at_once_whatever_it_changed(tmp_path):
    history = big_history(tmp_path)
    changes = [
        lambda: history.record_attempt("9.1", 70, "error", "other", "CLI exited 1"),
        lambda: history.record_rollback("9.1", 70, "logs/session-070.rollback.diff", "abc"),
        lambda: history.set_pending_commit("9.1"),
        lambda: history.queue_merge({"subtask_id": "9.1", "lane": 2, "commit": "abc"}),
        lambda: history.set_merging({"subtask_id": "9.1", "from": "a", "to": None}),
        lambda: history.unqueue_merge("9.1"),
        lambda: history.set_pending_commit(None),
        lambda: history.mark_stuck("9.1", "not completed after 3 sessions"),
        lambda: history.retry("9.1"),
        lambda: history.mark_stuck("9.2", "stuck too"),
        lambda: history.clear_stuck("9.2"),
    ]
    for change in changes:
        change()
        assert AttemptHistory(tmp_path).data == history.data
    assert "merging" not in history.data and "pending_commit" not in history.data


def test_a_change_cut_short_by_a_crash_is_left_out_and_the_rest_read(tmp_path):
    history = big_history(tmp_path)
    kept = json.loads(json.dumps(history.data))
    with open(history.file.journal, "ab") as journal:
        journal.write(b'{"set": [[["subtasks", "9.9"], {"attempts": [{"sess')
    assert AttemptHistory(tmp_path).data == kept


def test_a_crash_between_the_whole_write_and_the_journal_emptied_reads_the_same(tmp_path):
    history = big_history(tmp_path)
    left = tmp_path / "left.jsonl"
    shutil.copy(history.file.journal, left)
    history.close()
    assert not history.file.journal.exists()
    shutil.copy(left, history.file.journal)  # the journal that was about to go
    assert AttemptHistory(tmp_path).data == history.data


def test_at_the_end_of_a_run_the_file_alone_holds_everything(tmp_path):
    history = big_history(tmp_path)
    history.close()
    on_disk = json.loads((tmp_path / "memory" / "attempt_history.json").read_text())
    assert on_disk == history.data and not history.file.journal.exists()


def test_a_journal_that_is_a_link_is_refused_not_followed(tmp_path):
    history = big_history(tmp_path)
    victim = tmp_path / "elsewhere.jsonl"
    victim.write_text("")
    os.replace(history.file.journal, tmp_path / "was.jsonl")
    os.symlink(victim, history.file.journal)
    with pytest.raises(RecoveryError, match="symbolic link"):
        AttemptHistory(tmp_path)
    with pytest.raises(OSError):
        history.set_pending_commit("1.1")
    assert victim.read_text() == ""
