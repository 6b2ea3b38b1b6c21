"""Profile rotation: the next session's profile and env, and a store that changed on disk."""

from __future__ import annotations

import pytest

from agent_tui.auth.profiles import ProfileStore
from agent_tui.engine.accounts.rotation import NoUsableProfile, ProfileRotation

TOKEN = "sk-ant-oat01-ROTATIONtoken000000000"


async def noop(event) -> None:
    return None


async def test_a_profile_removed_from_the_file_mid_run_is_a_reason_not_a_crash(tmp_path):
    path = tmp_path / "profiles.json"
    store = ProfileStore.load(path)
    store.add("a", token_env="TOKEN_A")
    store.add("b", token_env="TOKEN_B")
    store.save()
    running = ProfileStore.load(path)
    rotation = ProfileRotation(running, noop, environ={"TOKEN_A": TOKEN, "TOKEN_B": TOKEN})
    assert (await rotation.session_env())["CLAUDE_CODE_OAUTH_TOKEN"] == TOKEN
    edited = ProfileStore.load(path)
    edited.remove("a")
    edited.save()
    running.reload()
    with pytest.raises(NoUsableProfile, match="'a' is no longer in the profiles file"):
        await rotation.session_env()
    assert running.names() == ["b"]
