"""The runs ``agent-tui run``'s app starts: the first from the start-up checks, each later
one (a new run in the same app) from the checks made again."""

from __future__ import annotations

import pickle

import pytest

from agent_tui.cli import commands as cli
from agent_tui.engine.control.runlock import RunLock
from agent_tui.exit_codes import InputError
from agent_tui.startup.checks import check_run
from agent_tui.startup.launch import _jobs


class Checked:
    """Stands in for the preflight: its answer is the checks made once, here."""

    def __init__(self, args) -> None:
        self.answer = check_run(args)

    def pickled(self) -> bytes:
        return pickle.dumps(self.answer)


def test_a_new_run_in_the_app_is_checked_again_and_tries_no_other_stuck_subtask(
    tmp_path, default_login
):
    spec_dir = tmp_path / "app" / ".auto-claude" / "specs" / "001-x"
    spec_dir.mkdir(parents=True)
    (spec_dir / "spec.md").write_text("# x\n")
    argv = ["run", "--project", str(tmp_path / "app"), "--headless", "--retry-stuck"]
    args = cli.parse(cli.build_parser(), argv)
    jobs = _jobs(Checked(args), args)
    first = pickle.loads(jobs())
    assert first.retry_stuck is True
    again = pickle.loads(jobs())
    assert again is not first and again.retry_stuck is False
    other = RunLock(spec_dir)
    other.acquire()  # another run took the spec since: the checks say so, as for a new run
    try:
        with pytest.raises(InputError, match="spec '001-x' is already being run"):
            jobs()
    finally:
        other.release()
