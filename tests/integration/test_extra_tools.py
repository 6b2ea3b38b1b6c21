"""The tools agent-tui takes as ``extra_tools`` are the bundled CLI's own: a session given
all of them has each (the CLI drops a name it does not know without a word)."""

from __future__ import annotations

import json

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import CLI_TOOL_ALIASES, CLI_TOOLS, Settings
from tests.integration.conftest import TOKEN_ENV
from tests.integration.helpers import plan_doc, script


def session_tools(spec_dir) -> set[str]:
    """The tools the CLI's ``init`` message says the session has (from its transcript)."""
    (transcript,) = (spec_dir / "logs").glob("session-*.jsonl")
    for line in transcript.read_text().splitlines():
        data = json.loads(line).get("data")
        if isinstance(data, dict) and data.get("subtype") == "init":
            return set(data["data"]["tools"])
    raise AssertionError(f"no init message in {transcript}")


async def test_a_session_has_every_tool_agent_tui_knows_the_cli_by(make_run, tmp_path):
    config_dir = tmp_path / "claude-config"
    config_dir.mkdir()
    profiles = ProfileStore.in_memory(
        [Profile(name="test", config_dir=str(config_dir), token_env=TOKEN_ENV)], active="test"
    )
    profiles.data.settings = Settings(
        extra_tools=sorted(CLI_TOOLS | CLI_TOOL_ALIASES.keys()), containment="off"
    )
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[{"text": "Nothing done."}]])],
        profiles=profiles,
        max_iterations=1,
    )
    await run.go()
    tools = session_tools(run.spec_dir)
    assert tools >= CLI_TOOLS
    assert tools >= set(CLI_TOOL_ALIASES.values())
