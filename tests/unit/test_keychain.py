"""Keychain names and credential locations, exactly as the Claude Code CLI computes them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import unicodedata

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from agent_tui.auth import keychain
from agent_tui.auth.keychain import (
    DEFAULT_SERVICE,
    FALLBACK_ACCOUNT,
    KeychainUnavailable,
    account_name,
    credentials_file,
    read_entry,
    service_name,
    storage_env,
)

WORK = "/Users/alice/.claude-work"


def expected_service(text: str) -> str:
    return f"Claude Code-credentials-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def test_the_documented_vector():
    assert expected_service(WORK) == "Claude Code-credentials-be865d75"
    assert service_name(WORK) == "Claude Code-credentials-be865d75"


@pytest.mark.parametrize("config_dir", [None, ""])
def test_no_config_dir_is_the_default_entry(config_dir):
    assert service_name(config_dir) == DEFAULT_SERVICE == "Claude Code-credentials"


def test_the_exact_string_is_hashed():
    with_slash = WORK + "/"
    assert service_name(with_slash) == expected_service(with_slash)
    assert service_name(with_slash) != service_name(WORK)
    assert service_name("~/.claude-work") == expected_service("~/.claude-work")
    assert service_name("/Users/alice/../alice/.claude-work") != service_name(WORK)


def test_non_ascii_paths_hash_in_nfc():
    nfc = "/home/zoë/.claude-straße"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert service_name(nfd) == service_name(nfc) == expected_service(nfc)


def test_securestorage_dir_replaces_the_config_dir_even_when_empty():
    assert service_name("/other", {"CLAUDE_SECURESTORAGE_CONFIG_DIR": WORK}) == (
        "Claude Code-credentials-be865d75"
    )
    assert service_name(WORK, {"CLAUDE_SECURESTORAGE_CONFIG_DIR": ""}) == DEFAULT_SERVICE
    assert service_name(WORK, {"CLAUDE_CONFIG_DIR": "/ignored"}) == service_name(WORK)


@pytest.mark.parametrize(
    ("user", "account"),
    [
        ("alice", "alice"),
        ("alice.b-1_x", "alice.b-1_x"),
        ("bad user", FALLBACK_ACCOUNT),
        ("zoë", FALLBACK_ACCOUNT),
        ("DOMAIN\\bob", FALLBACK_ACCOUNT),
    ],
)
def test_account_is_user_when_safe(user, account):
    assert account_name({"USER": user}) == account


def test_account_without_user_uses_the_os_user_name(monkeypatch):
    monkeypatch.setattr(keychain, "_os_user_name", lambda: "bob")
    assert account_name({}) == account_name({"USER": ""}) == "bob"
    monkeypatch.setattr(keychain, "_os_user_name", lambda: "Bob Smith")
    assert account_name({}) == FALLBACK_ACCOUNT
    monkeypatch.setattr(keychain, "_os_user_name", lambda: "")
    assert account_name({}) == FALLBACK_ACCOUNT


def test_credentials_file_follows_the_cli():
    home = {"HOME": "/home/alice"}
    assert credentials_file(None, home) == "/home/alice/.claude/.credentials.json"
    assert credentials_file(WORK, home) == f"{WORK}/.credentials.json"
    assert credentials_file(WORK + "/", home) == f"{WORK}/.credentials.json"
    override = {**home, "CLAUDE_SECURESTORAGE_CONFIG_DIR": "/elsewhere"}
    assert credentials_file(WORK, override) == "/elsewhere/.credentials.json"
    empty = {**home, "CLAUDE_SECURESTORAGE_CONFIG_DIR": ""}
    assert credentials_file(WORK, empty) == "/home/alice/.claude/.credentials.json"
    nfd = unicodedata.normalize("NFD", "/home/zoë/.claude")
    assert credentials_file(nfd, home) == "/home/zoë/.claude/.credentials.json"


def test_storage_env_pins_the_profiles_own_entry():
    assert storage_env(WORK, {}) == {"CLAUDE_CONFIG_DIR": WORK}
    inherited = {"CLAUDE_SECURESTORAGE_CONFIG_DIR": "/shared", "CLAUDE_CONFIG_DIR": "/x"}
    pinned = storage_env(WORK, inherited)
    assert pinned == {"CLAUDE_CONFIG_DIR": WORK, "CLAUDE_SECURESTORAGE_CONFIG_DIR": WORK}
    assert service_name(WORK, {**inherited, **pinned}) == service_name(WORK)
    assert storage_env(None, {}) == {}
    default = storage_env(None, {"CLAUDE_CONFIG_DIR": "/x"})
    assert default == {"CLAUDE_SECURESTORAGE_CONFIG_DIR": ""}
    assert service_name("/x", default) == DEFAULT_SERVICE


def test_read_entry_returns_the_secret_or_none(memory_keyring):
    memory_keyring.set_password("svc", "alice", "secret")
    assert read_entry("svc", "alice") == "secret"
    assert read_entry("svc", "bob") is None


def test_read_entry_wraps_the_fail_backend():
    keyring.set_keyring(FailKeyring())
    with pytest.raises(KeychainUnavailable) as caught:
        read_entry("svc", "alice")
    assert caught.value.reason == "NoKeyringError"
    assert caught.value.absent


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS the Security API is the keychain")
def test_finding_the_backend_off_macos_does_not_search_for_apples_security_library():
    """keyring's macOS backend runs ldconfig and gcc on Linux to look for it: ~50 ms a start."""
    code = (
        "import ctypes.util, sys\n"
        "asked = []\n"
        "real = ctypes.util.find_library\n"
        "ctypes.util.find_library = lambda name: asked.append(name) or real(name)\n"
        "from agent_tui.auth.keychain import read_entry\n"
        "try:\n"
        "    read_entry('Claude Code-credentials', 'nobody')\n"
        "finally:\n"
        "    import keyring\n"
        "    print(asked, type(keyring.get_keyring()).__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    # A lookup either answers or reports the backend as unavailable; it never crashes.
    assert out.returncode == 0 or "KeychainUnavailable" in out.stderr, out.stderr
    asked, backend = out.stdout.rsplit(" ", 1)
    assert "Security" not in asked
    assert backend.startswith("keyring.backends.") and "macOS" not in backend
