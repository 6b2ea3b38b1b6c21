"""The spend ledger: append-only per profile, every line whole after a crash, each session
counted once (its final record, else its last estimate), totals by spec, run and period."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from agent_tui.engine.accounts.ledger import Entry, Ledger


def entry(session: int = 1, *, run: str = "r1", profile: str = "a", cost: float = 0.5, **fields):
    values = {
        "run": run,
        "session": session,
        "profile": profile,
        "spec": "/p/.auto-claude/specs/001",
        "project": "/p",
        "role": "coder",
        "ts": 1_800_000_000.0,
        "cost_usd": cost,
        "subtask": "1.1",
    }
    return Entry(**{**values, **fields})


def test_each_profile_has_its_own_append_only_file(tmp_path):
    ledger = Ledger(tmp_path / "spend")
    ledger.append(entry(1, profile="a"))
    ledger.append(entry(2, profile="b", cost=1.0))
    ledger.append(entry(1, profile="a", cost=0.75, final=True, estimated=False))
    a_lines = (tmp_path / "spend" / "a.jsonl").read_text().splitlines()
    assert [json.loads(line)["cost_usd"] for line in a_lines] == [0.5, 0.75]
    assert (tmp_path / "spend" / "b.jsonl").stat().st_mode & 0o777 == 0o600
    again = Ledger.load(tmp_path / "spend")
    assert again.spent() == 1.75 and again.spent(profile="a") == 0.75


def test_a_session_counts_once_its_final_record_over_its_estimates(tmp_path):
    ledger = Ledger(tmp_path)
    for cost in (0.1, 0.2, 0.3):
        ledger.append(entry(cost=cost))  # the estimate after each reply: the whole so far
    assert ledger.spent() == 0.3
    ledger.append(entry(cost=0.28, final=True, estimated=False))
    ledger.append(entry(cost=0.9))  # an estimate read after the end changes nothing
    assert Ledger.load(tmp_path).spent() == 0.28
    assert [e.estimated for e in Ledger.load(tmp_path).sessions()] == [False]


def test_the_same_session_number_in_another_run_is_another_session(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append(entry(1, run="first"))
    ledger.append(entry(1, run="second"))
    assert Ledger.load(tmp_path).spent() == 1.0
    assert Ledger.load(tmp_path).spent(run="second") == 0.5


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_next_starts_afresh(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append(entry(1))
    path = tmp_path / "a.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'{"v":1,"run":"r1","session":2,"profile":"a","spec":"/p/s')  # no newline
    ledger.append(entry(3, cost=0.25))
    read = Ledger.load(tmp_path)
    assert sorted(e.session for e in read.sessions()) == [1, 3]
    assert read.skipped == 1
    assert path.read_text().count("\n") == 3


def test_a_line_being_written_is_read_once_it_is_whole(tmp_path):
    reader = Ledger.load(tmp_path)
    path = tmp_path / "a.jsonl"
    line = json.dumps({"v": 1, **entry(1).__dict__}).encode()
    with open(path, "ab") as handle:
        handle.write(line[:40])
        handle.flush()
        reader.refresh()
        assert reader.spent() == 0 and reader.skipped == 0
        handle.write(line[40:] + b"\n")
    reader.refresh()
    assert reader.spent() == 0.5


def test_refresh_reads_what_another_run_appended(tmp_path):
    mine, theirs = Ledger.load(tmp_path), Ledger.load(tmp_path)
    mine.append(entry(1, run="mine"))
    theirs.append(entry(1, run="theirs", cost=2.0))
    assert mine.spent() == 0.5
    mine.refresh()
    assert mine.spent() == 2.5
    mine.refresh()  # reading again counts nothing twice
    assert mine.spent() == 2.5


def test_a_file_rewritten_shorter_is_read_again_from_its_start(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append(entry(1))
    ledger.append(entry(2))
    ledger.refresh()
    path = tmp_path / "a.jsonl"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    ledger.refresh()
    assert [e.session for e in ledger.sessions()] == [1]


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b'{"v": 2, "run": "r"}',
        b'{"v": 1, "run": "r", "session": 1}',
        b'{"v":1,"run":"r","session":1,"profile":"a","spec":"s","project":"p","role":"coder",'
        b'"ts":1,"cost_usd":-5}',
        b"[1, 2]",
    ],
)
def test_a_line_that_is_no_record_is_skipped(tmp_path, line):
    (tmp_path / "a.jsonl").write_bytes(line + b"\n")
    ledger = Ledger.load(tmp_path)
    assert list(ledger.sessions()) == [] and ledger.skipped == 1


def test_totals_by_spec_run_profile_and_time(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append(entry(1, ts=100.0, cost=1.0))
    ledger.append(entry(2, ts=200.0, cost=2.0, spec="/p/other"))
    ledger.append(entry(3, ts=300.0, cost=4.0, profile="b", run="r2"))
    assert ledger.spent(spec="/p/.auto-claude/specs/001") == 5.0
    assert ledger.spent(run="r1") == 3.0
    assert ledger.spent(profile="a", between=(150.0, 300.0)) == 2.0
    assert ledger.spent(between=(100.0, 300.0)) == 3.0  # the end is not in it


def test_in_memory_it_writes_nothing(tmp_path):
    ledger = Ledger(None)
    ledger.append(entry())
    ledger.refresh()
    assert ledger.spent() == 0.5 and list(tmp_path.iterdir()) == []


def test_a_linked_file_is_not_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / "spend").mkdir()
    os.symlink(target, tmp_path / "spend" / "a.jsonl")
    with pytest.raises(OSError):
        Ledger(tmp_path / "spend").append(entry())
    assert target.read_text() == ""


def _append_forever(directory: str, ready) -> None:
    ledger = Ledger(Path(directory))
    ready.set()
    session = 0
    while True:
        session += 1
        ledger.append(entry(session, cost=0.01))


def test_a_process_killed_while_appending_leaves_only_whole_lines(tmp_path):
    ready = multiprocessing.Event()
    writer = multiprocessing.Process(target=_append_forever, args=(str(tmp_path), ready))
    writer.start()
    assert ready.wait(timeout=30)
    path = tmp_path / "a.jsonl"
    for _ in range(3000):  # at most 30 s
        if not writer.is_alive() or (path.exists() and path.stat().st_size >= 20_000):
            break
        writer.join(timeout=0.01)
    assert writer.is_alive()
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(timeout=30)
    read = Ledger.load(tmp_path)
    sessions = sorted(e.session for e in read.sessions())
    assert read.skipped == 0  # a write is one line, whole or not begun
    assert sessions == list(range(1, len(sessions) + 1)) and len(sessions) > 50
