"""The parts of agent-tui's inert git: what it passes, what it reads back, what it refuses."""

from __future__ import annotations

import io

import pytest

from agent_tui.auth.redaction import register_secret
from agent_tui.workspace import nested
from agent_tui.workspace.config_secrets import entries, holds_credential
from agent_tui.workspace.git import (
    MERGE_FILE,
    Drivers,
    GitError,
    git_env,
    parse_drivers,
    with_flags,
)
from agent_tui.workspace.in_place_record import became_repository, record_path, remember
from agent_tui.workspace.scan import PIECE, scan_stream

TOKEN = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def test_every_driver_the_config_names_is_made_inert_but_lfs_stays():
    listed = (
        b"filter.lfs.clean\0filter.lfs.smudge\0filter.my crypt.v2.smudge\0"
        b"merge.ours.driver\0hook.lint.command\0hook.lint.event\0diff.x.textconv\0"
    )
    drivers = parse_drivers(listed)
    assert drivers == Drivers(("lfs", "my crypt.v2"), ("ours",), ("lint",)) and drivers.lfs
    assert drivers.overrides() == [
        "filter.my crypt.v2.clean=",
        "filter.my crypt.v2.smudge=",
        "filter.my crypt.v2.process=",
        "filter.my crypt.v2.required=false",
        f"merge.ours.driver={MERGE_FILE}",
        "hook.lint.enabled=false",
        "hook.lint.command=",
    ]


def test_a_driver_no_setting_can_address_is_refused():
    with pytest.raises(GitError, match="cannot switch off"):
        parse_drivers(b"filter.a=b.clean\0")


def test_the_environment_is_an_allowlist_with_no_secret_in_it():
    env = git_env(
        {
            "PATH": "/usr/bin",
            "HOME": "/home/u",
            "GIT_CONFIG_GLOBAL": "/home/u/.gitconfig",
            "GIT_DIR": "/elsewhere/.git",
            "GIT_CONFIG_PARAMETERS": "'core.fsmonitor'='evil'",
            "GIT_CONFIG_COUNT": "1",
            "GIT_EXTERNAL_DIFF": "evil",
            "GIT_SSH_COMMAND": "evil",
            "GITHUB_TOKEN": "ghp_x",
            "ANTHROPIC_API_KEY": TOKEN,
            "TMPDIR": f"/tmp/{TOKEN}",  # kept by name, dropped for its value
            "LD_PRELOAD": "/tmp/evil.so",
        }
    )
    assert set(env) - {"PATH", "HOME", "GIT_CONFIG_GLOBAL"} == {
        "LC_ALL", "GIT_TERMINAL_PROMPT", "GIT_OPTIONAL_LOCKS", "GIT_EDITOR",
        "GIT_SEQUENCE_EDITOR", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_NO_LAZY_FETCH",
        "GIT_NO_REPLACE_OBJECTS", "GIT_LFS_SKIP_SMUDGE",
    }  # fmt: skip
    assert env["GIT_LFS_SKIP_SMUDGE"] == "1" and env["HOME"] == "/home/u"


@pytest.mark.parametrize(
    ("args", "argv"),
    [
        (["diff", "--cached"], ["diff", "--no-textconv", "--no-ext-diff",
                                "--ignore-submodules=all", "--no-color", "--cached"]),
        (["show", "HEAD"], ["show", "--no-textconv", "--no-ext-diff", "--no-color", "HEAD"]),
        (["status", "-z"], ["status", "--ignore-submodules=all", "-z"]),
        (["merge", "x"], ["merge", "--no-stat", "--no-verify", "x"]),
        (["merge", "--abort"], ["merge", "--abort"]),
        (["rev-parse", "HEAD"], ["rev-parse", "HEAD"]),
    ],
)  # fmt: skip
def test_each_subcommand_gets_its_flags_after_its_name(args, argv):
    assert with_flags(args) == argv


def test_a_nested_repository_is_the_only_directory_status_lists():
    status = b"?? sub/\0?? a b/c.txt\0 M x.txt\0R  new\0old\0?? deep/er/repo/\0"
    assert nested.untracked_repositories(status) == ["sub", "deep/er/repo"]
    assert nested.other_changes(status, ["sub", "deep/er/repo"])
    assert not nested.other_changes(b"?? sub/\0", ["sub"])


def test_gitlinks_are_read_from_the_index():
    stage = b"100644 abc 0\ta.txt\x00160000 def 0\tvendor/lib\x00120000 aaa 0\tlink\x00"
    assert nested.gitlinks(stage) == ["vendor/lib"]
    assert nested.excludes(["vendor/lib"]) == [":(exclude,literal)vendor/lib"]


def test_a_copy_of_a_git_directory_is_found_as_a_case_insensitive_disk_sees_it():
    names = [
        "lib/evil/HEAD", "lib/evil/config", "lib/evil/objects/ab/cd", "lib/evil/refs/heads/m",
        "half/HEAD", "half/objects/x",  # no refs/: no repository
        "Other/head", "Other/Objects/1", "Other/REFS/x",
        "wt/HEAD", "wt/commondir",
        "HEAD", "objects/x", "refs/y",  # the tree's root: the user's .git comes first
        "docs/HEAD.md",
        "app/HEAD", "app/objects", "app/refs", "app/config",  # links to "." (or files) will do
        "one/HEAD", "one/objects",  # still no refs
    ]  # fmt: skip
    assert nested.git_dir_copies(names) == ["Other", "app", "lib/evil", "wt"]


def header(name: str) -> str:
    """A new file's header, as ``git diff --cached`` prints it."""
    return f"diff --git a/{name} b/{name}\nnew file mode 100644\n--- /dev/null\n+++ b/{name}\n"


def test_an_added_line_that_starts_with_two_pluses_is_scanned_not_taken_for_a_path():
    diff = f"{header('a.txt')}@@ -0,0 +1,2 @@\n+++ {TOKEN}\n+++ b/other\n".encode()
    assert [(f.path, f.line) for f in scan_stream(io.BytesIO(diff))] == [("a.txt", 1)]


def test_the_scan_finds_a_secret_cut_across_a_long_lines_pieces():
    secret = "db-password-Q7f3kLm9Zx2Rw8"  # nothing in it looks like a token but itself
    register_secret(secret)
    line = "+" + "x" * (PIECE - 10) + secret + "y" * (3 * PIECE)
    diff = f"{header('big.txt')}@@ -0,0 +1,3 @@\n+short\n{line}\n+after\n".encode()
    [finding] = scan_stream(io.BytesIO(diff))
    assert (finding.path, finding.line) == ("big.txt", 2)
    at = line.index(secret)
    assert at < PIECE < at + len(secret)  # the first piece cut it


def test_the_scan_finds_a_token_on_the_same_line_number_of_each_file():
    diff = b"".join(f"{header(name)}@@ -0,0 +1 @@\n+{TOKEN}\n".encode() for name in "abc")
    assert [(f.path, f.line) for f in scan_stream(io.BytesIO(diff))] == [
        ("a", 1),
        ("b", 1),
        ("c", 1),
    ]


def test_the_scan_stops_at_the_findings_it_was_asked_for():
    diff = f"{header('t')}@@ -0,0 +1,500 @@\n".encode() + (f"+{TOKEN}\n" * 500).encode()
    assert len(scan_stream(io.BytesIO(diff), 10)) == 10


@pytest.mark.parametrize(
    ("key", "value", "secret"),
    [
        ("remote.origin.url", "https://x-access-token:ghp_abcdefghij@github.com/a/b", True),
        ("remote.origin.url", "https://github.com/a/b", False),
        ("remote.origin.url", "git@github.com:a/b.git", False),
        ("http.https://github.com/.extraheader", "AUTHORIZATION: basic eHl6", True),
        ("http.extraheader", "X-Trace: 1", False),
        ("github.token", "abc", True),
        ("hub.oauthtoken", "abc", True),
        ("credential.helper", "store", False),
        ("user.name", TOKEN, True),
        ("core.editor", "vim", False),
    ],
)
def test_a_credential_in_git_config_is_recognised_by_value_or_name(key, value, secret):
    assert holds_credential(key, value) is secret


def test_config_entries_are_read_with_their_origin():
    listed = b"file:.git/config\0remote.origin.url\nhttps://a\0command line:\0x.y\n\0"
    assert list(entries(listed)) == [
        ("file:.git/config", "remote.origin.url", "https://a"),
        ("command line:", "x.y", ""),
    ]


def test_a_project_that_became_a_repository_after_a_run_in_place_is_refused(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    assert became_repository(project) is None  # never worked in place
    (project / ".git").mkdir()
    remember(project)  # it had one already: nothing recorded
    assert not record_path(project).exists() and became_repository(project) is None
    (project / ".git").rmdir()
    remember(project)
    assert record_path(project).exists() and became_repository(project) is None
    (project / ".git").mkdir()
    sentence = became_repository(project)
    assert sentence is not None and "\n" not in sentence
    assert sentence.startswith(f"{project} became a git repository after agent-tui worked")
    assert f"remove {project / '.git'}" in sentence and str(record_path(project)) in sentence


def test_the_sandboxs_git_placeholder_a_killed_session_left_is_removed_not_refused(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    remember(project)
    placeholder = project / ".git"
    placeholder.touch(mode=0o444)  # the mount point for the denied .git, as a kill leaves it
    assert became_repository(project) is None
    assert not placeholder.exists()
    placeholder.write_text("gitdir: /elsewhere\n")  # a file with something in it is not one
    placeholder.chmod(0o444)
    assert became_repository(project) is not None
    assert placeholder.read_text() == "gitdir: /elsewhere\n"
