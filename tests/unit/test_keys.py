"""Which keys apply, as a table over the loop's state."""

from __future__ import annotations

import pytest

from agent_tui.engine.events.state import LoopMode, LoopState
from agent_tui.tui.keys import available

M = LoopMode


def state(mode: LoopMode, session: bool = False, interrupting: bool = False) -> LoopState:
    return LoopState(mode=mode, session_running=session, interrupting=interrupting)


LOOP_KEYS = ("pause", "resume", "interrupt", "retry_now", "profiles")

TABLE = [
    # state -> the loop keys that apply
    (None, set()),
    (state(M.STARTING), {"pause", "profiles"}),
    (state(M.RUNNING), {"pause", "profiles"}),
    (state(M.RUNNING, session=True), {"pause", "interrupt", "profiles"}),
    (state(M.RUNNING, session=True, interrupting=True), {"pause", "profiles"}),
    (state(M.PAUSING, session=True), {"resume", "interrupt", "profiles"}),
    (state(M.PAUSING, session=True, interrupting=True), {"resume", "profiles"}),
    (state(M.PAUSED), {"resume", "profiles"}),
    (state(M.BACKING_OFF), {"pause", "retry_now", "profiles"}),
    (state(M.STOPPING, session=True), set()),
    (state(M.FINISHED), set()),
]


@pytest.mark.parametrize(("loop_state", "expected"), TABLE)
def test_the_loop_keys_follow_the_state(loop_state, expected):
    got = {action for action in LOOP_KEYS if available(action, loop_state, following=True)}
    assert got == expected


@pytest.mark.parametrize("following", [True, False])
def test_l_says_what_it_will_do(following):
    running = state(M.RUNNING)
    assert available("unfollow_log", running, following=following) is following
    assert available("follow_log", running, following=following) is not following


@pytest.mark.parametrize("loop_state", [None, state(M.FINISHED), state(M.PAUSED)])
def test_quitting_always_applies(loop_state):
    assert available("quit_gracefully", loop_state, following=True)
    assert available("quit", loop_state, following=True)


@pytest.mark.parametrize(("loop_state", "expected"), TABLE)
def test_a_note_can_be_left_whenever_a_profile_can_be_picked(loop_state, expected):
    assert available("note", loop_state, following=True) == ("profiles" in expected)


@pytest.mark.parametrize(("loop_state", "expected"), TABLE)
def test_d_applies_whenever_the_run_has_a_worktree_even_once_it_ended(loop_state, expected):
    assert available("diff", loop_state, following=True, diffs=True)
    assert not available("diff", loop_state, following=True, diffs=False)
