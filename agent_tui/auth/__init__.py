"""Auth profiles: which Claude account a session uses, and how its credential is found.

``agent_tui.auth.commands`` (the ``profiles`` command line) is not re-exported here, so
importing the engine does not pull in argparse code.
"""

from agent_tui.auth.credentials import (
    CREDENTIAL_ENV,
    Credential,
    Resolution,
    mask_token,
    redact,
    resolve,
    session_env,
)
from agent_tui.auth.keychain import account_name, service_name
from agent_tui.auth.profiles import Profile, ProfilesFile, ProfileStore, UnknownProfileError

__all__ = [
    "CREDENTIAL_ENV",
    "Credential",
    "Profile",
    "ProfileStore",
    "ProfilesFile",
    "Resolution",
    "UnknownProfileError",
    "account_name",
    "mask_token",
    "redact",
    "resolve",
    "service_name",
    "session_env",
]
