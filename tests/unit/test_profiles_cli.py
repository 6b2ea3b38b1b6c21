"""``agent-tui profiles …`` against a store in a tmp ``AGENT_TUI_CONFIG_DIR``."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from agent_tui.auth.credentials import CREDENTIAL_ENV
from agent_tui.auth.keychain import service_name
from agent_tui.auth.profiles import ProfileStore
from agent_tui.cli.profiles import expand_config_dir, run_profiles
from agent_tui.cli.profiles_args import add_profiles_parser

TOKEN = "sk-ant-oat01-SHOWshowSHOWshow7777"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="agent-tui")
    add_profiles_parser(root.add_subparsers(dest="command"))
    return root


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_profiles(parser().parse_args(["profiles", *argv]), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def credentials(token: str = TOKEN, expires: timedelta = timedelta(days=7)) -> str:
    moment = datetime.now(UTC) + expires
    return json.dumps(
        {
            "claudeAiOauth": {
                "accessToken": token,
                "refreshToken": "sk-ant-ort01-REFRESHrefreshREFRESH",
                "expiresAt": int(moment.timestamp() * 1000),
                "subscriptionType": "pro",
                "scopes": ["user:inference"],
            }
        }
    )


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fake home and user, and no credential inherited from the developer's shell."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.setenv("USER", "alice")
    for name in (*CREDENTIAL_ENV, "CLAUDE_CONFIG_DIR", "CLAUDE_SECURESTORAGE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def logged_in(home):
    """A config dir holding a valid ``.credentials.json``, as after a real login."""
    directory = home / ".claude-work"
    directory.mkdir()
    path = directory / ".credentials.json"
    path.write_text(credentials())
    path.chmod(0o600)
    return directory


def test_list_with_no_profiles_says_how_to_add_one():
    assert run("list") == (0, "no profiles yet: agent-tui profiles add NAME --config-dir DIR\n", "")
    assert run()[0] == 0


def test_add_expands_tilde_once_and_stores_the_absolute_string(logged_in, isolated_config):
    code, out, err = run("add", "work", "--config-dir", "~/.claude-work")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"added profile 'work' ({logged_in})",
        "active profile: work (none was; change with profiles use)",
        "credentials: file, expires " + out.split("expires ")[1].strip(),
    ]
    store_file = isolated_config / "profiles.json"
    assert stat.S_IMODE(store_file.stat().st_mode) == 0o600
    assert ProfileStore.load().get("work").config_dir == str(logged_in)
    assert "sk-ant" not in store_file.read_text()


def test_add_keeps_an_absolute_path_as_typed_and_absolutises_a_relative_one(tmp_path, monkeypatch):
    assert expand_config_dir("/x/dir/") == "/x/dir/"
    assert expand_config_dir("/x//dir") == "/x//dir"
    monkeypatch.chdir(tmp_path)
    assert expand_config_dir("rel/dir") == f"{tmp_path}/rel/dir"
    assert expand_config_dir("rel/dir/") == f"{tmp_path}/rel/dir/"


def test_add_a_missing_dir_is_allowed_with_a_warning(home):
    code, out, err = run("add", "later", "--config-dir", str(home / "not-yet"))
    assert code == 0
    assert "added profile 'later'" in out
    assert "credentials: not usable: no credentials" in out
    assert err == (
        f"warning: {home}/not-yet does not exist yet; `agent-tui profiles login later` makes "
        "it and logs in\n"
    )
    assert ProfileStore.load().names() == ["later"]


def test_add_without_a_config_dir_is_the_default_login(home):
    (home / ".claude").mkdir()
    (home / ".claude" / ".credentials.json").write_text(credentials())
    code, out, _ = run("add", "personal")
    assert code == 0 and out.startswith("added profile 'personal' (default ~/.claude)\n")
    assert ProfileStore.load().get("personal").config_dir is None


def test_add_says_when_the_profile_becomes_the_active_one(home, tmp_path):
    # Found by a tester: the first profile silently became active, and runs that had used
    # the default login then failed on it.
    first = run("add", "one", "--config-dir", str(tmp_path / "one"))[1]
    second = run("add", "two", "--config-dir", str(tmp_path / "two"))[1]
    assert "active profile: one (none was; change with profiles use)" in first
    assert "active profile" not in second


def test_add_points_out_a_login_made_with_a_trailing_slash(home, memory_keyring):
    directory = str(home / "acct")
    memory_keyring.set_password(service_name(directory + "/"), "alice", credentials())
    code, _, err = run("add", "acct", "--config-dir", directory)
    assert code == 0
    assert f"hint: the keychain has an entry for '{directory}/', not '{directory}'" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "bad name", "--config-dir", "/x"], "must be 1-40 ASCII letters"),
        (["add", "..", "--config-dir", "/x"], "starting with a letter or digit"),
        (["add", ".hidden", "--config-dir", "/x"], "starting with a letter or digit"),
        (["add", "a", "--token-env", "sk-ant-oat01-pastedpastedpasted"], "not the token itself"),
        (["use", "nobody"], "no profile named 'nobody'"),
        (["remove", "nobody"], "no profile named 'nobody'"),
        (["show", "nobody"], "no profile named 'nobody'"),
    ],
)
def test_errors_are_one_line_on_stderr_and_exit_2(argv, message):
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert err.startswith("agent-tui: ") and err.count("\n") == 1
    assert message in err
    assert "pastedpasted" not in err


def test_add_refuses_a_file_as_the_config_dir_and_stores_nothing(tmp_path, isolated_config):
    # Found by hand: a file was added with the warning "does not exist yet".
    a_file = tmp_path / "settings.json"
    a_file.write_text("{}")
    code, out, err = run("add", "work", "--config-dir", str(a_file))
    assert (code, out) == (2, "")
    assert (
        err == f"agent-tui: {a_file} is not a directory: --config-dir takes a Claude config dir\n"
    )
    assert run("list")[1].startswith("no profiles yet")


def test_a_duplicate_add_exits_2(logged_in):
    assert run("add", "work", "--config-dir", str(logged_in))[0] == 0
    code, _, err = run("add", "work", "--config-dir", str(logged_in))
    assert code == 2 and err == "agent-tui: a profile named 'work' already exists\n"


def test_a_corrupt_store_exits_2(isolated_config):
    isolated_config.mkdir()
    (isolated_config / "profiles.json").write_text("{oops")
    code, _, err = run("list")
    assert code == 2 and "is not valid JSON" in err and err.count("\n") == 1


def test_use_and_remove_move_the_active_mark(logged_in, home):
    run("add", "work", "--config-dir", str(logged_in))
    run("add", "later", "--config-dir", str(home / "later"))
    assert run("use", "later") == (0, "active profile: later\n", "")
    lines = run("list")[1].splitlines()
    assert lines[0].startswith("  work ") and lines[1].startswith("* later ")
    assert run("remove", "later") == (0, "removed profile 'later'\n", "")
    assert ProfileStore.load().active_profile() is None
    assert run("list")[1].splitlines()[0].startswith("  work ")


def test_list_shows_dir_and_credential_status(logged_in, home):
    import time

    run("add", "work", "--config-dir", str(logged_in))
    run("add", "later", "--config-dir", str(home / "later"))
    lines = run("list")[1].splitlines()
    assert len(lines) == 2
    work, later = (line.split() for line in lines)
    assert work[:4] == ["*", "work", str(logged_in), "file,"]
    month = time.strftime("%B %Y").split()
    assert later == [
        "later", str(home / "later"), "not", "usable:", "no", "credentials", "(usage", "unknown;",
        *month[:1], f"{month[1]}:", "$0.00", "spent)",
    ]  # fmt: skip


def test_list_and_show_give_each_profiles_usage_window_as_last_seen(logged_in, home, utc):
    import time

    from agent_tui.config import quota_path
    from agent_tui.engine.accounts.quota_book import QuotaBook
    from agent_tui.engine.events.quota import Quota, QuotaStatus

    run("add", "work", "--config-dir", str(logged_in))
    run("add", "later", "--config-dir", str(home / "later"))
    reset = (int(time.time()) // 86400 + 3) * 86400 + 20 * 3600 + 50 * 60  # 3 days on, 20:50
    book = QuotaBook.load(quota_path())
    book.record("work", Quota(status=QuotaStatus.REJECTED, window="seven_day", resets_at=reset))
    book.record("later", Quota(status=QuotaStatus.WARNING, window="five_hour", utilization=0.91))
    work, later = run("list")[1].splitlines()
    day = time.strftime("%a %d %b", time.gmtime(reset))
    month = time.strftime("%B %Y")
    assert work.endswith(f"(7d limit reached · resets {day} 20:50; {month}: $0.00 spent)")
    assert later.endswith(f"(5h 91%; {month}: $0.00 spent)")
    assert f"usage:       7d limit reached · resets {day} 20:50" in run("show", "work")[1]


def test_show_prints_service_account_source_masked_token_expiry_and_steps(logged_in):
    import time

    run("add", "work", "--config-dir", str(logged_in), "--token-env", "WORK_CLAUDE_TOKEN")
    code, out, _ = run("show", "work")
    assert code == 0
    service = service_name(str(logged_in))
    path = f"{logged_in}/.credentials.json"
    lines = out.splitlines()
    assert lines[:8] == [
        "profile:     work (active)",
        f"config dir:  {logged_in}",
        "token env:   WORK_CLAUDE_TOKEN",
        f"service:     {service}",
        "account:     alice",
        f"source:      file ({path})",
        "token:       sk-ant-oat01-…7777",
        lines[7],
    ]
    assert lines[7].startswith("expires:     ") and lines[7].endswith(" UTC")
    assert lines[8:13] == [
        "plan:        pro",
        "status:      usable",
        "usage:       usage unknown",
        f"spend:       {time.strftime('%B %Y')}: $0.00 spent",
        "steps:",
    ]
    assert lines[13:] == [
        "  1. env WORK_CLAUDE_TOKEN: not set",
        f"  2. keychain '{service}' (alice): no entry",
        f"  3. file {path}: found, expires {lines[7].removeprefix('expires:     ')}",
    ]
    assert TOKEN not in out


def test_show_of_an_unusable_profile_says_what_to_run_and_exits_2(logged_in):
    expired = json.loads(credentials(expires=timedelta(days=-1)))
    del expired["claudeAiOauth"]["refreshToken"]  # nothing the CLI could refresh it with
    (logged_in / ".credentials.json").write_text(json.dumps(expired))
    run("add", "work", "--config-dir", str(logged_in))
    code, out, err = run("show", "work")
    assert code == 2
    status = next(line for line in out.splitlines() if line.startswith("status:"))
    assert "not usable: the token in" in status and "expired" in status
    assert "run `agent-tui profiles login work`" in status
    # Exit 2 comes with its one line on stderr, as for all bad input or config.
    assert err.startswith("agent-tui: profile 'work': the token in")
    assert err.count("\n") == 1


def test_help_says_the_config_dir_is_expanded_once_then_verbatim(capsys):
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(["profiles", "add", "--help"])
    assert caught.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "~ is expanded" in text and "verbatim" in text and "trailing slash" in text


def test_the_app_command_line_routes_to_profiles(logged_in, capsys):
    from agent_tui.cli.commands import main

    assert main(["profiles", "add", "work", "--config-dir", str(logged_in)]) == 0
    assert main(["profiles", "use", "work"]) == 0
    assert main(["profiles", "show", "work"]) == 0
    out = capsys.readouterr().out
    assert "source:      file" in out and TOKEN not in out
    assert os.path.exists(os.environ["AGENT_TUI_CONFIG_DIR"])


def test_add_warns_when_another_profile_has_the_same_config_dir(logged_in):
    # Found by a tester: two profiles on one config dir are one account, silently.
    assert run("add", "work", "--config-dir", str(logged_in))[0] == 0
    code, _, err = run("add", "work2", "--config-dir", str(logged_in))
    assert code == 0
    assert "warning: profile 'work' has the same config dir: both are one account" in err
    # The default login twice is one account too; a token in the environment is another.
    assert run("add", "personal")[0] == 0
    assert "profile 'personal' has the same config dir" in run("add", "personal2")[2]
    assert "same config dir" not in run("add", "ci", "--token-env", "CI_TOKEN")[2]


def test_add_where_the_store_cannot_be_written_is_one_line_and_exit_2(tmp_path, monkeypatch):
    # /sys refuses new directories even to root: a location that cannot be written.
    monkeypatch.setenv("AGENT_TUI_CONFIG_DIR", "/sys/agent-tui-test")
    code, out, err = run("add", "work", "--config-dir", str(tmp_path / "claude"))
    assert code == 2 and out == ""
    assert err.startswith("agent-tui: cannot save /sys/agent-tui-test/profiles.json")
    assert "nothing was changed" in err and err.count("\n") == 1


def test_a_profiles_monthly_budget_is_set_kept_and_shown_with_its_month(logged_in, utc):
    import time

    from agent_tui.config import spend_dir
    from agent_tui.engine.accounts.ledger import Entry, Ledger

    run("add", "work", "--config-dir", str(logged_in), "--monthly-budget", "100")
    assert ProfileStore.load().get("work").monthly_budget_usd == 100.0
    assert run("budget", "work", "$20", "--billing-day", "15") == (
        0,
        "profile 'work': $20 a month, from day 15\n",
        "",
    )
    kept = ProfileStore.load().get("work")
    assert (kept.monthly_budget_usd, kept.billing_day) == (20.0, 15)
    now = time.time()
    Ledger(spend_dir()).append(
        Entry(run="r1", session=1, profile="work", spec="/p/s", project="/p", role="coder",
              ts=now, cost_usd=4.5, final=True, estimated=False)
    )  # fmt: skip
    line = run("list")[1]
    assert "$4.50 of $20.00)" in line
    assert "spend:       " in run("show", "work")[1]
    assert run("budget", "work", "none")[1] == (
        "profile 'work': no monthly budget of its own (the setting's)\n"
    )
    assert ProfileStore.load().get("work").monthly_budget_usd is None
    code, _, err = run("budget", "work", "lots")
    assert code == 2 and "is not an amount of dollars" in err
