"""Credentials kept in git's config, where the agent can read them.

A worktree shares the repository's ``.git/config`` (and the user's global config is in
$HOME): a remote URL with a token in it (``https://x-access-token:ghp_…@github.com/…``), an
``http.extraHeader`` with an ``Authorization`` header or a ``*.token`` setting is readable by
the agent's ``git remote -v``.  Each is named before the first session, never its value, with
what to do instead: a credential helper keeps the secret out of every file git shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent_tui.auth.redaction import redact
from agent_tui.auth.secret_env import URL_PASSWORD
from agent_tui.workspace.git import Git
from agent_tui.workspace.location import Location

_SECRET_VARIABLE = re.compile(r"(?i)(token|password|passwd|secret|apikey|api-key)s?$")
_AUTH_HEADER = re.compile(r"(?i)^\s*(authorization|private-token|x-api-key)\s*:")
ADVICE = (
    "keep it in a credential helper instead (git config --global credential.helper store, "
    "or your system's: osxkeychain, libsecret, manager) and remove it from there"
)


def entries(listed: bytes) -> Iterator[tuple[str, str, str]]:
    """(origin, key, value) of ``git config -z --show-origin --list``."""
    fields = listed.split(b"\0")
    for origin, entry in zip(fields[::2], fields[1::2], strict=False):
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        yield origin.decode("utf-8", "replace"), key, value


def holds_credential(key: str, value: str) -> bool:
    variable = key.rpartition(".")[2]
    if not value or variable == "helper":
        return False
    if URL_PASSWORD.search(value) or redact(value) != value:
        return True
    if variable.lower() == "extraheader":
        return _AUTH_HEADER.search(value) is not None
    return _SECRET_VARIABLE.search(variable) is not None


def credentials_in_config(location: Location) -> list[str]:
    """One sentence per setting of the user's git config files that holds a credential."""
    root = location.repo_root
    if root is None:  # in place: the project's own .git, if it has one
        if not (location.project_dir / ".git").is_dir():
            return []
        root = location.project_dir
    git = Git(root)
    found = []
    for origin, key, value in entries(git.read_config("-z", "--show-origin", "--list").out):
        if not origin.startswith("file:") or not holds_credential(key, value):
            continue
        where = git.cwd / origin.removeprefix("file:")  # relative: to where git ran
        found.append(f"{key} in {where} holds a credential a session could read: {ADVICE}")
    return found
