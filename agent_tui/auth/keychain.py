"""Where Claude Code keeps a config dir's credentials, computed exactly as the CLI does.

Mirrors the 2.1.33x binary (reference doc, section 3): the config-dir string is hashed as
given (no ``~`` expansion, no trailing-slash stripping, no absolutising), only NFC-normalised.
A profile stores that string once and passes the same string to the CLI as
``CLAUDE_CONFIG_DIR``, so the name we look up and the name the CLI uses cannot drift apart.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import sys
import unicodedata
from collections.abc import Mapping

DEFAULT_SERVICE = "Claude Code-credentials"
FALLBACK_ACCOUNT = "claude-code-user"
CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
SECURESTORAGE_ENV = "CLAUDE_SECURESTORAGE_CONFIG_DIR"
CREDENTIALS_FILENAME = ".credentials.json"
_ACCOUNT_OK = re.compile(r"^[a-zA-Z0-9._-]+$")
_MACOS_API = "keyring.backends.macOS.api"


class KeychainUnavailable(Exception):
    """The keyring backend failed; ``reason`` names the failure without any secret.

    ``absent`` means there is no backend at all (keyring's fail backend, as on a headless
    Linux box): like Claude Code on Linux, there is then simply no keychain to look in.
    """

    def __init__(self, reason: str, *, absent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.absent = absent


def service_name(config_dir: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The keychain service for ``config_dir`` as the CLI running with ``environ`` computes it.

    ``environ`` is only read for ``CLAUDE_SECURESTORAGE_CONFIG_DIR``, which (even when empty)
    replaces the config dir; ``None`` means no override.
    """
    source = (environ or {}).get(SECURESTORAGE_ENV, config_dir)
    if not source:
        return DEFAULT_SERVICE
    digest = hashlib.sha256(unicodedata.normalize("NFC", source).encode("utf-8")).hexdigest()
    return f"{DEFAULT_SERVICE}-{digest[:8]}"


def account_name(environ: Mapping[str, str] | None = None) -> str:
    """``$USER``, else the OS user name, when safe as an account name; else the CLI's fallback."""
    env = os.environ if environ is None else environ
    user = env.get("USER") or _os_user_name()
    return user if _ACCOUNT_OK.match(user) else FALLBACK_ACCOUNT


def _os_user_name() -> str:
    """The password-database name, like Node's ``os.userInfo().username`` (not ``$LOGNAME``)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return ""


def credentials_file(config_dir: str | None, environ: Mapping[str, str]) -> str:
    """The ``.credentials.json`` the CLI running with ``environ`` reads for ``config_dir``."""
    home = environ.get("HOME") or os.path.expanduser("~")
    default = os.path.join(home, ".claude")
    base = environ.get(SECURESTORAGE_ENV, config_dir) or default
    return os.path.join(unicodedata.normalize("NFC", base), CREDENTIALS_FILENAME)


def storage_env(config_dir: str | None, environ: Mapping[str, str]) -> dict[str, str]:
    """Env entries that keep the CLI's credential storage on this profile's own entry.

    The SDK merges ``os.environ`` under a session's env, so an inherited
    ``CLAUDE_SECURESTORAGE_CONFIG_DIR`` (or, for a profile without a config dir, an inherited
    ``CLAUDE_CONFIG_DIR``) would point every profile at one shared entry.  An empty
    ``CLAUDE_SECURESTORAGE_CONFIG_DIR`` makes the CLI use the default entry and ``~/.claude``;
    an empty ``CLAUDE_CONFIG_DIR`` would not (the CLI would use a relative dir).
    """
    env: dict[str, str] = {}
    if config_dir:
        env[CONFIG_DIR_ENV] = config_dir
        if SECURESTORAGE_ENV in environ:
            env[SECURESTORAGE_ENV] = config_dir
    elif SECURESTORAGE_ENV in environ or environ.get(CONFIG_DIR_ENV):
        env[SECURESTORAGE_ENV] = ""
    return env


def _keyring():
    """keyring, imported without its macOS backend's library search on other systems.

    On import, keyring's macOS backend looks for Apple's Security framework with
    ``ctypes.util.find_library``; on Linux that runs ``ldconfig`` and ``gcc`` (~50 ms and
    two child processes on every start) for a backend that then declares itself unusable
    because this is not macOS.  With that one submodule blocked it says "Security API
    unavailable" instead, and keyring chooses among the other backends exactly as before.
    """
    if sys.platform != "darwin":
        sys.modules.setdefault(_MACOS_API, None)
    import keyring

    return keyring


def read_entry(service: str, account: str) -> str | None:
    """The stored secret, ``None`` when there is no entry; any backend failure is wrapped.

    Backends fail in many ways (the fail backend on headless Linux, a locked or missing
    D-Bus secret service, a plugin bug), and none of them may crash a run.
    """
    try:
        keyring = _keyring()  # finding its backend costs ~0.05 s: only when a lookup is due
        from keyring.errors import NoKeyringError
    except Exception as exc:
        raise KeychainUnavailable(type(exc).__name__) from None
    try:
        return keyring.get_password(service, account)
    except NoKeyringError:
        raise KeychainUnavailable("NoKeyringError", absent=True) from None
    except Exception as exc:
        raise KeychainUnavailable(type(exc).__name__) from None
