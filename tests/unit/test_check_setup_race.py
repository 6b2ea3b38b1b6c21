"""A check the sandbox failed to set up (another lane's sandbox changed the shared git dir
between its listing and its mounts) runs again; a command that failed is not run again."""

import asyncio
from pathlib import Path

from agent_tui.engine.checks.runner import (
    SETUP_PAUSE_S,
    SETUP_TRIES,
    CommandRun,
    ContainedRunner,
)
from agent_tui.engine.clock import VirtualClock

RACE = "Exit code 1\nbwrap: Can't find source path /p/.git/config.lock: No such file or directory"


BIND = (
    "Exit code 1\nbwrap: Can't bind mount /oldroot/p/.git/config.lock on "
    "/newroot/p/.git/config.lock: Unable to mount source on destination: No such file or "
    "directory"
)
"""Seen when five checks of the final check started side by side (and the same with the
mount point gone from the mount table)."""


def runner_answering(
    *answers: CommandRun, clock: VirtualClock | None = None
) -> tuple[ContainedRunner, list[str]]:
    runner = ContainedRunner(env={}, clock=clock or VirtualClock(), cli_path="/bin/false")
    asked: list[str] = []
    replies = list(answers)

    async def run_once(containment, command, cwd, timeout_s):
        asked.append(command)
        return replies.pop(0)

    runner._run_once = run_once  # type: ignore[method-assign]
    return runner, asked


def test_a_sandbox_that_failed_to_start_the_check_is_tried_again():
    runner, asked = runner_answering(CommandRun(error=RACE), CommandRun(exit_status=0))
    run = asyncio.run(runner.run(None, "test -e f", Path("/p"), 10))  # type: ignore[arg-type]
    assert run == CommandRun(exit_status=0) and asked == ["test -e f", "test -e f"]


def test_each_way_bwrap_says_a_mount_point_went_is_the_race():
    # "get type of source": seen in a lanes attack test, the lock gone before its mount
    for said in ("find source path", "create file at", "get type of source"):
        race = RACE.replace("find source path", said)
        runner, asked = runner_answering(CommandRun(error=race), CommandRun(exit_status=0))
        run = asyncio.run(runner.run(None, "x", Path("/p"), 10))  # type: ignore[arg-type]
        assert run == CommandRun(exit_status=0) and len(asked) == 2
    runner, asked = runner_answering(CommandRun(error=BIND), CommandRun(exit_status=0))
    run = asyncio.run(runner.run(None, "x", Path("/p"), 10))  # type: ignore[arg-type]
    assert run == CommandRun(exit_status=0) and len(asked) == 2
    gone = BIND.replace("Unable to mount source on destination: No such file or directory", "")
    gone += 'Unable to find "/newroot/p/.git/config.lock" in mount table'
    runner, asked = runner_answering(CommandRun(error=gone), CommandRun(exit_status=0))
    run = asyncio.run(runner.run(None, "x", Path("/p"), 10))  # type: ignore[arg-type]
    assert run == CommandRun(exit_status=0) and len(asked) == 2
    other = "Exit code 1\nbwrap: execvp test: No such file or directory"
    runner, asked = runner_answering(CommandRun(error=other))  # set up, and it ran: failed
    asyncio.run(runner.run(None, "x", Path("/p"), 10))  # type: ignore[arg-type]
    assert len(asked) == 1


def test_it_is_tried_a_bounded_number_of_times_after_pauses_and_then_reported():
    create = RACE.replace("find source path", "create file at")
    clock = VirtualClock()
    runner, asked = runner_answering(*[CommandRun(error=create)] * SETUP_TRIES, clock=clock)
    run = asyncio.run(runner.run(None, "test -e f", Path("/p"), 10))  # type: ignore[arg-type]
    assert run.error == create and len(asked) == SETUP_TRIES == 5
    # A pause between two tries, on the check's clock: those that raced go apart.
    low, high = SETUP_PAUSE_S
    assert len(clock.slept) == SETUP_TRIES - 1 and all(low <= s <= high for s in clock.slept)


def test_a_check_that_ran_and_failed_or_another_error_is_not_run_again():
    for answer in (CommandRun(exit_status=1), CommandRun(error="the guard refused it")):
        runner, asked = runner_answering(answer)
        run = asyncio.run(runner.run(None, "x", Path("/p"), 10))  # type: ignore[arg-type]
        assert run == answer and asked == ["x"]
