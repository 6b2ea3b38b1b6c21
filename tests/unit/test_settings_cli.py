"""``agent-tui settings``: every setting shown with what it does; ``set`` validates as a run
reads the file, keeps what it does not know, and refuses bad input in one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent_tui.cli.commands import main
from agent_tui.config import Settings, profiles_path

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_file() -> dict:
    return json.loads(profiles_path().read_text())["settings"]


def test_show_lists_every_setting_with_its_value_and_what_it_does(capsys):
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    for name, info in Settings.model_fields.items():
        assert re.search(rf"^{name} = ", out, re.MULTILINE), name
        assert " ".join(info.description.split()) in " ".join(out.split())
    assert "max_reset_wait_h = 6\n" in out and "notifications = true\n" in out
    assert "allowed_hosts = (empty)\n" in out and "Undefined" not in out


def test_show_names_a_list_settings_default_when_it_is_set(capsys):
    assert main(["settings", "set", "allowed_hosts", "pypi.org"]) == 0
    capsys.readouterr()
    assert main(["settings"]) == 0
    assert "allowed_hosts = pypi.org  (default: empty)\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("key", "text", "stored"),
    [
        ("auto_switch", "yes", True),
        ("notifications", "off", False),
        ("max_reset_wait_h", "2.5", 2.5),
        ("switch_at_utilization", "0.75", 0.75),
        ("model", "claude-opus-4-1", "claude-opus-4-1"),
        ("bash_allowlist", "ls, git ,make", ["ls", "git", "make"]),
        ("allowed_hosts", "pypi.org, *.npmjs.org", ["pypi.org", "*.npmjs.org"]),
        ("extra_tools", "WebFetch", ["WebFetch"]),
        ("containment", "required", "required"),
        ("qa_max_iterations", "3", 3),
    ],
)
def test_set_writes_the_value_as_its_settings_type(capsys, key, text, stored):
    assert main(["settings", "set", key, text]) == 0
    assert settings_file()[key] == stored
    assert capsys.readouterr().out.startswith(f"{key} = ")


def test_none_clears_an_optional_setting_back_to_its_default():
    assert main(["settings", "set", "model", "claude-opus-4-1"]) == 0
    assert main(["settings", "set", "model", "none"]) == 0
    assert "model" not in settings_file()


@pytest.mark.parametrize(
    ("key", "items"), [("allowed_hosts", "pypi.org"), ("extra_tools", "WebFetch")]
)
def test_none_empties_a_list_rather_than_naming_an_item_none(capsys, key, items):
    assert main(["settings", "set", key, items]) == 0
    assert main(["settings", "set", key, "none"]) == 0
    assert settings_file()[key] == []
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"{key} = (empty)  (")
    assert main(["settings", "set", key, "NONE"]) == 0
    assert settings_file()[key] == []


def test_none_puts_the_optional_bash_allowlist_back_to_the_built_in_one():
    assert main(["settings", "set", "bash_allowlist", "ls, git"]) == 0
    assert main(["settings", "set", "bash_allowlist", "none"]) == 0
    assert settings_file().get("bash_allowlist") is None


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        (
            "allowed_hosts",
            "pypi.org, none",
            "allowed_hosts: 'none' clears the list and cannot be one of its items "
            "(to clear it: agent-tui settings set allowed_hosts none)",
        ),
        (
            "extra_tools",
            "NoSuchTool",
            "extra_tools: extra tool 'NoSuchTool' is not one of Claude Code's tools (Bash, "
            "CronCreate,",
        ),
        (
            "extra_tools",
            "WebFetch, webSearch",
            "extra_tools: extra tool 'webSearch' is not one of Claude Code's tools: did you "
            "mean WebSearch?",
        ),
        ("extra_tools", "TodoWrite", "extra_tools: extra tool 'TodoWrite' is not one of"),
    ],
)
def test_a_list_item_the_cli_would_not_take_is_refused(capsys, key, text, message):
    assert main(["settings", "set", key, text]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agent-tui: {message}") and err.count("\n") == 1
    assert not profiles_path().exists()


def test_every_tool_the_cli_knows_is_taken_and_its_alias_for_one(capsys):
    from agent_tui.config import CLI_TOOLS

    assert main(["settings", "set", "extra_tools", ", ".join(sorted(CLI_TOOLS)) + ", Agent"]) == 0
    assert settings_file()["extra_tools"] == [*sorted(CLI_TOOLS), "Agent"]


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("max_reset_wait_h", "-1", "max_reset_wait_h must be at least 0\n"),
        ("switch_at_utilization", "1.5", "switch_at_utilization must be at most 1\n"),
        ("lanes", "-3", "lanes must be at least 1\n"),  # as run --lanes says it
        ("pause_between_s", "inf", "pause_between_s: Input should be a finite number"),
        ("pause_between_s", "soon", "pause_between_s is a number, not 'soon'"),
        ("notifications", "maybe", "notifications is true or false, not 'maybe'"),
        ("colour", "blue", "no setting named 'colour' (settings: auto_switch, model,"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_and_the_file_is_untouched(capsys, key, text, message):
    assert main(["settings", "set", "auto_switch", "true"]) == 0
    before = profiles_path().read_bytes()
    capsys.readouterr()
    assert main(["settings", "set", key, text]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agent-tui: {message}") and err.count("\n") == 1
    assert profiles_path().read_bytes() == before


def test_keys_it_does_not_know_and_the_profiles_are_kept(capsys):
    path = profiles_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "profiles": [{"name": "work", "config_dir": "/x", "x_note": "mine"}],
                "active": "work",
                "settings": {"auto_switch": False, "x_future": {"a": 1}},
                "x_top": 7,
            }
        )
    )
    assert main(["settings", "set", "auto_switch", "true"]) == 0
    data = json.loads(path.read_text())
    assert data["settings"]["x_future"] == {"a": 1} and data["settings"]["auto_switch"] is True
    assert data["profiles"][0]["x_note"] == "mine" and data["x_top"] == 7
    assert main(["settings", "show"]) == 0
    assert "x_future = {'a': 1}  (not a setting agent-tui knows; kept)" in capsys.readouterr().out


def test_a_broken_profiles_file_is_one_line_and_exit_2(capsys):
    path = profiles_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert main(["settings", "set", "auto_switch", "true"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    assert path.read_text() == "{not json"


def test_a_token_is_never_written_as_a_setting(capsys):
    assert main(["settings", "set", "model", "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz0123"]) == 2
    err = capsys.readouterr().err
    assert "looks like a token" in err and "abcdefghijklmnop" not in err


def test_the_readme_lists_every_setting_in_its_own_section():
    text = README.read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    for name in Settings.model_fields:
        assert f"`{name}`" in section, name


def test_a_run_takes_its_settings_and_the_command_line_wins(tmp_path, default_login):
    from agent_tui.cli import commands as cli
    from agent_tui.config import quota_path
    from agent_tui.startup.checks import build_loop, check_run

    spec_dir = tmp_path / "app" / ".auto-claude" / "specs" / "001-x"
    spec_dir.mkdir(parents=True)
    (spec_dir / "spec.md").write_text("# x\n")
    assert main(["settings", "set", "max_reset_wait_h", "2"]) == 0
    assert main(["settings", "set", "model", "from-settings"]) == 0
    assert main(["settings", "set", "notifications", "false"]) == 0
    args = cli.build_parser().parse_args(
        ["run", "--project", str(tmp_path / "app"), "--no-wait", "--model", "from-flag"]
    )
    loop = build_loop(check_run(args), lambda event: None)
    config = loop.config
    assert config.max_reset_wait_s == 2 * 3600 and config.notifications is False
    assert config.wait_for_reset is False and config.model == "from-flag"
    assert config.quota_file == quota_path()
    args = cli.build_parser().parse_args(["run", "--project", str(tmp_path / "app")])
    config = build_loop(check_run(args), lambda event: None).config
    assert config.wait_for_reset is True and config.model == "from-settings"


def test_set_refuses_a_readable_path_that_would_open_a_credential_store(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    before = profiles_path().read_text() if profiles_path().exists() else None
    assert main(["settings", "set", "readable_paths", "~/.elan, ~/.ssh"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agent-tui: readable path '~/.ssh' would open the credential store ")
    assert err.count("\n") == 1
    assert (profiles_path().read_text() if profiles_path().exists() else None) == before
    assert main(["settings", "set", "readable_paths", "~/.elan"]) == 0


def test_set_refuses_a_readable_path_holding_the_login_dir_the_environment_names(
    capsys, monkeypatch, tmp_path
):
    # as a run refuses it: CLAUDE_CONFIG_DIR's login is a credential store too
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "tools" / "claude-login"))
    assert main(["settings", "set", "readable_paths", str(tmp_path / "tools")]) == 2
    assert "claude-login, which no session may read" in capsys.readouterr().err
