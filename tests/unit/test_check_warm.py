"""Check sessions started ahead of their checks (``ContainedRunner.warm``), with stand-ins
for the CLI session and the scripted model: the real ones run in
tests/integration/test_check_sessions.py."""

from __future__ import annotations

import asyncio

from agent_tui.engine.checks import runner as runner_module
from agent_tui.engine.checks.runner import ContainedRunner
from agent_tui.engine.clock import VirtualClock


class Model:
    started: list[Model] = []

    async def start(self) -> Model:
        await asyncio.sleep(0)  # a real one binds a port: others may start meanwhile
        Model.started.append(self)
        return self

    async def close(self) -> None:
        Model.started.remove(self)


class Session:
    fail_with: Exception | None = None

    def __init__(self, containment, cwd, env, cli, model, model_name=None) -> None:
        self.containment, self.cwd, self.model = containment, cwd, model
        self.running, self.worn = True, False

    async def start(self) -> None:
        await asyncio.sleep(0)
        if Session.fail_with is not None:
            raise Session.fail_with

    async def close(self, *, graceful: bool = False) -> None:
        self.running = False


def runner(monkeypatch) -> ContainedRunner:
    Model.started, Session.fail_with = [], None
    monkeypatch.setattr(runner_module, "ScriptedModel", Model)
    monkeypatch.setattr(runner_module, "CheckSession", Session)
    return ContainedRunner(env={}, clock=VirtualClock(), cli_path="/bin/true")


async def test_sessions_warmed_at_once_share_one_scripted_model(monkeypatch, tmp_path):
    checks = runner(monkeypatch)
    containment = object()
    checks.warm(containment, tmp_path / "lane-1")  # type: ignore[arg-type]
    checks.warm(containment, tmp_path / "spec")  # type: ignore[arg-type]
    await asyncio.gather(*checks._warming.values())
    assert len(Model.started) == 1
    assert {s.model for s in checks._sessions.values()} == {Model.started[0]}
    await checks.close()
    assert Model.started == [] and checks._sessions == {}


async def test_a_warm_start_that_fails_is_left_to_the_check(monkeypatch, tmp_path):
    checks = runner(monkeypatch)
    Session.fail_with = OSError("no room for the session's temp dir")
    checks.warm(object(), tmp_path)  # type: ignore[arg-type]
    [warming] = checks._warming.values()
    await asyncio.wait({warming})
    assert warming.exception() is None  # nothing unretrieved for asyncio to print
    assert checks._sessions == {} and checks._warming == {}
    await checks.close()
