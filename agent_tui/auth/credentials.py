"""Which credential a profile resolves to, each step reported; and masking of secrets.

Order: an explicit token in the environment variable the profile names; the OS keychain
entry under Claude Code's own service name for the profile's config dir; the config dir's
``.credentials.json``.  A profile with a config dir never falls back to the default entry.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyring

from agent_tui.auth.keychain import account_name, service_name

if TYPE_CHECKING:
    from agent_tui.auth.profiles import Profile

CREDENTIAL_ENV = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN")

_TOKEN = re.compile(r"sk-ant-([a-z]+\d*)-([A-Za-z0-9_-]+)")
_BEARER = re.compile(r"(?i)(bearer\s+)(?!sk-ant-)([A-Za-z0-9._~+/-]{8,}=*)")
_JSON_SECRET = re.compile(
    r'("(?:accessToken|refreshToken|access_token|refresh_token)"\s*:\s*")([^"]+)(")'
)
_MASK = "…"


def mask_token(token: str) -> str:
    """``sk-ant-oat01-…Xy9Z``: the kind stays readable, the secret does not."""
    if _MASK in token:
        return token
    found = _TOKEN.fullmatch(token)
    if found:
        return f"sk-ant-{found.group(1)}-{_MASK}{found.group(2)[-4:]}"
    return f"{_MASK}{token[-4:]}" if len(token) > 8 else _MASK


def redact(text: str) -> str:
    """Mask every token-like secret in ``text``; idempotent."""
    text = _TOKEN.sub(lambda m: mask_token(m.group(0)), text)
    text = _BEARER.sub(lambda m: m.group(1) + mask_token(m.group(2)), text)
    return _JSON_SECRET.sub(lambda m: m.group(1) + mask_token(m.group(2)) + m.group(3), text)


@dataclass
class Credential:
    token: str = field(repr=False)
    source: str  # "env", "keychain" or "file"
    location: str
    expires_at: datetime | None = None
    subscription: str | None = None

    @property
    def masked(self) -> str:
        return mask_token(self.token)

    def __repr__(self) -> str:
        return (
            f"Credential(source={self.source!r}, location={self.location!r}, "
            f"token={self.masked!r}, expires_at={self.expires_at!r})"
        )


@dataclass
class Resolution:
    profile: str
    service: str
    account: str
    credential: Credential | None = None
    steps: list[str] = field(default_factory=list)
    problem: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.credential is not None and self.problem is None


class _Unusable(Exception):
    """A source was found but its content cannot be used."""


def _login_hint(config_dir: str | None) -> str:
    if config_dir:
        return f"run `CLAUDE_CONFIG_DIR={config_dir} claude` and log in, or `claude setup-token`"
    return "run `claude` and log in, or `claude setup-token`"


def _from_oauth_json(text: str, where: str, source: str, now: datetime, hint: str) -> Credential:
    if text.startswith("enc:"):
        raise _Unusable(f"{where} is encrypted and cannot be read here: {hint}")
    try:
        data = json.loads(text)
        oauth = data["claudeAiOauth"]
        token = oauth["accessToken"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise _Unusable(
            f"{where} is not a Claude credential (no claudeAiOauth.accessToken): {hint}"
        ) from None
    if not isinstance(token, str) or not token:
        raise _Unusable(f"{where} has an empty access token: {hint}")
    expires_at = None
    if isinstance(oauth.get("expiresAt"), int | float):
        expires_at = datetime.fromtimestamp(oauth["expiresAt"] / 1000, UTC)
        if expires_at <= now:
            raise _Unusable(f"the token in {where} expired {expires_at:%Y-%m-%d %H:%M} UTC: {hint}")
    return Credential(token, source, where, expires_at, oauth.get("subscriptionType"))


def resolve(
    profile: Profile, *, environ: Mapping[str, str] | None = None, now: datetime | None = None
) -> Resolution:
    env = os.environ if environ is None else environ
    now = now or datetime.now(UTC)
    config_dir = profile.config_dir
    hint = _login_hint(config_dir)
    result = Resolution(profile.name, service_name(config_dir, env), account_name(env))

    if profile.token_env:
        value = env.get(profile.token_env)
        if value:
            result.steps.append(f"env {profile.token_env}: set ({mask_token(value)})")
            result.credential = Credential(value, "env", profile.token_env)
            return result
        result.steps.append(f"env {profile.token_env}: not set")

    keychain_where = f"keychain {result.service!r} ({result.account})"
    try:
        stored = keyring.get_password(result.service, result.account)
    except Exception as exc:  # a broken or missing backend must never crash a run
        stored = None
        result.steps.append(f"{keychain_where}: unavailable ({type(exc).__name__})")
        result.notices.append(
            f"keychain unavailable ({type(exc).__name__}): using the credentials file"
        )
    else:
        if stored is None:
            result.steps.append(f"{keychain_where}: no entry")
    if stored is not None:
        return _adopt(result, stored, keychain_where, keychain_where, "keychain", now, hint)

    file = Path(config_dir) if config_dir else Path.home() / ".claude"
    file = file / ".credentials.json"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        result.steps.append(f"file {file}: missing")
        result.problem = (
            f"no credentials for profile {profile.name!r} (looked in env, keychain, {file}): {hint}"
        )
        return result
    except OSError as exc:
        result.steps.append(f"file {file}: unreadable ({exc.strerror})")
        result.problem = f"cannot read {file} ({exc.strerror})"
        return result
    return _adopt(result, text.strip(), f"file {file}", str(file), "file", now, hint)


def _adopt(
    result: Resolution, payload: str, step: str, where: str, source: str, now: datetime, hint: str
) -> Resolution:
    """Read a found credential payload into ``result``, reporting the step either way."""
    try:
        result.credential = _from_oauth_json(payload, where, source, now, hint)
    except _Unusable as unusable:
        result.steps.append(f"{step}: {unusable}")
        result.problem = str(unusable)
        return result
    result.steps.append(f"{step}: found{_expiry(result.credential)}")
    return result


def _expiry(credential: Credential) -> str:
    if credential.expires_at is None:
        return ""
    return f", expires {credential.expires_at:%Y-%m-%d %H:%M} UTC"


def session_env(
    profile: Profile, resolution: Resolution, environ: Mapping[str, str]
) -> dict[str, Any]:
    """The env a session's CLI gets from this profile (merged over ``os.environ`` by the SDK).

    Credential variables this profile does not set are blanked, so a token in the parent
    environment never leaks into another profile's sessions.
    """
    env: dict[str, str] = {}
    if profile.config_dir:
        env["CLAUDE_CONFIG_DIR"] = profile.config_dir
    credential = resolution.credential
    if credential is not None and credential.source in ("env", "keychain"):
        key = (
            "ANTHROPIC_API_KEY"
            if credential.token.startswith("sk-ant-api")
            else "CLAUDE_CODE_OAUTH_TOKEN"
        )
        env[key] = credential.token
    for name in CREDENTIAL_ENV:
        if name in environ and name not in env:
            env[name] = ""
    return env
