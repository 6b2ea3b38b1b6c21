"""Logging in from agent-tui: ``profiles login`` runs the CLI's own login for the profile's
config dir (a fake CLI here, which records what it was given and writes a login as the real
one does), then checks the credential as a session will; ``run`` with no login refuses."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import pytest

from agent_tui.auth.login import default_login_problem, login_env
from agent_tui.auth.profiles import Profile
from agent_tui.auth.redaction import CREDENTIAL_ENV
from agent_tui.cli.commands import main
from agent_tui.cli.profiles import run_profiles
from agent_tui.cli.profiles_args import add_profiles_parser
from agent_tui.engine.agents.claude import process
from tests.integration.git_repo import git

FAKE_CLI = """\
#!{python}
import json, os, sys, time

with open({record!r}, "a") as record:
    record.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ)}}) + "\\n")
mode = os.environ.get("FAKE_LOGIN", "writes")
if mode == "fails":
    sys.exit(1)
if mode == "cancelled":  # ctrl+c in the CLI's raw-mode prompt: a key, not a signal to us
    sys.exit(130)
if mode == "writes" and sys.argv[1:] == ["auth", "login"]:
    oauth = {{
        "accessToken": "sk-ant-oat01-FAKELOGINfakelogin0000",
        "refreshToken": "sk-ant-ort01-FAKELOGINrefresh0000",
        "expiresAt": int((time.time() + 86400) * 1000),
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
    }}
    path = os.path.join(os.environ["CLAUDE_CONFIG_DIR"], ".credentials.json")
    with open(path, "w") as handle:
        json.dump({{"claudeAiOauth": oauth}}, handle)
    os.chmod(path, 0o600)
if sys.argv[1:] == ["setup-token"]:
    print("Your OAuth token: sk-ant-oat01-PRINTEDprinted0000")
"""


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """An empty home, no credential inherited from the developer's shell."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    for name in (*CREDENTIAL_ENV, "CLAUDE_CONFIG_DIR", "CLAUDE_SECURESTORAGE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def fake_cli(tmp_path, monkeypatch):
    """The CLI agent-tui finds is a script that notes each call: ``calls()`` reads them."""
    record = tmp_path / "calls.jsonl"
    script = tmp_path / "fake-claude"
    script.write_text(FAKE_CLI.format(python=sys.executable, record=str(record)))
    script.chmod(0o755)
    monkeypatch.setattr(process, "find_cli", lambda: str(script))

    def calls() -> list[dict]:
        if not record.exists():
            return []
        return [json.loads(line) for line in record.read_text().splitlines()]

    return calls


def run(*argv: str, ask=None) -> tuple[int, str, str]:
    root = argparse.ArgumentParser(prog="agent-tui")
    add_profiles_parser(root.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    code = run_profiles(root.parse_args(["profiles", *argv]), out=out, err=err, ask=ask)
    return code, out.getvalue(), err.getvalue()


def test_login_runs_the_cli_login_for_the_profiles_dir_then_finds_the_credential(
    tmp_path, fake_cli, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-INHERITEDinherited00")
    work = tmp_path / "claude-work"  # not there yet: the login makes it
    assert run("add", "work", "--config-dir", str(work))[0] == 0
    code, out, err = run("login", "work")
    assert (code, err) == (0, ""), err
    assert out.splitlines()[-1].startswith(
        "logged in: profile 'work' has a usable credential (file, expires "
    )
    [call] = fake_cli()
    assert call["argv"] == ["auth", "login"]
    assert call["env"]["CLAUDE_CONFIG_DIR"] == str(work)
    assert "ANTHROPIC_API_KEY" not in call["env"]  # the login is this account's alone
    assert "CLAUDE_CONFIG_DIR" not in os.environ  # set for the child only
    assert os.stat(work).st_mode & 0o077 == 0
    assert "sk-ant-oat01" not in out + err


def test_a_login_that_does_not_finish_or_leaves_nothing_is_one_line(
    tmp_path, fake_cli, monkeypatch
):
    assert run("add", "work", "--config-dir", str(tmp_path / "w"))[0] == 0
    monkeypatch.setenv("FAKE_LOGIN", "fails")
    code, _, err = run("login", "work")
    assert code == 3
    assert err == "agent-tui: the login did not finish (the CLI exited 1): nothing changed\n"
    monkeypatch.setenv("FAKE_LOGIN", "cancelled")
    code, _, err = run("login", "work")
    assert (code, err) == (130, "agent-tui: the login was interrupted: nothing changed\n")
    monkeypatch.setenv("FAKE_LOGIN", "writes nothing")
    code, _, err = run("login", "work")
    assert code == 3
    assert err.startswith("agent-tui: the login left no usable credential: no credentials for")
    assert err.count("\n") == 1


def test_setup_token_runs_the_cli_and_says_where_the_token_goes(tmp_path, fake_cli):
    assert run("add", "ci", "--config-dir", str(tmp_path / "c"), "--token-env", "CI_TOKEN")[0] == 0
    code, out, _ = run("login", "ci", "--setup-token")
    assert code == 0
    assert fake_cli()[-1]["argv"] == ["setup-token"]
    assert "next: export CI_TOKEN=<the token printed above>" in out


def test_setup_token_for_a_profile_without_a_token_variable_is_refused_before_the_cli(
    tmp_path, fake_cli
):
    assert run("add", "work", "--config-dir", str(tmp_path / "w"))[0] == 0
    code, _, err = run("login", "work", "--setup-token")
    assert code == 2 and fake_cli() == []
    assert err.startswith("agent-tui: profile 'work' has no --token-env") and err.count("\n") == 1


def test_login_of_an_unknown_profile_is_one_line(fake_cli):
    code, _, err = run("login", "nobody")
    assert code == 2 and fake_cli() == []
    assert err.count("\n") == 1 and "nobody" in err


def test_add_offers_a_login_when_the_new_profile_has_no_credential(tmp_path, fake_cli):
    asked: list[str] = []

    def ask(question: str) -> str:
        asked.append(question)
        return ""  # Enter: yes

    code, out, _ = run("add", "work", "--config-dir", str(tmp_path / "w"), ask=ask)
    assert code == 0
    assert asked == ["Log in to the account of profile 'work' now? [Y/n] "]
    assert [c["argv"] for c in fake_cli()] == [["auth", "login"]]
    assert "logged in: profile 'work'" in out
    code, out, _ = run("add", "other", "--config-dir", str(tmp_path / "o"), ask=lambda q: "n")
    assert code == 0 and len(fake_cli()) == 1
    assert out.splitlines()[-1] == "log in later with: agent-tui profiles login other"


def test_an_add_whose_login_is_interrupted_says_the_profile_stays_and_how_to_go_on(
    tmp_path, fake_cli, monkeypatch
):
    monkeypatch.setenv("FAKE_LOGIN", "cancelled")
    code, out, err = run("add", "work", "--config-dir", str(tmp_path / "w"), ask=lambda q: "y")
    assert code == 130
    assert "active profile: work" in out
    assert err.splitlines()[-2:] == [
        "agent-tui: the login was interrupted: nothing changed",
        "profile 'work' stays added, and active, and runs use it until you log in or switch: "
        "agent-tui profiles login work, or agent-tui profiles remove work",
    ]
    code, out, _ = run("list")
    assert code == 0 and "work" in out


def test_add_asks_nothing_when_stdin_is_not_a_terminal_or_the_login_exists(tmp_path, fake_cli):
    def never(question: str) -> str:
        raise AssertionError("asked")

    # pytest's stdin is not a terminal: the default is not to ask (CI never waits).
    assert run("add", "work", "--config-dir", str(tmp_path / "w"))[0] == 0
    assert run("login", "work")[0] == 0
    assert run("add", "again", "--config-dir", str(tmp_path / "w"), ask=never)[0] == 0
    assert len(fake_cli()) == 1


def test_the_login_child_gets_the_profiles_dir_and_no_inherited_credential():
    parent = {
        "PATH": "/bin",
        "CLAUDE_CONFIG_DIR": "/elsewhere",
        "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-parentparent",
    }
    work = Profile(name="work", config_dir="/home/a/.claude-work")
    assert login_env(work, parent) == {"PATH": "/bin", "CLAUDE_CONFIG_DIR": "/home/a/.claude-work"}
    # The default login is ~/.claude's, whatever the parent's CLAUDE_CONFIG_DIR says.
    assert login_env(Profile(name="personal"), parent) == {"PATH": "/bin"}


def credentials_in(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    oauth = {
        "accessToken": "sk-ant-oat01-DEFAULTdefault0000",
        "expiresAt": int((time.time() + 86400) * 1000),
        "scopes": ["user:inference"],
    }
    (directory / ".credentials.json").write_text(json.dumps({"claudeAiOauth": oauth}))
    (directory / ".credentials.json").chmod(0o600)


def test_the_default_login_is_what_a_session_without_a_profile_would_use(home, tmp_path):
    env = {"HOME": str(home)}
    problem = default_login_problem(env)
    assert problem is not None and problem.startswith(
        "not logged in: no profile is set up and the default login (~/.claude) has no "
        "credentials: run `agent-tui profiles add NAME --config-dir ~/.claude-NAME`"
    )
    assert default_login_problem({**env, "ANTHROPIC_API_KEY": "sk-ant-api03-x"}) is None
    assert default_login_problem({**env, "CLAUDE_CODE_USE_BEDROCK": "1"}) is None
    elsewhere = tmp_path / "elsewhere"
    credentials_in(elsewhere)
    assert default_login_problem({**env, "CLAUDE_CONFIG_DIR": str(elsewhere)}) is None
    assert default_login_problem(env) is not None
    credentials_in(home / ".claude")
    assert default_login_problem(env) is None
    (home / ".claude" / ".credentials.json").write_text("{not json")
    assert "(~/.claude) cannot be used (malformed)" in default_login_problem(env)


def test_run_without_a_profile_or_a_login_refuses_before_any_branch_or_worktree(tmp_path, capsys):
    project = tmp_path / "app"
    spec = project / ".auto-claude" / "specs" / "001-x"
    spec.mkdir(parents=True)
    (spec / "spec.md").write_text("# x\n")
    (project / "README.md").write_text("app\n")
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "README.md")
    git(project, "commit", "--quiet", "-m", "start")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["run", "--project", str(project), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("agent-tui: not logged in: no profile is set up")
    assert "agent-tui profiles add NAME" in err
    assert git(project, "branch", "--list", "agent-tui/*") == ""
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # no worktree, no log
