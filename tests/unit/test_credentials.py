"""The credential resolution chain and the per-session environment it produces."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring
from keyring.errors import KeyringError

from agent_tui.auth.credentials import CREDENTIAL_ENV, Credential, resolve, session_env
from agent_tui.auth.keychain import service_name
from agent_tui.auth.profiles import Profile

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
FILE_TOKEN = "sk-ant-oat01-FILEfileFILEfile0001"
KEYCHAIN_TOKEN = "sk-ant-oat01-KEYCkeycKEYCkeyc0002"
ENV_TOKEN = "sk-ant-oat01-ENVVenvvENVVenvv0003"


def payload(token: str | None = FILE_TOKEN, expires: datetime | None = LATER, **extra) -> str:
    oauth: dict[str, object] = {"refreshToken": "sk-ant-ort01-refreshrefresh99", **extra}
    if token is not None:
        oauth["accessToken"] = token
    if expires is not None:
        oauth["expiresAt"] = int(expires.timestamp() * 1000)
    oauth.setdefault("subscriptionType", "max")
    oauth.setdefault("scopes", ["user:inference", "user:profile"])
    return json.dumps({"claudeAiOauth": oauth})


def write_file(directory: str, content: str, mode: int = 0o600) -> str:
    path = os.path.join(directory, ".credentials.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, mode)
    return path


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    (path / ".claude").mkdir(parents=True)
    return path


@pytest.fixture
def env(home):
    """The app's environment: a fake home and user, no inherited credentials."""
    return {"HOME": str(home), "USER": "alice"}


@pytest.fixture
def work(tmp_path):
    directory = tmp_path / "claude-work"
    directory.mkdir()
    return Profile(name="work", config_dir=str(directory), token_env="WORK_CLAUDE_TOKEN")


def test_env_beats_keychain_beats_file(work, env, memory_keyring):
    service = service_name(work.config_dir)
    path = write_file(work.config_dir, payload(FILE_TOKEN))
    memory_keyring.set_password(service, "alice", payload(KEYCHAIN_TOKEN))

    from_env = resolve(work, environ={**env, "WORK_CLAUDE_TOKEN": ENV_TOKEN}, now=NOW)
    assert from_env.usable
    assert (from_env.credential.source, from_env.credential.token) == ("env", ENV_TOKEN)
    assert from_env.credential.location == "WORK_CLAUDE_TOKEN"
    assert from_env.steps == ["env WORK_CLAUDE_TOKEN: set (sk-ant-oat01-…0003)"]

    from_keychain = resolve(work, environ=env, now=NOW)
    assert from_keychain.credential.source == "keychain"
    assert from_keychain.credential.token == KEYCHAIN_TOKEN
    assert from_keychain.credential.location == f"{service}/alice"
    assert from_keychain.credential.subscription == "max"
    assert from_keychain.credential.expires_at == LATER
    assert from_keychain.steps == [
        "env WORK_CLAUDE_TOKEN: not set",
        f"keychain '{service}' (alice): found, expires 2026-12-01 10:00 UTC",
    ]

    memory_keyring.delete_password(service, "alice")
    from_file = resolve(work, environ=env, now=NOW)
    assert from_file.usable and from_file.credential.source == "file"
    assert from_file.credential.token == FILE_TOKEN
    assert from_file.steps == [
        "env WORK_CLAUDE_TOKEN: not set",
        f"keychain '{service}' (alice): no entry",
        f"file {path}: found, expires 2026-12-01 10:00 UTC",
    ]
    assert from_file.summary == "file, expires 2026-12-01 10:00 UTC"
    assert (from_file.service, from_file.account, from_file.profile) == (service, "alice", "work")


def test_an_empty_token_variable_counts_as_not_set(work, env):
    write_file(work.config_dir, payload())
    result = resolve(work, environ={**env, "WORK_CLAUDE_TOKEN": "  "}, now=NOW)
    assert result.steps[0] == "env WORK_CLAUDE_TOKEN: not set"
    assert result.credential.source == "file"


def test_a_config_dir_profile_never_uses_the_default_entry_or_file(work, env, home, memory_keyring):
    memory_keyring.set_password("Claude Code-credentials", "alice", payload(KEYCHAIN_TOKEN))
    write_file(str(home / ".claude"), payload(FILE_TOKEN))
    result = resolve(work, environ=env, now=NOW)
    assert result.credential is None and not result.usable
    assert result.problem == (
        "no credentials for profile 'work': run `agent-tui profiles login work`, or "
        "`agent-tui profiles login work --setup-token` and export the token as WORK_CLAUDE_TOKEN"
    )
    assert result.steps[-1] == f"file {work.config_dir}/.credentials.json: not found"
    assert result.summary == "no credentials"


def test_a_profile_without_config_dir_uses_the_default_entry_and_home(env, home, memory_keyring):
    default = Profile(name="personal")
    path = write_file(str(home / ".claude"), payload(FILE_TOKEN))
    result = resolve(default, environ=env, now=NOW)
    assert result.service == "Claude Code-credentials"
    assert result.credential.source == "file" and result.credential.location == path
    memory_keyring.set_password("Claude Code-credentials", "alice", payload(KEYCHAIN_TOKEN))
    assert resolve(default, environ=env, now=NOW).credential.token == KEYCHAIN_TOKEN


def test_a_no_config_dir_profile_ignores_an_inherited_config_dir(env, home, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    write_file(str(other), payload(KEYCHAIN_TOKEN))
    write_file(str(home / ".claude"), payload(FILE_TOKEN))
    inherited = {**env, "CLAUDE_CONFIG_DIR": str(other)}
    default = Profile(name="personal")
    result = resolve(default, environ=inherited, now=NOW)
    assert result.service == "Claude Code-credentials"
    assert result.credential.token == FILE_TOKEN
    assert any("CLAUDE_CONFIG_DIR is set" in notice for notice in result.notices)
    assert session_env(default, result, inherited) == {"CLAUDE_SECURESTORAGE_CONFIG_DIR": ""}


def test_an_inherited_securestorage_dir_is_overridden_per_profile(work, env, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    write_file(str(shared), payload(KEYCHAIN_TOKEN))
    write_file(work.config_dir, payload(FILE_TOKEN))
    inherited = {**env, "CLAUDE_SECURESTORAGE_CONFIG_DIR": str(shared)}
    result = resolve(work, environ=inherited, now=NOW)
    assert result.service == service_name(work.config_dir)
    assert result.credential.token == FILE_TOKEN
    assert any("CLAUDE_SECURESTORAGE_CONFIG_DIR is set" in notice for notice in result.notices)
    session = session_env(work, result, inherited)
    assert session["CLAUDE_SECURESTORAGE_CONFIG_DIR"] == work.config_dir


EXPIRED = "the token in {path} expired 2026-11-01 10:00 UTC: "
ENCRYPTED = "{path} is encrypted and cannot be read here: "
NOT_JSON = "{path} is not a Claude credential (not valid JSON): "
NO_TOKEN = "{path} is not a Claude credential (no claudeAiOauth.accessToken): "


@pytest.mark.parametrize(
    ("content", "message", "summary"),
    [
        (payload(FILE_TOKEN, EARLIER, refreshToken=None), EXPIRED, "expired 2026-11-01 10:00 UTC"),
        ("enc:AAAAbase64AAAA", ENCRYPTED, "encrypted"),
        (payload("enc:QUJDRA=="), "the token in {path} is encrypted", "encrypted"),
        ("{not json", NOT_JSON, "malformed"),
        (json.dumps(["claudeAiOauth"]), NO_TOKEN, "no token"),
        (json.dumps({"claudeAiOauth": {"refreshToken": "x"}}), NO_TOKEN, "no token"),
        (payload(token=None), NO_TOKEN, "no token"),
        (payload(""), "{path} has an empty access token: ", "no token"),
        (payload("sk-ant-oat01-has space"), "has an unreadable accessToken", "malformed"),
        (payload(expires=None, expiresAt="soon"), "has an unreadable expiresAt", "malformed"),
        (payload(expires=None, expiresAt=1e300), "has an unreadable expiresAt", "malformed"),
    ],
)
def test_unusable_files_say_what_is_wrong_and_what_to_run(work, env, content, message, summary):
    path = write_file(work.config_dir, content)
    result = resolve(work, environ=env, now=NOW)
    assert not result.usable
    assert message.format(path=path) in result.problem
    assert "`agent-tui profiles login work`" in result.problem
    assert "`agent-tui profiles login work --setup-token`" in result.problem
    assert result.summary == summary
    assert result.steps[-1] == f"file {path}: {summary}"


def test_a_file_that_is_not_utf8_is_malformed_not_a_crash(work, env):
    path = os.path.join(work.config_dir, ".credentials.json")
    with open(path, "wb") as handle:
        handle.write(b'{"claudeAiOauth": {"accessToken": "sk-ant-oat01-\xff\xfe"}}')
    os.chmod(path, 0o600)
    result = resolve(work, environ=env, now=NOW)
    assert not result.usable and result.summary == "malformed"


def test_an_expired_file_with_a_refresh_token_is_left_for_the_cli_to_refresh(work, env):
    # Found in an audit against the CLI reference: Claude Code refreshes an expired file
    # token when it starts, but the run was refused, so the user had to run claude first.
    path = write_file(work.config_dir, payload(FILE_TOKEN, EARLIER))
    result = resolve(work, environ=env, now=NOW)
    assert result.usable and result.credential.expired
    assert result.summary == "file, expired 2026-11-01 10:00 UTC, to refresh"
    assert (
        result.steps[-1]
        == f"file {path}: found, expired 2026-11-01 10:00 UTC (the CLI refreshes it)"
    )
    assert any(
        notice.startswith(f"the token in {path} expired 2026-11-01 10:00 UTC; the CLI refreshes")
        and "`agent-tui profiles login work`" in notice
        for notice in result.notices
    )
    # The CLI reads the file itself (it could not refresh a token passed in the environment).
    assert session_env(work, result, env) == {"CLAUDE_CONFIG_DIR": work.config_dir}


def test_an_expired_keychain_entry_is_reported_not_skipped(work, env, memory_keyring):
    service = service_name(work.config_dir)
    memory_keyring.set_password(service, "alice", payload(KEYCHAIN_TOKEN, EARLIER))
    write_file(work.config_dir, payload(FILE_TOKEN))
    result = resolve(work, environ=env, now=NOW)
    assert not result.usable
    assert result.problem.startswith(
        f"the token in keychain '{service}' (alice) expired 2026-11-01 10:00 UTC: run"
    )


def test_a_token_without_expiry_is_usable(work, env):
    write_file(work.config_dir, payload(expires=None))
    result = resolve(work, environ=env, now=NOW)
    assert result.usable and result.credential.expires_at is None
    assert result.steps[-1].endswith(": found")


def test_expiry_is_compared_with_the_injected_clock(work, env):
    write_file(work.config_dir, payload(expires=NOW + timedelta(minutes=1), refreshToken=None))
    assert resolve(work, environ=env, now=NOW).usable
    assert not resolve(work, environ=env, now=NOW + timedelta(minutes=2)).usable


def test_a_directory_in_place_of_the_file_is_a_problem_not_a_crash(work, env):
    os.mkdir(os.path.join(work.config_dir, ".credentials.json"))
    result = resolve(work, environ=env, now=NOW)
    assert not result.usable and result.summary == "unreadable"
    assert result.problem.startswith(f"cannot read {work.config_dir}/.credentials.json (")


def test_a_file_readable_by_others_gets_a_notice(work, env):
    write_file(work.config_dir, payload(), mode=0o644)
    result = resolve(work, environ=env, now=NOW)
    assert result.usable
    assert any("readable by other users (mode 0644)" in notice for notice in result.notices)


class ExplodingKeyring(KeyringBackend):
    priority = 1

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def get_password(self, service, username):
        raise self.error

    def set_password(self, service, username, password):
        raise self.error

    def delete_password(self, service, username):
        raise self.error


def test_no_keyring_backend_means_no_keychain_and_is_not_a_warning(work, env):
    """keyring's fail backend (headless Linux): Claude Code has no keychain there either."""
    keyring.set_keyring(FailKeyring())
    write_file(work.config_dir, payload(FILE_TOKEN))
    result = resolve(work, environ=env, now=NOW)
    assert result.usable and result.credential.source == "file"
    service = service_name(work.config_dir)
    assert result.steps[1] == f"keychain '{service}' (alice): no keychain on this system"
    assert result.notices == []


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (ExplodingKeyring(KeyringError("locked")), "KeyringError"),
        (ExplodingKeyring(RuntimeError("dbus went away")), "RuntimeError"),
    ],
)
def test_a_broken_keyring_falls_through_to_the_file_with_a_notice(work, env, backend, reason):
    keyring.set_keyring(backend)
    write_file(work.config_dir, payload(FILE_TOKEN))
    result = resolve(work, environ=env, now=NOW)
    assert result.usable and result.credential.source == "file"
    service = service_name(work.config_dir)
    assert result.steps[1] == f"keychain '{service}' (alice): unavailable ({reason})"
    assert result.notices == [f"keychain unavailable ({reason}): using the credentials file only"]


def test_inherited_credential_variables_get_a_notice(work, env):
    inherited = {**env, "ANTHROPIC_API_KEY": "sk-ant-api03-inheritedinherited"}
    result = resolve(work, environ=inherited, now=NOW)
    assert result.notices == [
        "ANTHROPIC_API_KEY is set in this environment but profile 'work' does not use it; "
        "its sessions get it blanked (use --token-env ANTHROPIC_API_KEY to use it)"
    ]


def test_credential_repr_and_str_mask_the_token():
    credential = Credential(KEYCHAIN_TOKEN, "keychain", "svc/alice", LATER, "max")
    assert KEYCHAIN_TOKEN not in repr(credential)
    assert KEYCHAIN_TOKEN not in str(credential)
    assert "sk-ant-oat01-…0002" in repr(credential)
    assert not credential.is_api_key
    assert Credential("sk-ant-api03-x", "env", "V").is_api_key


# -- session_env ----------------------------------------------------------------------------


def test_a_file_credential_passes_no_token_and_blanks_inherited_ones(work, env):
    write_file(work.config_dir, payload(FILE_TOKEN))
    parent = {
        **env,
        "ANTHROPIC_API_KEY": "sk-ant-api03-parentparentparent",
        "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-parentparentparent",
        "ANTHROPIC_AUTH_TOKEN": "proxy-token-parent",
        "CLAUDE_CODE_OAUTH_REFRESH_TOKEN": "sk-ant-ort01-parentparentparent",
    }
    result = resolve(work, environ=parent, now=NOW)
    assert result.credential.source == "file"
    assert session_env(work, result, parent) == {
        "CLAUDE_CONFIG_DIR": work.config_dir,
        **{name: "" for name in CREDENTIAL_ENV},
    }


def test_a_file_credential_with_a_clean_parent_adds_only_the_dir(work, env):
    write_file(work.config_dir, payload(FILE_TOKEN))
    result = resolve(work, environ=env, now=NOW)
    assert session_env(work, result, env) == {"CLAUDE_CONFIG_DIR": work.config_dir}


def test_a_keychain_oauth_token_goes_in_the_oauth_variable(work, env, memory_keyring):
    memory_keyring.set_password(service_name(work.config_dir), "alice", payload(KEYCHAIN_TOKEN))
    parent = {**env, "ANTHROPIC_API_KEY": "sk-ant-api03-parentparentparent"}
    session = session_env(work, resolve(work, environ=parent, now=NOW), parent)
    assert session == {
        "CLAUDE_CONFIG_DIR": work.config_dir,
        "CLAUDE_CODE_OAUTH_TOKEN": KEYCHAIN_TOKEN,
        "ANTHROPIC_API_KEY": "",
    }


def test_an_env_api_key_goes_in_the_api_key_variable(work, env):
    api_key = "sk-ant-api03-workworkworkwork"
    parent = {**env, "WORK_CLAUDE_TOKEN": api_key, "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-x"}
    session = session_env(work, resolve(work, environ=parent, now=NOW), parent)
    assert session == {
        "CLAUDE_CONFIG_DIR": work.config_dir,
        "ANTHROPIC_API_KEY": api_key,
        "CLAUDE_CODE_OAUTH_TOKEN": "",
    }


def test_a_profile_may_name_a_standard_variable_as_its_token(env):
    profile = Profile(name="ci", token_env="CLAUDE_CODE_OAUTH_TOKEN")
    parent = {**env, "CLAUDE_CODE_OAUTH_TOKEN": ENV_TOKEN}
    result = resolve(profile, environ=parent, now=NOW)
    assert result.notices == []
    assert session_env(profile, result, parent) == {"CLAUDE_CODE_OAUTH_TOKEN": ENV_TOKEN}


def test_an_unusable_resolution_passes_no_token(work, env, memory_keyring):
    memory_keyring.set_password(
        service_name(work.config_dir), "alice", payload(KEYCHAIN_TOKEN, EARLIER)
    )
    result = resolve(work, environ=env, now=NOW)
    assert result.credential is None
    assert session_env(work, result, env) == {"CLAUDE_CONFIG_DIR": work.config_dir}


def test_two_profiles_never_share_a_token(tmp_path, env):
    first = Profile(name="a", config_dir=str(tmp_path / "a"), token_env="TOKEN_A")
    second = Profile(name="b", config_dir=str(tmp_path / "b"), token_env="TOKEN_B")
    parent = {**env, "TOKEN_A": "sk-ant-oat01-aaaaaaaaaaaaaaaa", "TOKEN_B": ""}
    env_a = session_env(first, resolve(first, environ=parent, now=NOW), parent)
    env_b = session_env(second, resolve(second, environ=parent, now=NOW), parent)
    assert env_a["CLAUDE_CODE_OAUTH_TOKEN"] == parent["TOKEN_A"]
    assert "sk-ant-oat01-aaaaaaaaaaaaaaaa" not in env_b.values()
    assert env_b["CLAUDE_CONFIG_DIR"] == second.config_dir


def test_session_env_refuses_another_profiles_resolution(work, env):
    other = Profile(name="other", token_env="T")
    resolution = resolve(other, environ={**env, "T": ENV_TOKEN}, now=NOW)
    with pytest.raises(ValueError, match="not 'work'"):
        session_env(work, resolution, env)


@pytest.mark.parametrize("scopes", [None, [], ["user:profile"]])
def test_a_file_token_without_the_inference_scope_is_not_usable(work, env, scopes):
    oauth = json.loads(payload(FILE_TOKEN))["claudeAiOauth"]
    if scopes is None:
        del oauth["scopes"]
    else:
        oauth["scopes"] = scopes
    write_file(work.config_dir, json.dumps({"claudeAiOauth": oauth}))
    result = resolve(work, environ=env, now=NOW)
    assert not result.usable and result.summary == "no inference scope"
    assert "no user:inference scope, so Claude Code will not use it" in result.problem
    assert FILE_TOKEN not in repr(result)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_credentials_path_that_is_no_file_is_refused_at_once(work, env, kind):
    path = os.path.join(work.config_dir, ".credentials.json")
    if kind == "fifo":
        os.mkfifo(path)  # opened blocking, the read would wait for a writer for ever
    else:
        os.symlink("/dev/zero", path)  # read whole, it would never end
    result = resolve(work, environ=env, now=NOW)
    assert not result.usable and result.summary == "unreadable"
    assert "is not a regular file" in result.problem
