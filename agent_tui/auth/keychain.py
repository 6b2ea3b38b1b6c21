"""Keychain entry names exactly as Claude Code computes them (reference doc, section 3).

The config-dir string is hashed as given: no ``~`` expansion, no trailing-slash stripping,
no absolutising, only Unicode NFC.  A profile stores that string once and passes the same
string to the CLI as ``CLAUDE_CONFIG_DIR``, so the two cannot drift apart.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import unicodedata
from collections.abc import Mapping

DEFAULT_SERVICE = "Claude Code-credentials"
FALLBACK_ACCOUNT = "claude-code-user"
_ACCOUNT_OK = re.compile(r"^[a-zA-Z0-9._-]+$")


def service_name(config_dir: str | None, environ: Mapping[str, str] | None = None) -> str:
    override = (environ or {}).get("CLAUDE_SECURESTORAGE_CONFIG_DIR")
    source = override if override else config_dir
    if not source:
        return DEFAULT_SERVICE
    normalized = unicodedata.normalize("NFC", source)
    return f"{DEFAULT_SERVICE}-{hashlib.sha256(normalized.encode('utf-8')).hexdigest()[:8]}"


def account_name(environ: Mapping[str, str] | None = None) -> str:
    user = (environ or {}).get("USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = ""
    return user if _ACCOUNT_OK.match(user) else FALLBACK_ACCOUNT
