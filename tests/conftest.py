"""Shared fixtures: no test ever touches the developer's keychain or real config."""

from __future__ import annotations

import faulthandler

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from agent_tui.auth.redaction import forget_secrets

TEST_BOUND_S = 900
"""No test runs longer: past it every thread's traceback is printed and the run ends, failed
(a loop that waits for something that never comes ends here, not in a hung CI job)."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    faulthandler.dump_traceback_later(TEST_BOUND_S, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


class MemoryKeyring(KeyringBackend):
    """An in-memory keychain: ``(service, account) -> secret``."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(service)


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test gets an empty in-memory keychain; ask for it by name to seed entries."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """agent-tui's own profile store lives in tmp for every test."""
    path = tmp_path / "agent-tui-config"
    monkeypatch.setenv("AGENT_TUI_CONFIG_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch):
    """What agent-tui learns while it runs (usage windows) lives in tmp for every test."""
    path = tmp_path / "agent-tui-state"
    monkeypatch.setenv("AGENT_TUI_STATE_DIR", str(path))
    return path


@pytest.fixture
def default_login(monkeypatch):
    """A run with no profile finds the CLI's default login: an API key in the environment."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-the-tests-default-login")


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC, so a test can name the time of day it expects to see."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def no_known_secrets():
    """Each test starts with no secret registered for masking, and leaves none behind."""
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture(autouse=True)
def isolated_git(tmp_path, tmp_path_factory, monkeypatch):
    """Worktrees go to tmp, and git reads no config of the developer's (identity, hooks,
    signing): a test sees what a fresh machine would.  The config file is made beside
    ``tmp_path``, not in it: some tests need ``tmp_path`` empty."""
    monkeypatch.setenv("AGENT_TUI_DATA_DIR", str(tmp_path / "agent-tui-data"))
    config = tmp_path_factory.mktemp("git") / "gitconfig"
    config.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return config
