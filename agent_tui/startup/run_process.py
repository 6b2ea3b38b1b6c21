"""The run process's entry: ``python -m agent_tui.startup.run_process READY_FD``.

Its stdin is the checked run, pickled, as the start-up checks passed it (``agent-tui run``
sends it after its checks, see ``agent_tui.startup.launch``); the loop is built from it
without checking again, and served on the spec's socket until the run ends (see
``agent_tui.runproc``).  SIGTERM and SIGINT stop the run as ``q`` does: the session is
interrupted and recorded.  SIGHUP is ignored.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
import time

from agent_tui.runproc.host import RunHost
from agent_tui.runproc.places import RunsDirRefused
from agent_tui.runproc.process import become_run_process, say_ready
from agent_tui.startup.checks import CheckedRun, build_loop


def main(argv: list[str]) -> int:
    ready = int(argv[1])
    job = sys.stdin.buffer.read()
    become_run_process()
    checked: CheckedRun = pickle.loads(job)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} run of {checked.spec_dir} in process {os.getpid()}", file=sys.stderr)
    return asyncio.run(_serve(checked, ready))


async def _serve(checked: CheckedRun, ready: int) -> int:
    host = RunHost(lambda sink: build_loop(checked, sink), checked.spec_dir, checked.project_dir)
    try:
        host.open()
    except (RunsDirRefused, FileExistsError, OSError) as exc:
        say_ready(ready, ok=False, error=str(exc))
        return 2
    say_ready(ready, ok=True, pid=os.getpid(), socket=str(host.place.socket))
    assert host.loop is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, host.loop.stop, f"stopped by {signum.name}")
    code = await host.serve()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} run ended, exit {code}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
