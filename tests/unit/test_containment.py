"""What a session's options get from its containment, decided from settings and the machine."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.auth.redaction import redact
from agent_tui.config import ContainmentMode, Settings
from agent_tui.engine.sandbox.containment import (
    CLI_SECRET_ENV,
    Containment,
    ContainmentRefused,
    SandboxCheck,
    SpecHoldsProject,
    check_sandbox,
    is_secret_variable,
)
from agent_tui.engine.sandbox.reads import HOME_SECRETS, TOOLCHAINS, Workplace
from agent_tui.engine.sandbox.tmpdirs import TempDirs, UnsafeTmp

PYTEST_PATHS = 4096
"""The CLI's limit on its temp dir's length (``tmpdirs.CLI_TEMP_MAX_BYTES``) is about the
real ``/tmp``: pytest's temp paths are longer, and no CLI runs in these tests."""


def fake_which(present):
    def which(name, path=None):
        return f"/usr/bin/{name}" if name in present else None

    return which


def fake_run(returncode=0, stderr=b""):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, returncode, b"", stderr)

    run.calls = calls
    return run


def test_linux_needs_bwrap_socat_and_namespaces():
    run = fake_run()
    check = check_sandbox(
        {"PATH": "/usr/bin"}, platform="linux", which=fake_which({"bwrap", "socat"}), run=run
    )
    assert check.available and run.calls[0][:3] == [
        "/usr/bin/bwrap",
        "--unshare-user",
        "--unshare-net",
    ]
    missing = check_sandbox({}, platform="linux", which=fake_which({"bwrap"}), run=fake_run())
    assert missing.missing == ("socat not installed",)
    none = check_sandbox({}, platform="linux", which=fake_which(set()), run=fake_run())
    assert none.missing == ("bwrap not installed", "socat not installed")
    blocked = check_sandbox(
        {},
        platform="linux",
        which=fake_which({"bwrap", "socat"}),
        run=fake_run(1, b"bwrap: setting up uid map: Permission denied\n"),
    )
    assert blocked.missing == (
        "bwrap cannot create namespaces here (bwrap: setting up uid map: Permission denied)",
    )
    assert "apt-get install -y bubblewrap socat" in missing.refusal()


def test_other_platforms_have_no_sandbox():
    assert not check_sandbox({}, platform="win32").available


@pytest.fixture
def profiles(tmp_path):
    dirs = {}
    for name in ("work", "home"):
        dirs[name] = tmp_path / f"claude-{name}"
        dirs[name].mkdir()
    store = ProfileStore.in_memory(
        [
            Profile(name="work", config_dir=str(dirs["work"]), token_env="WORK_TOKEN"),
            Profile(name="home", config_dir=str(dirs["home"])),
            Profile(name="ci", token_env="CI_CLAUDE"),
        ],
        active="work",
    )
    store.dirs = dirs
    return store


AVAILABLE = SandboxCheck()


def build(tmp_path, profiles, sandbox=AVAILABLE, environ=None, place=None, **settings):
    spec = tmp_path / "project" / ".auto-claude" / "specs" / "001"
    spec.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return Containment.build(
        Settings(**settings),
        profiles,
        tmp_path / "project",
        spec,
        sandbox,
        {"HOME": str(home), **(environ or {})},
        place=place,
        temp=TempDirs.prepare(tmp_path / "tmp", limit=PYTEST_PATHS),
    )


def test_required_without_a_sandbox_is_refused(tmp_path, profiles):
    with pytest.raises(ContainmentRefused, match="socat not installed"):
        build(tmp_path, profiles, SandboxCheck(("socat not installed",)), containment="required")


def test_auto_without_a_sandbox_goes_on_unsandboxed_and_says_why(tmp_path, profiles):
    containment = build(tmp_path, profiles, SandboxCheck(("socat not installed",)))
    assert not containment.sandboxed and containment.sandbox_settings() is None
    status = containment.status()
    assert (status.mode, status.sandboxed, status.missing) == (
        "auto",
        False,
        ("socat not installed",),
    )
    assert "UNSANDBOXED (socat not installed)" in status.summary()
    assert "policy, not a boundary" in status.summary()
    off = build(tmp_path, profiles, containment="off")
    assert not off.sandboxed and "containment is off" in off.status().summary()


def test_a_sandboxed_session_is_confined_and_refuses_to_run_unconfined(tmp_path, profiles):
    fields = build(tmp_path, profiles).option_fields({}, {})
    sandbox = fields["sandbox"]
    assert sandbox["enabled"] and sandbox["failIfUnavailable"]
    assert sandbox["allowUnsandboxedCommands"] is False
    assert sandbox["network"] == {"allowedDomains": [], "strictAllowlist": True}
    assert {e["name"] for e in sandbox["credentials"]["envVars"]} == set(CLI_SECRET_ENV)
    assert fields["setting_sources"] == [] and fields["strict_mcp_config"] is True
    hosts = build(tmp_path, profiles, allowed_hosts=["pypi.org"]).sandbox_settings()
    assert hosts["network"]["allowedDomains"] == ["pypi.org"]


def test_only_the_coders_tools_exist_and_write_is_not_preapproved(tmp_path, profiles):
    fields = build(tmp_path, profiles).option_fields({}, {})
    assert fields["tools"] == ["Read", "Write", "Edit", "Glob", "Grep", "Bash"]
    assert fields["allowed_tools"] == ["Read", "Glob", "Grep", "Bash"]
    extra = build(tmp_path, profiles, extra_tools=["WebFetch"]).option_fields({}, {})
    assert "WebFetch" in extra["tools"] and "WebFetch" in extra["allowed_tools"]


def test_denies_name_every_credential_store_with_two_slashes(tmp_path, profiles):
    containment = build(tmp_path, profiles)
    rules = json.loads(containment.option_fields({}, {})["settings"])["permissions"]["deny"]
    for directory in profiles.dirs.values():
        assert f"Read(/{directory}/**)" in rules and f"Edit(/{directory}/**)" in rules
    assert f"Read(/{tmp_path}/home/.ssh/**)" in rules
    assert "Read(//proc/**)" in rules
    assert all(rule.split("(", 1)[1].startswith("//") for rule in rules)
    assert not any(".aws" in rule for rule in rules)  # missing: nothing there to read
    spec = tmp_path / "project" / ".auto-claude" / "specs" / "001"
    for name in ("logs", "memory", ".agent-tui.lock"):
        assert f"Edit(/{spec / name}/**)" in rules and f"Read(/{spec / name}/**)" not in rules


def test_bash_may_write_in_no_spec_dir_and_no_rule_makes_a_placeholder(tmp_path, profiles):
    fields = build(tmp_path, profiles).option_fields({}, {})
    project = tmp_path / "project"
    specs = project / ".auto-claude" / "specs"
    assert fields["sandbox"]["filesystem"]["denyWrite"] == [str(specs)]
    # For each command the sandbox makes an empty file at a missing path a rule denies
    # inside the project, and deletes it after, whoever wrote it meanwhile (PAUSE, say);
    # under a denied directory it makes none.
    rules = json.loads(fields["settings"])["permissions"]["deny"]
    for rule in rules:
        path = rule.split("(/", 1)[1][:-1].removesuffix("/**")
        if path.startswith(f"{project}/") and not os.path.lexists(path):
            assert path.startswith(f"{specs}/"), rule
    assert any(rule.endswith("/specs/001/PAUSE)") for rule in rules)  # Write and Edit


def test_a_spec_out_of_a_specs_folder_and_the_worktrees_copy_are_denied_too(tmp_path, profiles):
    project = tmp_path / "project"
    spec, copy = project / "docs" / "task", tmp_path / "wt" / ".auto-claude" / "specs" / "001"
    for directory in (spec, copy):
        directory.mkdir(parents=True)
    containment = Containment.build(
        Settings(), profiles, tmp_path / "wt", spec, AVAILABLE, {}, spec_copy=copy
    )
    assert containment.sandbox_settings()["filesystem"]["denyWrite"] == [
        str(spec),
        str(copy.parent),
    ]


@pytest.mark.parametrize("spec", [".", ".."])
def test_a_spec_dir_holding_the_project_is_refused_when_sandboxed(tmp_path, profiles, spec):
    project = tmp_path / "work" / "app"
    project.mkdir(parents=True)
    spec_dir = (project / spec).resolve()
    with pytest.raises(SpecHoldsProject, match="holds the project the agent works in"):
        Containment.build(Settings(), profiles, project, spec_dir, AVAILABLE, {})
    off = Containment.build(Settings(containment="off"), profiles, project, spec_dir, AVAILABLE)
    assert off.sandbox_settings() is None


def test_the_env_blanks_every_inherited_secret_but_the_sessions_own(tmp_path, profiles):
    containment = build(tmp_path, profiles)
    inherited = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "WORK_TOKEN": "work-token-value-0123456789",
        "CI_CLAUDE": "ci-token-value-0123456789",
        "GITHUB_TOKEN": "ghp_0123456789abcdef",
        "OPENAI_API_KEY": "sk-openai",
        "AWS_PROFILE": "prod",
        "DB_PASSWORD": "hunter2",
        "SSH_AUTH_SOCK": "/tmp/ssh.sock",
        "DATABASE_URL": "postgres://u:pw@db/x",
        "NOTES": "sk-ant-api03-pastedpastedpasted",
        "HTTPS_PROXY": "http://u:pw@proxy:3128",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "CLAUDE_CODE_OAUTH_TOKEN": "inherited-oauth-token-0123456789",
    }
    own = {"CLAUDE_CONFIG_DIR": "/c", "CLAUDE_CODE_OAUTH_TOKEN": "session-own-token-0123456789"}
    env = containment.session_env(own, inherited)
    blank = {"WORK_TOKEN", "CI_CLAUDE", "GITHUB_TOKEN", "OPENAI_API_KEY", "AWS_PROFILE",
             "DB_PASSWORD", "SSH_AUTH_SOCK", "DATABASE_URL", "NOTES"}  # fmt: skip
    assert {name for name, value in env.items() if value == ""} == blank
    assert env["CLAUDE_CODE_OAUTH_TOKEN"] == "session-own-token-0123456789"
    assert "PATH" not in env and "HTTPS_PROXY" not in env and "ANTHROPIC_BASE_URL" not in env
    assert "work-token-value" not in redact("leaked work-token-value-0123456789")


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("MY_TOKEN", "", True),
        ("npm_config__auth", "x", True),
        ("GIT_ASKPASS", "/bin/x", True),
        ("AWS_REGION", "eu-west-1", True),
        ("KEYBOARD", "us", False),
        ("TERM", "xterm", False),
        ("CLAUDE_CODE_MAX_RETRIES", "3", False),
        ("http_proxy", "http://u:p@h:1", False),
        ("X", "Bearer abcdefghijklmnop", True),
    ],
)
def test_secret_variables_by_name_or_value(name, value, secret):
    assert is_secret_variable(name, value) is secret


def test_the_mode_setting_is_strict_about_its_values():
    assert (
        Settings.model_validate({"containment": "required"}).containment is ContainmentMode.REQUIRED
    )
    with pytest.raises(ValueError):
        Settings.model_validate({"containment": "sometimes"})
    with pytest.raises(ValueError):
        Settings.model_validate({"allowed_hosts": ["http://x/y"]})


def settings_of(fields):
    return json.loads(fields["settings"])["permissions"], fields["sandbox"]


def test_a_session_reads_its_work_and_the_toolchains_but_no_other_part_of_the_home(
    tmp_path, profiles, monkeypatch
):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))  # the user's home and the session's are one
    for name in (".cache/pip", ".cargo/bin", ".pgpass", ".vault-token", ".config/rclone"):
        (home / name).mkdir(parents=True, exist_ok=True)
    agent_tui_dirs = ("agent-tui-config", "agent-tui-state", "agent-tui-data")
    for name in agent_tui_dirs:
        (tmp_path / name).mkdir()
    containment = build(tmp_path, profiles)
    permissions, sandbox = settings_of(containment.option_fields({}, {}))
    assert permissions["blockReadsOutsideWorkingDirectories"] is True
    assert sandbox["autoAllowBashIfSandboxed"] is True  # else the read block asks, unattended
    hidden, reopened = sandbox["filesystem"]["denyRead"], sandbox["filesystem"]["allowRead"]
    temp_root = tmp_path / "tmp" / f"at-{os.getuid()}"
    for path in (home, *(tmp_path / name for name in agent_tui_dirs), temp_root):
        assert str(path) in hidden, path
    tools = sorted([str(home / ".cache/pip"), str(home / ".cargo/bin")])
    assert all(path in reopened for path in [str(tmp_path / "project"), *tools])
    assert sorted(permissions["blockReadsExemptPaths"]) == tools  # the file tools read them too
    assert str(home / ".cargo") not in reopened  # it holds credentials.toml
    for name in (".pgpass", ".vault-token", ".config/rclone"):
        assert f"Read(/{home / name}/**)" in permissions["deny"], name
    shown = "of your home, sessions read only ~/.cargo/bin, ~/.cache/pip"
    assert containment.status().home_text() == shown


def test_in_a_worktree_the_users_checkout_is_hidden_and_git_reads_its_own_dir(tmp_path, profiles):
    checkout = tmp_path / "repo"
    (checkout / ".git").mkdir(parents=True)
    worktree = tmp_path / "agent-tui-data" / "worktrees" / "repo-1" / "001"
    (worktree / "sub").mkdir(parents=True)
    place = Workplace(
        worktree / "sub", worktree=worktree, checkout=checkout, git_common=checkout / ".git"
    )
    _, sandbox = settings_of(build(tmp_path, profiles, place=place).option_fields({}, {}))
    hidden, reopened = sandbox["filesystem"]["denyRead"], sandbox["filesystem"]["allowRead"]
    assert str(checkout) in hidden and str(tmp_path / "agent-tui-data") in hidden
    for path in (worktree / "sub", worktree, checkout / ".git"):
        assert str(path) in reopened, path


def test_the_users_own_login_dirs_are_denied_though_no_profile_names_them(tmp_path, profiles):
    default, storage = tmp_path / "default-login", tmp_path / "storage"
    default.mkdir()
    storage.mkdir()
    environ = {"CLAUDE_CONFIG_DIR": str(default), "CLAUDE_SECURESTORAGE_CONFIG_DIR": str(storage)}
    permissions, _ = settings_of(build(tmp_path, profiles, environ=environ).option_fields({}, {}))
    assert f"Read(/{default}/**)" in permissions["deny"]
    assert f"Read(/{storage}/**)" in permissions["deny"]


def test_unsandboxed_only_the_file_tools_are_held_to_the_work(tmp_path, profiles):
    off = build(tmp_path, profiles, containment="off")
    permissions, sandbox = settings_of(off.option_fields({}, {}))
    assert sandbox is None
    assert permissions["blockFileToolReadsOutsideWorkingDirectories"] is True
    assert "blockReadsOutsideWorkingDirectories" not in permissions


def test_readable_paths_reopen_a_toolchain_under_each_home(tmp_path, profiles):
    (tmp_path / "home" / ".elan").mkdir(parents=True)
    (tmp_path / "opt-tool").mkdir()
    containment = build(
        tmp_path, profiles, readable_paths=["~/.elan", str(tmp_path / "opt-tool"), "~/.absent"]
    )
    _, sandbox = settings_of(containment.option_fields({}, {}))
    reopened = sandbox["filesystem"]["allowRead"]
    assert str(tmp_path / "home" / ".elan") in reopened
    assert str(tmp_path / "opt-tool") in reopened
    assert not any(".absent" in path for path in reopened)


@pytest.mark.parametrize("path", ["relative/dir", "/", "~", "~/", "~/../etc", "~user/x"])
def test_a_readable_path_must_be_absolute_or_under_the_home(path):
    with pytest.raises(ValueError, match="readable path"):
        Settings.model_validate({"readable_paths": [path]})


@pytest.mark.parametrize(
    ("readable", "store"),
    [
        ("~/.ssh", "/.ssh,"),  # found by a newcomer: Bash then read ~/.ssh/id_rsa
        ("~/.ssh/id_rsa", "/.ssh,"),
        ("~/keys", "/.ssh,"),  # a link to it
        ("~/.config", "/.config/"),  # holds one
        ("/etc/shadow", "/etc/shadow"),
        ("{tmp}/claude-work", "claude-work"),  # a profile's login
        ("{tmp}", "claude-"),  # holds the profiles' logins
    ],
)
def test_a_readable_path_that_opens_a_credential_store_is_refused(
    tmp_path, profiles, readable, store
):
    (tmp_path / "home" / ".config" / "gcloud").mkdir(parents=True)
    (tmp_path / "home").joinpath("keys").symlink_to(tmp_path / "home" / ".ssh")
    with pytest.raises(ContainmentRefused) as refused:
        build(tmp_path, profiles, readable_paths=[readable.format(tmp=tmp_path)])
    said = str(refused.value)
    assert said.startswith(f"readable path {readable.format(tmp=tmp_path)!r} would open the ")
    assert store in said and said.endswith("no session may read: take it out of readable_paths")


def test_no_toolchain_holds_or_lies_in_a_credential_store():
    for tool in TOOLCHAINS:
        for secret in HOME_SECRETS:
            assert not (tool + "/").startswith(secret + "/"), (tool, secret)
            assert not (secret + "/").startswith(tool + "/"), (tool, secret)


def test_each_session_gets_its_own_temp_dir_which_no_other_can_read(tmp_path, profiles):
    containment = build(tmp_path, profiles)
    root = tmp_path / "tmp" / f"at-{os.getuid()}"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    with containment.session_tmp() as first, containment.session_tmp() as second:
        assert first.parent == second.parent == root and first != second
        fields = containment.option_fields({}, {}, tmp_dir=first)
        (first / "task.output").write_text("x")
    assert not first.exists() and not second.exists()  # gone with the session
    assert fields["env"]["CLAUDE_CODE_TMPDIR"] == str(first)
    hidden = fields["sandbox"]["filesystem"]["denyRead"]
    assert str(root) in hidden and str(tmp_path / "tmp" / f"claude-{os.getuid()}") in hidden
    assert str(first) in fields["sandbox"]["filesystem"]["allowRead"]
    assert str(second) not in fields["sandbox"]["filesystem"]["allowRead"]
    permissions = json.loads(fields["settings"])["permissions"]
    assert str(first) in permissions["blockReadsExemptPaths"]  # Read its task's output


def test_a_temp_root_someone_else_made_is_refused_and_a_loose_one_tightened(
    tmp_path, profiles, monkeypatch
):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    root = tmp / f"at-{os.getuid()}"
    root.symlink_to(tmp_path)
    with pytest.raises(UnsafeTmp, match="not a directory of yours"):
        TempDirs.prepare(tmp, limit=PYTEST_PATHS)
    real_prepare = TempDirs.prepare
    monkeypatch.setattr(
        TempDirs, "prepare", classmethod(lambda cls: real_prepare(tmp, limit=PYTEST_PATHS))
    )
    project, spec = tmp_path / "project", tmp_path / "project" / ".auto-claude" / "specs" / "1"
    with pytest.raises(ContainmentRefused, match=f"{root} is not a directory of yours"):
        Containment.build(Settings(), profiles, project, spec, AVAILABLE, {})
    root.unlink()
    root.mkdir()
    root.chmod(0o777)
    assert real_prepare(tmp, limit=PYTEST_PATHS).root == root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
