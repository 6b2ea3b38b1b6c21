"""The workspace's pure parts: names, the secret scan, commit messages, sandbox leftovers."""

from __future__ import annotations

import base64
import urllib.parse
from pathlib import Path

import pytest

from agent_tui.auth.redaction import forget_secrets, register_secret
from agent_tui.workspace.commits import commit_subject
from agent_tui.workspace.leftovers import Leftovers
from agent_tui.workspace.location import (
    Location,
    WorkspaceMode,
    branch_name,
    spec_qualifier,
    worktree_path,
)
from agent_tui.workspace.review import LineKind, line_kinds
from agent_tui.workspace.scan import masked_bytes, scan_diff

TOKEN = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.mark.parametrize(
    ("spec", "branch"),
    [
        ("001-add-login", "agent-tui/001-add-login"),
        ("002 my spec", "agent-tui/002-my-spec"),
        ("..hidden..x.lock", "agent-tui/hidden.x"),
        ("~^:?*[", "agent-tui/spec"),
    ],
)
def test_the_branch_is_named_after_the_spec_dir_and_safe_for_a_ref(spec, branch):
    assert branch_name(spec) == branch


@pytest.mark.parametrize(
    ("folder", "slug"),
    [
        ("b/.auto-claude/specs", "b"),
        ("services/api/.auto-claude/specs", "services-api"),
        ("my app/.auto-claude/specs", "my-app"),
        ("docs", "docs"),
        (".x/..y.lock/.auto-claude/specs", "x-.y"),
        ("~^:?*[", "project"),
    ],
)
def test_a_spec_below_the_root_is_qualified_by_its_folder(folder, slug):
    qualifier = spec_qualifier(Path("/repo"), Path("/repo") / folder / "001")
    assert qualifier.rsplit("-", 1)[0] == slug and len(qualifier.rsplit("-", 1)[1]) == 8
    assert branch_name("001", qualifier) == f"agent-tui/{qualifier}/001"


def test_folders_of_one_slug_have_qualifiers_of_their_own_and_the_root_has_none():
    def qualify(folder: str) -> str:
        return spec_qualifier(Path("/repo"), Path("/repo") / folder / "001")

    assert qualify("a b/.auto-claude/specs") != qualify("a-b/.auto-claude/specs")
    assert qualify(".auto-claude/specs") == ""
    assert branch_name("001", "") == "agent-tui/001"


def test_two_repositories_of_one_name_never_share_a_worktree(tmp_path):
    root = tmp_path / "worktrees"
    one = worktree_path(root, Path("/a/app"), Path("/a/app/.git"), "001")
    two = worktree_path(root, Path("/b/app"), Path("/b/app/.git"), "001")
    assert one != two and one.parent.name.startswith("app-") and one.name == "001"
    assert one == worktree_path(root, Path("/a/app"), Path("/a/app/.git"), "001")


def test_a_project_below_the_repository_root_keeps_its_place_in_the_worktree():
    location = Location(
        WorkspaceMode.WORKTREE,
        Path("/repo/services/api"),
        Path("/repo/services/api/.auto-claude/specs/001"),
        repo_root=Path("/repo"),
        common_dir=Path("/repo/.git"),
        worktree=Path("/data/wt/001"),
        branch="agent-tui/001",
    )
    assert location.agent_project_dir == Path("/data/wt/001/services/api")
    assert location.agent_spec_dir == Path("/data/wt/001/services/api/.auto-claude/specs/001")
    assert location.spec_pathspec == "services/api/.auto-claude/specs/001"
    assert location.project_pathspec == "services/api"


def diff_of(*added: str, removed: str = "") -> bytes:
    lines = ["diff --git a/conf.py b/conf.py", "--- a/conf.py", "+++ b/conf.py", "@@ -3 +7,3 @@"]
    if removed:
        lines.append(f"-{removed}")
    lines += [f"+{line}" for line in added]
    return ("\n".join(lines) + "\n").encode()


def test_the_scan_names_the_file_and_line_of_a_token_and_shows_it_masked():
    [finding] = scan_diff(diff_of("DEBUG = 1", f"KEY = '{TOKEN}'", "x = 2"))
    assert (finding.path, finding.line) == ("conf.py", 8)
    assert TOKEN[14:] not in finding.masked and finding.masked.startswith("KEY = 'sk-ant-api03-…")
    assert finding.sentence().startswith("conf.py line 8 holds a token-looking string")


def test_the_scan_ignores_a_token_the_diff_removes_and_ordinary_text():
    assert scan_diff(diff_of("KEY = os.environ['KEY']", removed=f"KEY = '{TOKEN}'")) == []


def test_the_scan_finds_a_secret_a_session_has_used_whatever_its_shape():
    secret = "ghp_SomeGitHubTokenThatIsLongEnough42"
    register_secret(secret)
    try:
        [finding] = scan_diff(diff_of(f"token: {secret}"))
    finally:
        forget_secrets()
    assert secret not in finding.masked


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s[::-1],
        lambda s: s.encode().hex(),
        lambda s: s.encode().hex().upper(),
        lambda s: base64.b64encode(b'{"t": "' + s.encode() + b'"}').decode(),
        lambda s: urllib.parse.quote(s + "/x", safe=""),
    ],
    ids=["reversed", "hex", "HEX", "base64 in a blob", "url-encoded"],
)
def test_the_scan_finds_a_resolved_token_however_it_was_encoded(encode):
    secret = "sk-ant-oat01-ResolvedToken0123456789abcdef"
    register_secret(secret)
    try:
        [finding] = scan_diff(diff_of(f"DATA = '{encode(secret)}'"))
    finally:
        forget_secrets()
    assert encode(secret) not in finding.masked


@pytest.mark.parametrize(
    "token",
    [
        "ghp_" + "x1Y2z3" * 6,
        "AKIAIOSFODNN7EXAMPLE",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "xoxb-1234567890-0987654321-AbCdEfGhIjKl",
        "-----BEGIN EC PRIVATE KEY-----",
    ],
)
def test_the_scan_finds_other_services_tokens_and_private_keys(token):
    [finding] = scan_diff(diff_of(f"value = {token!r}"))
    assert finding.path == "conf.py"


def test_a_kept_patch_is_masked_and_keeps_every_other_byte():
    patch = b"+caf\xc3\xa9 \xff\n+key " + TOKEN.encode() + b"\n"
    masked = masked_bytes(patch)
    assert TOKEN.encode() not in masked and masked.startswith(b"+caf\xc3\xa9 \xff\n+key sk-ant")


def test_a_commit_subject_fits_72_characters_and_keeps_the_rest_in_the_body():
    assert commit_subject("1.2", "Add the login form") == ("subtask 1.2: Add the login form", "")
    long = "Add the login form with validation, remember-me, rate limiting and audit logs"
    subject, rest = commit_subject("1.2", long)
    assert len(subject) == 72 and subject.endswith("…") and rest == long


def test_only_what_the_sandbox_made_and_left_empty_is_tidied(tmp_path):
    git_dir = tmp_path / ".git"
    (git_dir / "info").mkdir(parents=True)
    (git_dir / "remotes").mkdir()  # the user's own, from before
    leftovers = Leftovers((git_dir,), (tmp_path,))
    existed = leftovers.before()
    (git_dir / "NOTES_MERGE_WORKTREE").mkdir()
    (git_dir / "glab-cli").mkdir()
    (git_dir / "glab-cli" / "config.yml").write_text("not empty: someone's\n")
    (git_dir / "config.worktree").write_text("")
    (git_dir / "info" / ".claude-sandbox-noreplace").mkdir()
    (tmp_path / ".claude" / ".cc-writes").mkdir(parents=True)
    removed = leftovers.tidy(existed)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in removed) == [
        ".claude",
        ".claude/.cc-writes",
        ".git/NOTES_MERGE_WORKTREE",
        ".git/config.worktree",
        ".git/info/.claude-sandbox-noreplace",
    ]
    assert (git_dir / "remotes").is_dir() and (git_dir / "glab-cli" / "config.yml").exists()


def test_the_users_checkout_is_tidied_too_keeping_their_own_claude_dir(tmp_path):
    # In a worktree the CLI's sandbox also makes .claude/.cc-writes/ in the repository's
    # own checkout, which it takes for the project's root.
    worktree, checkout = tmp_path / "worktree", tmp_path / "checkout"
    (checkout / ".claude").mkdir(parents=True)
    (checkout / ".claude" / "settings.json").write_text("{}\n")  # the user's
    worktree.mkdir()
    leftovers = Leftovers((), (worktree, checkout, worktree))
    existed = leftovers.before()
    for where in (worktree, checkout):
        (where / ".claude" / ".cc-writes").mkdir(parents=True, exist_ok=True)
    removed = leftovers.tidy(existed)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in removed) == [
        "checkout/.claude/.cc-writes",
        "worktree/.claude",
        "worktree/.claude/.cc-writes",
    ]
    assert (checkout / ".claude" / "settings.json").is_file()


def test_the_files_a_killed_command_left_in_the_working_dir_are_tidied(tmp_path):
    # The CLI deletes these when a command ends; a SIGKILLed CLI leaves them, mode 0444.
    (tmp_path / ".profile").write_text("export A=1\n")  # the user's
    leftovers = Leftovers((), (tmp_path,))
    existed = leftovers.before()
    for name in (".bashrc", ".mcp.json", ".idea", ".claude/settings.json", ".claude/hooks"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
        (tmp_path / name).chmod(0o444)
    leftovers.tidy(existed)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".profile"]


def test_only_a_hunks_lines_are_added_or_removed():
    shown = [
        "commit 1a2b3c",
        "    subtask 1.1: x",
        "---",
        " a.py | 2 +-",
        "diff --git a/a.py b/a.py",
        "--- a/a.py",
        "+++ b/a.py",
        "@@ -1 +1 @@",
        "-old",
        "+new",
        "--- a line that was '-- a line'",
        " context",
    ]
    assert [kind for _, kind in line_kinds(shown)] == [
        LineKind.COMMIT,
        LineKind.TEXT,
        LineKind.TEXT,
        LineKind.TEXT,
        LineKind.HEADER,
        LineKind.HEADER,
        LineKind.HEADER,
        LineKind.HUNK,
        LineKind.REMOVED,
        LineKind.ADDED,
        LineKind.REMOVED,
        LineKind.TEXT,
    ]
