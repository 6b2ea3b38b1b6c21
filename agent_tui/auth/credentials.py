"""Which credential a profile resolves to, each step reported.

Order: an explicit token in the environment variable the profile names; the OS keychain
entry under Claude Code's own service name for the profile's config dir; that config dir's
``.credentials.json``.  The first source that has an entry decides: a broken entry is
reported, not skipped, because the CLI itself would use it.  A profile with a config dir
never falls back to the default entry, so two accounts never share a token.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agent_tui.auth.keychain import (
    CONFIG_DIR_ENV,
    SECURESTORAGE_ENV,
    KeychainUnavailable,
    account_name,
    credentials_file,
    read_entry,
    service_name,
    storage_env,
)
from agent_tui.auth.redaction import API_KEY_PREFIX, CREDENTIAL_ENV, mask_token, register_secret
from agent_tui.files import read_bounded

if TYPE_CHECKING:
    from agent_tui.auth.profiles import Profile


MAX_CREDENTIALS_BYTES = 64 * 1024
"""A credentials file is a few hundred bytes: more is not one (or not a file at all)."""


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class Credential:
    """A found token; its repr shows only the masked form."""

    token: str = field(repr=False)
    source: str
    """``"env"``, ``"keychain"`` or ``"file"``."""
    location: str
    """The env var name, ``service/account``, or the file path."""
    expires_at: datetime | None = None
    subscription: str | None = None
    expired: bool = False
    """Past ``expires_at`` but refreshable: a file the CLI reads, with a refresh token."""

    @property
    def masked(self) -> str:
        return mask_token(self.token)

    @property
    def is_api_key(self) -> bool:
        return self.token.startswith(API_KEY_PREFIX)

    def __repr__(self) -> str:
        return (
            f"Credential(source={self.source!r}, location={self.location!r}, "
            f"token={self.masked!r}, expires_at={self.expires_at!r}, "
            f"subscription={self.subscription!r})"
        )


@dataclass
class Resolution:
    """The outcome of :func:`resolve`; every string in it is safe to show."""

    profile: str
    service: str
    account: str
    credential: Credential | None = None
    steps: list[str] = field(default_factory=list)
    problem: str | None = None
    """What is wrong and what to run, when the profile cannot be used."""
    notices: list[str] = field(default_factory=list)
    """Worth telling the user, but the profile may still be usable."""
    summary: str = ""
    """A few words for one-line listings: ``keychain, expires …``, ``expired …``, …"""

    @property
    def usable(self) -> bool:
        return self.credential is not None and self.problem is None

    @property
    def refusal(self) -> str:
        """Why the profile cannot be used, naming it once (most problems already do)."""
        named = f"profile {self.profile!r}"
        problem = self.problem or "no credentials"
        return problem if named in problem else f"{named}: {problem}"


class _Unusable(Exception):
    """A source had an entry that cannot be used; ``summary`` is its few-word form."""

    def __init__(self, message: str, summary: str) -> None:
        super().__init__(message)
        self.summary = summary


def login_hint(profile: Profile) -> str:
    """What to run to log the profile's account in again, as a clause.  agent-tui runs the
    CLI's login itself: ``pip install`` puts no ``claude`` on PATH."""
    login = f"run `agent-tui profiles login {profile.name}`"
    if profile.token_env:
        return (
            f"{login}, or `agent-tui profiles login {profile.name} --setup-token` and export "
            f"the token as {profile.token_env}"
        )
    return login


def _parse_oauth(
    payload: str, where: str, source: str, location: str, now: datetime, hint: str
) -> Credential:
    """Read Claude Code's ``{"claudeAiOauth": {...}}`` payload; never echoes the payload."""
    if payload.startswith("enc:"):
        raise _Unusable(f"{where} is encrypted and cannot be read here: {hint}", "encrypted")
    try:
        data = json.loads(payload)
    except ValueError:
        raise _Unusable(
            f"{where} is not a Claude credential (not valid JSON): {hint}", "malformed"
        ) from None
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    if not isinstance(oauth, dict):
        oauth = {}  # holds no token: refused as such
    token = _access_token(oauth, where, hint)
    expires_at = _expiry(oauth.get("expiresAt"), where, hint)
    expired = expires_at is not None and expires_at <= now
    if source == "file" and not _has_inference_scope(oauth):
        # The CLI reads this file itself and ignores a token without the scope: "Not logged in".
        raise _Unusable(
            f"{where} has no user:inference scope, so Claude Code will not use it: {hint}",
            "no inference scope",
        )
    if expired and not (source == "file" and _has_refresh_token(oauth)):
        # A keychain or env token is handed to the CLI as it is, and it cannot refresh that.
        moment = format_time(expires_at)
        raise _Unusable(f"the token in {where} expired {moment}: {hint}", f"expired {moment}")
    subscription = oauth.get("subscriptionType")
    return Credential(
        token,
        source,
        location,
        expires_at=expires_at,
        subscription=subscription if isinstance(subscription, str) else None,
        expired=expired,
    )


def _access_token(oauth: dict, where: str, hint: str) -> str:
    """``claudeAiOauth.accessToken``, stripped, if it is one the CLI can send."""
    token = oauth.get("accessToken")
    if not isinstance(token, str):
        raise _Unusable(
            f"{where} is not a Claude credential (no claudeAiOauth.accessToken): {hint}",
            "no token",
        )
    if not token.strip():
        raise _Unusable(f"{where} has an empty access token: {hint}", "no token")
    token = token.strip()
    register_secret(token)  # from now on masked wherever agent-tui prints, logs or stores
    refresh = oauth.get("refreshToken")
    register_secret(refresh if isinstance(refresh, str) else None)
    if token.startswith("enc:"):
        raise _Unusable(
            f"the token in {where} is encrypted and cannot be used: {hint}", "encrypted"
        )
    if not token.isascii() or any(char.isspace() for char in token):
        raise _Unusable(f"{where} has an unreadable accessToken: {hint}", "malformed")
    return token


def _has_inference_scope(oauth: dict) -> bool:
    scopes = oauth.get("scopes")
    return isinstance(scopes, list) and "user:inference" in scopes


def _has_refresh_token(oauth: dict) -> bool:
    refresh = oauth.get("refreshToken")
    return isinstance(refresh, str) and bool(refresh.strip())


def _expiry(raw: object, where: str, hint: str) -> datetime | None:
    """``expiresAt`` is epoch milliseconds; absent means no known expiry."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _Unusable(f"{where} has an unreadable expiresAt: {hint}", "malformed")
    try:
        return datetime.fromtimestamp(raw / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Unusable(f"{where} has an unreadable expiresAt: {hint}", "malformed") from None


def _found(credential: Credential) -> str:
    if credential.expires_at is None:
        return "found"
    if credential.expired:
        return f"found, expired {format_time(credential.expires_at)} (the CLI refreshes it)"
    return f"found, expires {format_time(credential.expires_at)}"


def resolve(
    profile: Profile, *, environ: Mapping[str, str] | None = None, now: datetime | None = None
) -> Resolution:
    """Find the credential a session of ``profile`` would use; never raises for bad data.

    ``environ`` is the app's environment (default ``os.environ``, only read); ``now`` an
    aware datetime (default: the current time).
    """
    env = os.environ if environ is None else environ
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    cli_env = {**env, **storage_env(profile.config_dir, env)}
    result = Resolution(profile.name, service_name(profile.config_dir, cli_env), account_name(env))
    result.notices.extend(_environment_notices(profile, env))
    hint = login_hint(profile)

    if profile.token_env:
        value = (env.get(profile.token_env) or "").strip()
        if value:
            register_secret(value)
            result.credential = Credential(value, "env", profile.token_env)
            result.steps.append(f"env {profile.token_env}: set ({mask_token(value)})")
            result.summary = "env"
            return result
        result.steps.append(f"env {profile.token_env}: not set")

    keychain_where = f"keychain {result.service!r} ({result.account})"
    try:
        stored = read_entry(result.service, result.account)
    except KeychainUnavailable as failure:
        if failure.absent:  # nothing to warn about: Claude Code on Linux has none either
            result.steps.append(f"{keychain_where}: no keychain on this system")
        else:
            result.steps.append(f"{keychain_where}: unavailable ({failure.reason})")
            result.notices.append(
                f"keychain unavailable ({failure.reason}): using the credentials file only"
            )
    else:
        if stored is not None:
            location = f"{result.service}/{result.account}"
            return _adopt(result, stored, keychain_where, "keychain", location, now, hint)
        result.steps.append(f"{keychain_where}: no entry")

    path = credentials_file(profile.config_dir, cli_env)
    try:
        raw = read_bounded(path, MAX_CREDENTIALS_BYTES)
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        result.steps.append(f"file {path}: not found")
        result.problem = f"no credentials for profile {profile.name!r}: {hint}"
        result.summary = "no credentials"
        return result
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        result.steps.append(f"file {path}: unreadable ({reason})")
        result.problem = f"cannot read {path} ({reason}): check its permissions, or {hint}"
        result.summary = "unreadable"
        return result
    if stat.S_IMODE(mode) & 0o077:
        result.notices.append(
            f"{path} is readable by other users (mode {stat.S_IMODE(mode):04o}): "
            f"run `chmod 600 {shlex.quote(path)}`"
        )
    text = raw.decode("utf-8", errors="replace")
    return _adopt(result, text, f"file {path}", "file", path, now, hint)


def _adopt(
    result: Resolution,
    payload: str,
    where: str,
    source: str,
    location: str,
    now: datetime,
    hint: str,
) -> Resolution:
    """Read a found payload into ``result``, reporting the step either way."""
    label = where.removeprefix("file ")
    try:
        credential = _parse_oauth(payload.strip(), label, source, location, now, hint)
    except _Unusable as unusable:
        result.steps.append(f"{where}: {unusable.summary}")
        result.problem = str(unusable)
        result.summary = unusable.summary
        return result
    result.credential = credential
    result.steps.append(f"{where}: {_found(credential)}")
    expiry = ""
    if credential.expires_at is not None:
        moment = format_time(credential.expires_at)
        expiry = f", expired {moment}, to refresh" if credential.expired else f", expires {moment}"
    if credential.expired:
        # Claude Code refreshes an expired file token with its refresh token when it starts
        # (over the network); refusing it here would make the user run claude first.
        result.notices.append(
            f"the token in {label} expired {format_time(credential.expires_at)}; the CLI "
            f"refreshes it when a session starts (if that fails: {hint})"
        )
    result.summary = f"{source}{expiry}"
    return result


def _environment_notices(profile: Profile, env: Mapping[str, str]) -> list[str]:
    """Say when something inherited is set aside, so a user is not surprised."""
    notices = [
        f"{name} is set in this environment but profile {profile.name!r} does not use it; "
        f"its sessions get it blanked (use --token-env {name} to use it)"
        for name in CREDENTIAL_ENV
        if env.get(name) and name != profile.token_env
    ]
    if not profile.config_dir and env.get(CONFIG_DIR_ENV):
        notices.append(
            f"{CONFIG_DIR_ENV} is set in this environment; profile {profile.name!r} has no "
            "config dir, so its credentials come from ~/.claude and the default keychain entry"
        )
    if SECURESTORAGE_ENV in env:
        notices.append(
            f"{SECURESTORAGE_ENV} is set in this environment; sessions override it so each "
            "profile keeps its own credentials"
        )
    return notices


def session_env(
    profile: Profile, resolution: Resolution, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The env a session's CLI gets from this profile (the SDK merges ``os.environ`` under it).

    ``CLAUDE_CONFIG_DIR`` is the profile's string verbatim.  An env or keychain token goes in
    ``CLAUDE_CODE_OAUTH_TOKEN`` (``ANTHROPIC_API_KEY`` for an API key); a file credential is
    left for the CLI to read itself, so it can refresh it.  Every other credential variable
    in ``environ`` is blanked, so a parent's token never reaches another profile's session.
    """
    if resolution.profile != profile.name:
        raise ValueError(f"resolution is for profile {resolution.profile!r}, not {profile.name!r}")
    env_in = os.environ if environ is None else environ
    env = storage_env(profile.config_dir, env_in)
    env.update({name: "" for name in CREDENTIAL_ENV if name in env_in})
    credential = resolution.credential if resolution.usable else None
    if credential is not None and credential.source in ("env", "keychain"):
        key = "ANTHROPIC_API_KEY" if credential.is_api_key else "CLAUDE_CODE_OAUTH_TOKEN"
        env[key] = credential.token
    return env
