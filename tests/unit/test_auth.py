"""Keychain names, the credential chain, per-session env, the profile store and redaction."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import unicodedata
from datetime import UTC, datetime

import keyring
import pytest
from keyring.errors import KeyringError

from agent_tui.auth.credentials import mask_token, redact, resolve, session_env
from agent_tui.auth.keychain import account_name, service_name
from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ConfigError

CANARY = "sk-ant-oat01-CANARY7777canary7777CANARY7777zzZZ"
NOW = datetime(2026, 11, 24, tzinfo=UTC)
FUTURE_MS = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp() * 1000)


def creds(token: str, expires_ms: int = FUTURE_MS) -> str:
    return json.dumps(
        {
            "claudeAiOauth": {
                "accessToken": token,
                "refreshToken": "sk-ant-ort01-r",
                "expiresAt": expires_ms,
                "subscriptionType": "max",
            }
        }
    )


def write_creds(profile: Profile, content: str) -> None:
    with open(os.path.join(profile.config_dir, ".credentials.json"), "w") as handle:
        handle.write(content)


# -- service names -------------------------------------------------------------------------


def test_service_name_vectors():
    assert service_name(None) == "Claude Code-credentials"
    assert service_name("") == "Claude Code-credentials"
    assert service_name("/Users/alice/.claude-work") == "Claude Code-credentials-be865d75"
    expected = hashlib.sha256(b"/Users/alice/.claude-work/").hexdigest()[:8]
    assert service_name("/Users/alice/.claude-work/") == f"Claude Code-credentials-{expected}"
    assert service_name("/Users/alice/.claude-work/") != service_name("/Users/alice/.claude-work")
    assert service_name("~/.claude") != service_name(os.path.expanduser("~/.claude"))


def test_non_ascii_paths_hash_in_nfc():
    nfc = "/home/zoë/.claude"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert service_name(nfd) == service_name(nfc)
    digest = hashlib.sha256(nfc.encode()).hexdigest()[:8]
    assert service_name(nfd) == f"Claude Code-credentials-{digest}"


def test_securestorage_override_and_account_rule():
    env = {"CLAUDE_SECURESTORAGE_CONFIG_DIR": "/Users/alice/.claude-work"}
    assert service_name("/other", env) == "Claude Code-credentials-be865d75"
    assert account_name({"USER": "alice.b-1_x"}) == "alice.b-1_x"
    assert account_name({"USER": "bad user!"}) == "claude-code-user"


# -- resolution -----------------------------------------------------------------------------


@pytest.fixture
def profile(tmp_path):
    config_dir = tmp_path / "work"
    config_dir.mkdir()
    return Profile(name="work", config_dir=str(config_dir), token_env="WORK_TOKEN")


def test_env_beats_keychain_beats_file(profile, memory_keyring):
    write_creds(profile, creds("sk-ant-oat01-fromfile0000"))
    service = service_name(profile.config_dir)
    env = {"USER": "alice", "WORK_TOKEN": "sk-ant-oat01-fromenv00000"}
    memory_keyring.set_password(service, "alice", creds("sk-ant-oat01-fromkeychain0"))

    first = resolve(profile, environ=env, now=NOW)
    assert (first.credential.source, first.credential.token) == ("env", env["WORK_TOKEN"])
    assert first.steps == [f"env WORK_TOKEN: set ({mask_token(env['WORK_TOKEN'])})"]

    second = resolve(profile, environ={"USER": "alice"}, now=NOW)
    assert second.credential.source == "keychain"
    assert second.credential.token == "sk-ant-oat01-fromkeychain0"
    assert second.steps[0] == "env WORK_TOKEN: not set"
    assert second.steps[1].startswith(f"keychain '{service}' (alice): found, expires 2027-01-01")

    memory_keyring.delete_password(service, "alice")
    third = resolve(profile, environ={"USER": "alice"}, now=NOW)
    assert third.credential.source == "file" and third.usable
    assert third.steps[1] == f"keychain '{service}' (alice): no entry"


def test_a_config_dir_profile_never_uses_the_default_entry(profile, memory_keyring):
    memory_keyring.set_password("Claude Code-credentials", "alice", creds(CANARY))
    result = resolve(profile, environ={"USER": "alice"}, now=NOW)
    assert result.credential is None and not result.usable
    assert "no credentials for profile 'work'" in result.problem
    assert f"CLAUDE_CONFIG_DIR={profile.config_dir} claude" in result.problem


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            creds(
                "sk-ant-oat01-old",
                expires_ms=int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000),
            ),
            "expired 2026-01-01 00:00 UTC",
        ),
        ("enc:AAAAbase64", "is encrypted"),
        ("{not json", "not a Claude credential"),
        (json.dumps({"claudeAiOauth": {"accessToken": ""}}), "empty access token"),
    ],
)
def test_unusable_files_say_what_is_wrong_and_what_to_run(profile, content, message):
    write_creds(profile, content)
    result = resolve(profile, environ={"USER": "alice"}, now=NOW)
    assert not result.usable
    assert message in result.problem
    assert "claude setup-token" in result.problem


def test_a_broken_keyring_falls_through_to_the_file_with_a_notice(profile, monkeypatch):
    def broken(service, account):
        raise KeyringError("no backend")

    monkeypatch.setattr(keyring, "get_password", broken)
    write_creds(profile, creds("sk-ant-oat01-filetoken123"))
    result = resolve(profile, environ={"USER": "alice"}, now=NOW)
    assert result.usable and result.credential.source == "file"
    assert result.notices and "keychain unavailable (KeyringError)" in result.notices[0]


def test_session_env_blanks_inherited_credentials_and_keeps_the_dir_verbatim(
    profile, memory_keyring
):
    write_creds(profile, creds("sk-ant-oat01-filetoken123"))
    parent = {"USER": "alice", "ANTHROPIC_API_KEY": CANARY, "CLAUDE_CODE_OAUTH_TOKEN": CANARY}
    from_file = session_env(profile, resolve(profile, environ=parent, now=NOW), parent)
    assert from_file == {
        "CLAUDE_CONFIG_DIR": profile.config_dir,
        "ANTHROPIC_API_KEY": "",
        "CLAUDE_CODE_OAUTH_TOKEN": "",
    }
    memory_keyring.set_password(
        service_name(profile.config_dir), "alice", creds("sk-ant-oat01-kc1234")
    )
    from_keychain = session_env(profile, resolve(profile, environ=parent, now=NOW), parent)
    assert from_keychain["CLAUDE_CODE_OAUTH_TOKEN"] == "sk-ant-oat01-kc1234"
    assert from_keychain["ANTHROPIC_API_KEY"] == ""
    api = {"USER": "alice", "WORK_TOKEN": "sk-ant-api03-key1234"}
    assert session_env(profile, resolve(profile, environ=api, now=NOW), api)[
        "ANTHROPIC_API_KEY"
    ] == ("sk-ant-api03-key1234")


# -- store ----------------------------------------------------------------------------------


def test_store_round_trip_mode_0600_and_no_secret(tmp_path):
    path = tmp_path / "profiles.json"
    store = ProfileStore.load(path)
    store.add("a", config_dir="/x/a", token_env="A_TOKEN")
    store.add("b", config_dir="/x/b")
    store.use("b")
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ProfileStore.load(path)
    assert again.names() == ["a", "b"] and again.active_profile().name == "b"
    assert again.get("a").token_env == "A_TOKEN"
    assert "sk-ant" not in path.read_text()
    again.remove("b")
    assert again.active_profile() is None


def test_store_errors_are_sentences(tmp_path):
    store = ProfileStore.load(tmp_path / "p.json")
    store.add("a")
    with pytest.raises(ConfigError, match="already exists"):
        store.add("a")
    with pytest.raises(ConfigError, match="must be 1-40 letters"):
        store.add("bad name!")
    with pytest.raises(ConfigError, match="no profile named 'zz'"):
        store.use("zz")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        ProfileStore.load(corrupt)


def test_next_usable_follows_the_users_order_and_wraps(tmp_path):
    store = ProfileStore.in_memory([Profile(name=n, token_env=f"T_{n}") for n in "abcd"], "a")
    env = {"T_a": "x" * 10, "T_c": "y" * 10}

    def check(profile):
        return resolve(profile, environ=env, now=NOW)

    assert store.next_usable("a", check) == "c"
    assert store.next_usable("c", check) == "a"
    assert store.next_usable("b", check) == "c"
    assert ProfileStore.in_memory([Profile(name="solo")]).next_usable("solo", check) is None


# -- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-ant-api03-abcdefghijkLMNO end", "key sk-ant-api03-…LMNO end"),
        (CANARY, "sk-ant-oat01-…zzZZ"),
        ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer …mnop"),
        ('{"accessToken": "plainsecretvalue1", "x": 1}', '{"accessToken": "…lue1", "x": 1}'),
    ],
)
def test_redaction_of_each_token_shape(text, expected):
    assert redact(text) == expected
    assert redact(redact(text)) == expected


def test_canary_never_shows_in_repr_or_show_output(tmp_path, capsys, monkeypatch):
    from agent_tui.cli import main

    config_dir = tmp_path / "canary"
    config_dir.mkdir()
    (config_dir / ".credentials.json").write_text(creds(CANARY, int((time.time() + 3600) * 1000)))
    assert main(["profiles", "add", "canary", "--config-dir", str(config_dir)]) == 0
    assert main(["profiles", "show", "canary"]) == 0
    assert main(["profiles", "list"]) == 0
    out = capsys.readouterr().out
    assert CANARY not in out
    assert "sk-ant-oat01-…zzZZ" in out and "source:      file" in out
    resolution = resolve(ProfileStore.load().get("canary"))
    assert CANARY not in repr(resolution)
