"""agent-tui's own files are never written through a link a repo or an agent planted."""

from __future__ import annotations

import json
import os

import pytest

from agent_tui.engine.agents.transcript import Transcript, TranscriptError
from agent_tui.engine.control.runlock import LOCK_NAME, RunLock, SpecBusy
from agent_tui.engine.progress.history import AttemptHistory, RecoveryError
from agent_tui.engine.sandbox.containment import check_records, prepare_records
from agent_tui.files import LinkRefused, atomic_write_text, real_dir

TOKEN = "sk-ant-oat01-HISTORYhistoryHISTORY0123456789xyz"


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim.txt"
    path.write_text("the user's file\n")
    return path


@pytest.mark.parametrize("step", ["check", "acquire"])
def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path, victim, step):
    spec = tmp_path / "spec"
    spec.mkdir()
    os.symlink(victim, spec / LOCK_NAME)
    with pytest.raises(SpecBusy, match="symbolic link"):
        getattr(RunLock(spec), step)()
    assert victim.read_text() == "the user's file\n"


def test_a_fifo_as_lock_file_is_refused_without_hanging(tmp_path):
    os.mkfifo(tmp_path / LOCK_NAME)
    for step in ("check", "acquire"):
        with pytest.raises(SpecBusy, match="not a regular file"):
            getattr(RunLock(tmp_path), step)()


def test_a_transcript_is_never_written_through_a_symlinked_logs_dir(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, tmp_path / "logs")
    with pytest.raises(TranscriptError, match="symbolic link"):
        Transcript(tmp_path / "logs" / "session-001.jsonl")
    assert list(outside.iterdir()) == []


def test_a_transcript_is_a_new_file_never_an_existing_one_or_a_link(tmp_path, victim):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "session-001.jsonl").write_text("earlier\n")
    os.symlink(victim, logs / "session-002.jsonl")
    for name in ("session-001.jsonl", "session-002.jsonl"):
        with pytest.raises(TranscriptError):
            Transcript(logs / name)
    assert (logs / "session-001.jsonl").read_text() == "earlier\n"
    assert victim.read_text() == "the user's file\n"
    transcript = Transcript(logs / "session-003.jsonl")
    transcript.write("prompt", {"text": "hi"})
    transcript.close()
    assert json.loads((logs / "session-003.jsonl").read_text())["type"] == "prompt"


def test_a_symlinked_memory_dir_or_history_file_is_refused(tmp_path, victim):
    linked_dir = tmp_path / "a"
    linked_dir.mkdir()
    os.symlink(tmp_path, linked_dir / "memory")
    with pytest.raises(RecoveryError, match="symbolic link"):
        AttemptHistory(linked_dir)
    linked_file = tmp_path / "b"
    (linked_file / "memory").mkdir(parents=True)
    os.symlink(victim, linked_file / "memory" / "attempt_history.json")
    with pytest.raises(RecoveryError, match="symbolic link"):
        AttemptHistory(linked_file)
    assert victim.read_text() == "the user's file\n"


def test_the_history_never_holds_a_token(tmp_path):
    history = AttemptHistory(tmp_path)
    history.record_attempt("1.1", 1, "error", "auth", f"Authorization: Bearer {TOKEN}…")
    history.mark_stuck("1.1", f"token {TOKEN} rejected")
    text = (tmp_path / "memory" / "attempt_history.json").read_text()
    assert "HISTORYhistory" not in text and "sk-ant-oat01-…" in text


def test_an_atomic_write_replaces_a_link_never_its_target(tmp_path, victim):
    os.chmod(victim, 0o644)
    link = tmp_path / "plan.json"
    os.symlink(victim, link)
    atomic_write_text(link, "new\n")
    assert not link.is_symlink() and link.read_text() == "new\n"
    assert victim.read_text() == "the user's file\n"


def test_record_dirs_must_be_real_directories(tmp_path, victim):
    spec = tmp_path / "spec"
    spec.mkdir()
    prepare_records(spec)
    assert (spec / "logs").is_dir() and (spec / "memory").is_dir()
    check_records(spec)
    os.rmdir(spec / "logs")
    os.symlink(tmp_path, spec / "logs")
    for step in (check_records, prepare_records):
        with pytest.raises(LinkRefused, match="logs"):
            step(spec)
    with pytest.raises(LinkRefused, match="not a directory"):
        real_dir(victim)
