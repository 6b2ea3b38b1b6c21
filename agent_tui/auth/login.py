"""Logging an account in: the CLI's own login run for one profile, and whether the CLI's
default login (no profile) would work at all.

``pip install`` puts no ``claude`` on PATH (the CLI is inside the SDK's wheel), so agent-tui
runs the CLI's login itself: ``claude auth login`` (the browser sign-in, storing the login
where that profile's sessions look for it) or ``claude setup-token`` (a long-lived token it
prints, for an environment variable).  The child gets the profile's ``CLAUDE_CONFIG_DIR`` in
its own environment; agent-tui's is never changed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from typing import TYPE_CHECKING

from agent_tui.auth.credentials import Resolution, resolve
from agent_tui.auth.keychain import CONFIG_DIR_ENV, SECURESTORAGE_ENV, storage_env
from agent_tui.auth.redaction import CREDENTIAL_ENV

if TYPE_CHECKING:
    from agent_tui.auth.profiles import Profile

THIRD_PARTY_ENV = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")
"""Set, the CLI uses a cloud provider's own credentials, which agent-tui cannot check."""
DEFAULT_LOGIN = "default"
"""The name the CLI's own default login is checked under (as sessions run under it)."""
HOW_TO_LOG_IN = (
    "run `agent-tui profiles add NAME --config-dir ~/.claude-NAME` (it offers to log in), "
    "or set ANTHROPIC_API_KEY"
)


def login_argv(cli: str, *, setup_token: bool = False) -> list[str]:
    """The CLI's own login: the browser sign-in, or a long-lived token printed for you."""
    return [cli, "setup-token"] if setup_token else [cli, "auth", "login"]


def login_env(profile: Profile, environ: Mapping[str, str]) -> dict[str, str]:
    """The login child's whole environment: ``environ`` with the profile's config dir, and
    without any inherited credential (the login is for this profile's account alone)."""
    env = {k: v for k, v in environ.items() if k not in CREDENTIAL_ENV}
    if not profile.config_dir:
        env.pop(CONFIG_DIR_ENV, None)  # the default login is ~/.claude's
    env.update(storage_env(profile.config_dir, environ))
    if env.get(SECURESTORAGE_ENV) == "":
        del env[SECURESTORAGE_ENV]  # ours alone: no inherited one is left to override
    return env


def run_login(
    cli: str, profile: Profile, *, setup_token: bool = False, environ: Mapping[str, str]
) -> int:
    """Run the login in this terminal (it asks its own questions); the CLI's exit status.

    A config dir that does not exist yet is made first, private to the user."""
    if profile.config_dir:
        os.makedirs(profile.config_dir, mode=0o700, exist_ok=True)
    argv = login_argv(cli, setup_token=setup_token)
    return subprocess.run(argv, env=login_env(profile, environ), check=False).returncode


def default_login_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why a run with no profile would find no usable login, as one sentence; None if the
    CLI's default login (as sessions get it) has a usable credential, or a cloud provider's
    credentials are in use."""
    from agent_tui.auth.profiles import Profile

    env = os.environ if environ is None else environ
    if any(env.get(name, "").strip() for name in CREDENTIAL_ENV):
        return None
    if any(env.get(name, "").strip() not in ("", "0", "false") for name in THIRD_PARTY_ENV):
        return None
    default = Profile(name=DEFAULT_LOGIN, config_dir=env.get(CONFIG_DIR_ENV) or None)
    resolution: Resolution = resolve(default, environ=env)
    if resolution.usable:
        return None
    where = default.config_dir or "~/.claude"
    if resolution.summary == "no credentials":
        found = "has no credentials"
    else:
        found = f"cannot be used ({resolution.summary or resolution.problem})"
    return f"not logged in: no profile is set up and the default login ({where}) {found}: " + (
        HOW_TO_LOG_IN
    )
