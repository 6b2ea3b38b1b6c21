"""Which of the app's actions apply: one pure function of the loop's state and the log."""

from __future__ import annotations

from agent_tui.engine.events.state import LoopMode, LoopState

LOOP_ACTIONS = frozenset(
    {
        "pause",
        "resume",
        "interrupt",
        "retry_now",
        "profiles",
        "note",
        "diff",
        "follow_log",
        "unfollow_log",
        "search",
        "search_next",
        "search_previous",
        "save_log",
        "cycle_lane",
        "pick_lane",
        "quit_gracefully",
    }
)
"""The actions of the main screen: none of them applies over a dialog, nor (``q`` aside)
on the runs list that ``attach`` shows."""

_PAUSABLE = frozenset({LoopMode.STARTING, LoopMode.RUNNING, LoopMode.BACKING_OFF})
_RESUMABLE = frozenset({LoopMode.PAUSING, LoopMode.PAUSED})


ALWAYS = frozenset({"search", "save_log"})
"""The log's own keys: they apply whatever the loop does, also once it has ended."""


def available(
    action: str,
    state: LoopState | None,
    *,
    following: bool,
    diffs: bool = False,
    searching: bool = False,
    lanes: bool = False,
) -> bool:
    """Whether ``action`` applies now; ``state`` is None while there is no loop yet.

    ``p`` says Pause or Resume and ``l`` Follow log or Stop following, whichever it will do;
    ``i`` only while a session runs and has not been asked to stop (also while a pause
    waits for it); ``r`` only during a backoff wait that is not paused; ``d`` whenever the
    run has a worktree (``diffs``), also once it has ended: that is when work is reviewed;
    ``n`` and ``N`` while a search of the log is on (``searching``); ``v`` and ``V`` (the
    lane the log follows) only with several lanes (``lanes``).
    """
    if action in ("cycle_lane", "pick_lane"):
        return lanes
    if action in ("follow_log", "unfollow_log"):
        return following == (action == "unfollow_log")
    if action in ALWAYS:
        return True
    if action in ("search_next", "search_previous"):
        return searching
    if action == "diff":
        return diffs
    if action not in LOOP_ACTIONS - {"quit_gracefully"}:
        return True
    if state is None or not state.active:
        return False
    mode = state.mode
    if action == "pause":
        return mode in _PAUSABLE
    if action == "resume":
        return mode in _RESUMABLE
    if action == "interrupt":
        return state.session_running and mode != LoopMode.PAUSED and not state.interrupting
    if action == "retry_now":
        return mode == LoopMode.BACKING_OFF
    return True  # profiles, note: while the loop can still be steered
