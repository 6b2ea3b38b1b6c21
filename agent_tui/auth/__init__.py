"""Auth profiles: which Claude account a session uses, and how its credential is found.

Import the submodules directly (``credentials``, ``keychain``, ``profiles``, ``commands``):
nothing is re-exported here, so the app can use ``credentials.redact`` without loading
pydantic or keyring before its first frame.
"""
