"""Which environment variables carry a secret: what no process agent-tui starts inherits.

Sessions get such variables blanked (the SDK cannot remove one), agent-tui's own git never
gets them at all.  Kept here, below both, so the workspace can use it without the engine.
"""

from __future__ import annotations

import re

from agent_tui.auth.redaction import redact

_SECRET_NAME = re.compile(
    r"(?i)(?:^|_)(?:TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?|AUTH|APIKEY|"
    r"ASKPASS|PAT)S?(?:_|$)"
)
_SECRET_PREFIXES = ("AWS_",)
_PROXY_NAMES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
"""The CLI reaches the API through these; the sandbox sets its own for Bash's children."""
URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
"""A URL with a password (or token) in it: ``https://user:ghp_…@host/…``."""


def is_secret_variable(name: str, value: str) -> bool:
    """A variable a process must not inherit: by its name, or a value that looks secret."""
    if name.lower() in _PROXY_NAMES:
        return False
    if name.startswith(_SECRET_PREFIXES) or _SECRET_NAME.search(name):
        return True
    return bool(value) and (redact(value) != value or URL_PASSWORD.search(value) is not None)
