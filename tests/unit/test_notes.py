"""HUMAN_INPUT.md: a note goes into the next prompt once and is never dropped unsent."""

from __future__ import annotations

import pytest

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.control.notes import MAX_NOTE_BYTES, NoteBox
from agent_tui.engine.events import core as ev
from agent_tui.engine.failures.kinds import ErrorKind
from tests.unit.loop_harness import make_setup, mark_completed, of

LANE = object()


def test_notes_are_appended_with_a_blank_line_between(tmp_path):
    box = NoteBox(tmp_path)
    box.add("  use the stdlib only \n")
    box.add("")
    box.add("and no new files")
    assert box.path.read_text() == "use the stdlib only\n\nand no new files\n"


def test_what_was_sent_is_taken_and_what_came_since_stays(tmp_path):
    box = NoteBox(tmp_path)
    box.add("first")
    assert box.offer(LANE) == "first\n"
    box.add("second")
    assert box.take(LANE, tmp_path / "logs" / "session-001.human-input.md")
    assert (tmp_path / "logs" / "session-001.human-input.md").read_text() == "first\n"
    assert box.read() == "second\n"
    assert box.offer(LANE) == "second\n"
    assert box.take(LANE, tmp_path / "logs" / "session-002.human-input.md")
    assert not box.path.exists() and box.read() is None


def test_a_note_edited_while_its_session_ran_is_left_whole(tmp_path):
    box = NoteBox(tmp_path)
    box.path.write_text("do X\n")
    box.offer(LANE)
    box.path.write_text("do Y instead\n")
    assert not box.take(LANE, tmp_path / "kept.md")
    assert box.read() == "do Y instead\n" and not (tmp_path / "kept.md").exists()


def test_with_lanes_the_note_goes_to_one_session_at_a_time(tmp_path):
    box, other = NoteBox(tmp_path), object()
    box.add("one note")
    assert box.offer(LANE) == "one note\n"
    assert box.offer(other) is None and box.offered_to(other) is None  # LANE's session has it
    box.release(LANE)  # it never reached the model
    assert box.offer(other) == "one note\n"
    assert not box.take(LANE, tmp_path / "not-lanes.md")
    assert box.take(other, tmp_path / "kept.md") and box.read() is None


@pytest.mark.parametrize("make", ["directory", "too large", "not utf-8", "a link"])
def test_a_file_that_cannot_be_used_is_named_and_left_alone(tmp_path, make):
    box = NoteBox(tmp_path)
    if make == "directory":
        box.path.mkdir()
    elif make == "a link":  # to a credential file, say: never read into a prompt
        secret = tmp_path / "credentials.json"
        secret.write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-LINKEDlinked00"}}')
        box.path.symlink_to(secret)
    elif make == "too large":
        box.path.write_bytes(b"x" * (MAX_NOTE_BYTES + 1))
    else:
        box.path.write_bytes(b"\xff\xfe note")
    assert box.offer(LANE) is None
    assert box.problem.startswith(f"{box.path} is not put in the prompt")
    assert box.path.exists()


@pytest.fixture
def setup(tmp_path):
    return make_setup(tmp_path)


async def test_the_note_goes_into_the_next_prompt_once_and_is_kept_in_the_logs(setup):
    loop, sessions = setup()
    loop.add_note("Prefer pathlib over os.path.")
    assert await loop.run() == 0
    first, second = (spec.prompt for spec in sessions.specs)
    assert "left you a note" in first and "Prefer pathlib over os.path." in first
    assert "Prefer pathlib" not in second
    assert not (setup.spec_dir / "HUMAN_INPUT.md").exists()
    kept = setup.spec_dir / "logs" / "session-001.human-input.md"
    assert kept.read_text() == "Prefer pathlib over os.path.\n"
    assert [e.text for e in of(setup.events, ev.NoteSent)] == ["Prefer pathlib over os.path.\n"]
    kinds = [type(e) for e in setup.events]
    sent = kinds.index(ev.NoteSent)
    assert kinds[sent - 1] is ev.SessionStarted  # shown under the session it goes with


async def test_a_note_the_user_wrote_there_is_taken_too(setup):
    (setup.spec_dir / "HUMAN_INPUT.md").write_text("# from me\nKeep functions short.\n")
    loop, sessions = setup()
    assert await loop.run() == 0
    assert "Keep functions short." in sessions.specs[0].prompt
    assert not (setup.spec_dir / "HUMAN_INPUT.md").exists()


async def test_a_session_that_never_reached_the_model_leaves_the_note_for_the_next(setup):
    def behaviour(spec, n):
        if n == 1:  # refused before the model saw anything: no tokens, no tool call
            return SessionOutcome(outcome="error", error_kind=ErrorKind.OVERLOADED)
        mark_completed(setup.spec_dir / "implementation_plan.json", spec.subtask_id)
        return SessionOutcome(outcome="success", input_tokens=10)

    (setup.spec_dir / "HUMAN_INPUT.md").write_text("Mind the tests.\n")
    loop, sessions = setup(behaviour)
    assert await loop.run() == 0
    prompts = [spec.prompt for spec in sessions.specs]
    assert ["Mind the tests." in p for p in prompts] == [True, True, False]
    assert len(of(setup.events, ev.NoteSent)) == 2


async def test_a_token_pasted_into_a_note_is_masked_in_the_prompt(setup):
    token = "sk-ant-oat01-PASTEDpastedPASTEDpasted0123"
    loop, sessions = setup()
    loop.add_note(f"use the key {token} for the API")
    assert await loop.run() == 0
    assert token not in sessions.specs[0].prompt
    assert "use the key sk-ant-oat01-…0123 for the API" in sessions.specs[0].prompt
