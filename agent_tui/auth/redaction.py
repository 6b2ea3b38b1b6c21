"""Masking of secrets: everything that reaches a screen, a log or a file goes through here.

Kept apart from ``credentials`` (which finds tokens) so the app can mask its log without
loading the keychain lookup.
"""

from __future__ import annotations

import re

CREDENTIAL_ENV = (
    "ANTHROPIC_API_KEY",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_REFRESH_TOKEN",
)
"""Variables the CLI reads a credential from; blanked in a session unless its profile sets one."""

API_KEY_PREFIX = "sk-ant-api"
_MASK = "…"
_SECRET_KEYS = "|".join(
    ["accessToken", "refreshToken", "access_token", "refresh_token", *CREDENTIAL_ENV]
)
_ANTHROPIC_TOKEN = re.compile(r"sk-ant-[A-Za-z0-9_-]++(?!…)")
_TOKEN_KIND = re.compile(r"sk-ant-[A-Za-z]+\d*-")
_BEARER = re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/-]{8,}+=*)(?!…)")
_API_KEY_HEADER = re.compile(r"(?i)(x-api-key:\s*)([^\s\"',;]+)")
_QUOTED_SECRET = re.compile(rf"""((\\?["'])(?:{_SECRET_KEYS})\2\s*:\s*\\?["'])([^"'\\]+)""")
_ASSIGNED_SECRET = re.compile(rf"""((?:{"|".join(CREDENTIAL_ENV)})=["']?)([^\s"']+)""")


def mask_token(token: str) -> str:
    """``sk-ant-oat01-…Xy9Z``: the kind stays readable, the secret does not; idempotent.

    The last four characters are kept only when the secret part is long enough that they
    give nothing useful away.
    """
    if not token or _MASK in token:
        return token
    kind = _TOKEN_KIND.match(token)
    prefix = kind.group(0) if kind else ("sk-ant-" if token.startswith("sk-ant-") else "")
    secret = token[len(prefix) :]
    return f"{prefix}{_MASK}{secret[-4:] if len(secret) >= 12 else ''}"


def redact(text: str) -> str:
    """Mask every token-like secret in ``text``: Anthropic tokens and keys, bearer and
    ``x-api-key`` headers, and token values in JSON, Python reprs and ``VAR=value`` lines."""
    text = _ANTHROPIC_TOKEN.sub(lambda m: mask_token(m.group(0)), text)
    text = _BEARER.sub(lambda m: m.group(1) + mask_token(m.group(2)), text)
    text = _API_KEY_HEADER.sub(lambda m: m.group(1) + mask_token(m.group(2)), text)
    text = _QUOTED_SECRET.sub(lambda m: m.group(1) + mask_token(m.group(3)), text)
    return _ASSIGNED_SECRET.sub(lambda m: m.group(1) + mask_token(m.group(2)), text)
