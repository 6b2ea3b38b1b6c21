"""Masking of secrets: everything that reaches a screen, a log or a file goes through here.

Kept apart from ``credentials`` (which finds tokens) so the app can mask its log without
loading the keychain lookup.
"""

from __future__ import annotations

import base64
import re
import threading
from urllib.parse import quote, quote_plus

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
_ANTHROPIC_TOKEN = re.compile(r"sk-ant-[A-Za-z0-9_-]*")
_TOKEN_KIND = re.compile(r"sk-ant-[A-Za-z]+\d*-")
_BEARER = re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/-]{8,}+=*)")
MIN_SECRET_LENGTH = 12
"""Shorter values are not registered: masking every 8-letter word that happens to match
one would garble ordinary text, and a secret that short is no secret anyway."""

_known_lock = threading.Lock()
_known: dict[str, str] = {}
"""Every form of every registered secret, mapped to what replaces it."""
_known_pattern: re.Pattern[str] | None = None
_API_KEY_HEADER = re.compile(r"(?i)(x-api-key:\s*)([^\s\"',;]+)")
_TOKEN_FORMATS = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(gh[pousr]_)([A-Za-z0-9]{36,255})\b",  # GitHub
        r"\b(github_pat_)([A-Za-z0-9_]{22,255})\b",
        r"\b(AKIA|ASIA|ABIA|ACCA)([A-Z0-9]{16})\b",  # AWS access key id
        r"\b([sr]k_(?:live|test)_)([A-Za-z0-9]{10,255})\b",  # Stripe
        r"\b(whsec_)([A-Za-z0-9]{20,255})\b",
        r"\b(xox[abeoprs]-)([A-Za-z0-9-]{10,255})",  # Slack
        r"\b(xapp-)(\d-[A-Za-z0-9-]{10,255})",
        r"(https://hooks\.slack\.com/(?:services|workflows)/)([A-Za-z0-9_/-]{16,})",
    )
)
"""Other services' tokens by their published shapes; the kind is group 1."""
_AWS_SECRET = re.compile(
    r"""(?i)(aws_?secret_?access_?key["']?\s*[=:]\s*["']?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"""
)
_PRIVATE_KEY = re.compile(
    rf"(-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----)(?!{_MASK})"
    r"(?:.*?-----END \2PRIVATE KEY-----|.*)",
    re.DOTALL,
)
"""A private key's armour and all it holds (to its end, or the text's)."""
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


def _base64_cores(secret: bytes) -> set[str]:
    """The part of ``secret``'s base64 that is the same wherever it sits in a longer blob.

    Base64 works in 3-byte groups, so a secret starting at offset 0, 1 or 2 of a group
    encodes three ways; in each, the first and last characters also carry bits of the
    neighbouring bytes, and are left out.
    """
    cores = set()
    for lead in range(3):
        encoded = base64.b64encode(b"\0" * lead + secret).decode("ascii").rstrip("=")
        start = (lead * 4 + 2) // 3
        end = ((lead + len(secret)) * 4) // 3
        core = encoded[start:end]
        if len(core) >= MIN_SECRET_LENGTH:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` from now on wherever ``redact`` runs, as it is, reversed,
    URL-encoded, in hex or in base64 (also inside a longer base64 blob), whatever its
    shape."""
    global _known_pattern
    secret = (secret or "").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        return
    raw = secret.encode("utf-8")
    forms = dict.fromkeys([quote(secret, safe=""), quote_plus(secret), secret[::-1]], _MASK)
    forms.update(dict.fromkeys([raw.hex(), raw.hex().upper()], _MASK))
    forms.update(dict.fromkeys(_base64_cores(raw), _MASK))
    forms[secret] = mask_token(secret)  # as it is: its kind and last four stay readable
    with _known_lock:
        if all(form in _known for form in forms):
            return
        for form, replacement in forms.items():
            _known.setdefault(form, replacement)
        ordered = sorted(_known, key=len, reverse=True)  # the longest form wins an overlap
        _known_pattern = re.compile("|".join(re.escape(form) for form in ordered))


def forget_secrets() -> None:
    """Drop every registered secret (tests start afresh)."""
    global _known_pattern
    with _known_lock:
        _known.clear()
        _known_pattern = None


def _kind_only(token: str) -> bool:
    """``sk-ant-oat01-`` with nothing after it: what is left of a token already masked."""
    return token == "sk-ant-" or _TOKEN_KIND.fullmatch(token) is not None


def _mask_anthropic(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if _kind_only(token) else mask_token(token)


def _mask_bearer(match: re.Match[str]) -> str:
    token = match.group(2)
    return match.group(0) if _kind_only(token) else match.group(1) + mask_token(token)


def _mask_format(match: re.Match[str]) -> str:
    """The kind (``ghp_``, ``AKIA``, a Slack webhook's address) stays readable."""
    kind, secret = match.group(1, 2)
    return kind + _MASK + (secret[-4:] if len(secret) >= 24 else "")


def redact(text: str) -> str:
    """Mask every token-like secret in ``text``: the registered secrets in any of their
    forms, Anthropic tokens and keys, other services' tokens (GitHub, AWS, Stripe, Slack)
    and private keys, bearer and ``x-api-key`` headers, and token values in JSON, Python
    reprs and ``VAR=value`` lines."""
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(lambda m: _known.get(m.group(0), _MASK), text)
    text = _PRIVATE_KEY.sub(lambda m: m.group(1) + _MASK, text)
    for token_format in _TOKEN_FORMATS:
        text = token_format.sub(_mask_format, text)
    text = _AWS_SECRET.sub(lambda m: m.group(1) + _MASK, text)
    text = _ANTHROPIC_TOKEN.sub(_mask_anthropic, text)
    text = _BEARER.sub(_mask_bearer, text)
    text = _API_KEY_HEADER.sub(lambda m: m.group(1) + mask_token(m.group(2)), text)
    text = _QUOTED_SECRET.sub(lambda m: m.group(1) + mask_token(m.group(3)), text)
    return _ASSIGNED_SECRET.sub(lambda m: m.group(1) + mask_token(m.group(2)), text)
