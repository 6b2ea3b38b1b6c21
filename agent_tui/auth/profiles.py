"""The profile store: named Claude config dirs, the user's order, one active profile.

The file holds no secrets (a profile names where its token lives, never the token): it is
written atomically with mode 0600, and a save that would write anything token-like is refused.
Changes are in memory until :meth:`ProfileStore.save`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent_tui.auth.credentials import Resolution, resolve
from agent_tui.auth.redaction import redact
from agent_tui.config import ConfigError, Settings, profiles_path
from agent_tui.files import TooLarge, atomic_write_text, read_bounded

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
"""A name is shown, typed and used in paths: ``..`` or ``-x`` would be none of those well."""
_NAME = re.compile(NAME_PATTERN)
MAX_PROFILES_BYTES = 1024 * 1024
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnknownProfileError(ConfigError, KeyError):
    """No profile by that name; a ``KeyError`` too, for dict-like callers."""

    __str__ = ConfigError.__str__


class Profile(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    config_dir: str | None = None
    """Stored verbatim: hashed for the keychain name and passed as CLAUDE_CONFIG_DIR as is."""
    token_env: str | None = None
    """Name of an environment variable that holds this profile's token (never the token)."""
    description: str = ""
    monthly_budget_usd: float | None = Field(None, gt=0, allow_inf_nan=False)
    """What this account may spend per month (its plan's Agent SDK credit, say); None: the
    monthly_budget_usd setting's."""
    billing_day: int | None = Field(None, ge=1, le=31)
    """The day of the month its budget starts again; None: the billing_day setting's."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"profile name {value!r} must be 1-40 ASCII letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        return value

    @field_validator("config_dir")
    @classmethod
    def _absolute_dir(cls, value: str | None) -> str | None:
        """The CLI gets this string as is, with no shell to expand ``~`` or a relative path."""
        if not value:
            return None
        if not os.path.isabs(value):
            raise ValueError(
                f"config dir {value!r} must be an absolute path "
                "(`agent-tui profiles add` expands ~ for you)"
            )
        return value

    @field_validator("token_env")
    @classmethod
    def _env_var_name(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _ENV_NAME.match(value):
            raise ValueError(
                "token env must be the name of an environment variable, like "
                "WORK_CLAUDE_TOKEN, not the token itself"
            )
        return value


class ProfilesFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    profiles: list[Profile] = Field(default_factory=list)
    active: str | None = None
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _unique_names(self) -> ProfilesFile:
        seen: set[str] = set()
        for profile in self.profiles:
            if profile.name in seen:
                raise ValueError(f"profile name {profile.name!r} appears twice")
            seen.add(profile.name)
        return self


def _first_error(exc: ValidationError) -> str:
    """Pydantic's first complaint as a clause: ``profiles.0.name: profile name … must …``."""
    first = exc.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {message}" if where else message


class ProfileStore:
    def __init__(self, data: ProfilesFile, path: Path | None) -> None:
        self.data = data
        self.path = path

    @classmethod
    def load(cls, path: Path | str | None = None) -> ProfileStore:
        """The store at ``path`` (default: the app's profiles file); missing means empty."""
        path = Path(path) if path is not None else profiles_path()
        try:
            text = read_bounded(path, MAX_PROFILES_BYTES).decode("utf-8")
        except FileNotFoundError:
            return cls(ProfilesFile(), path)
        except TooLarge:
            raise ConfigError(f"{path} is larger than 1 MB: not a profiles file") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigError(f"cannot read {path} ({reason})") from None
        try:
            data = ProfilesFile.model_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}): fix or remove it"
            ) from None
        except ValidationError as exc:
            raise ConfigError(
                f"{path} is not a valid profiles file ({_first_error(exc)}): fix or remove it"
            ) from None
        except (RecursionError, ValueError) as exc:  # nested too deeply, a 5000-digit number
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise ConfigError(
                f"{path} is not a profiles file ({reason}): fix or remove it"
            ) from None
        return cls(data, path)

    def reload(self) -> None:
        """Read the file again (profiles added or removed since): ``ConfigError`` leaves the
        store as it was.  An in-memory store has nothing to read."""
        if self.path is not None:
            self.data = ProfileStore.load(self.path).data

    @classmethod
    def in_memory(cls, profiles: Iterable[Profile], active: str | None = None) -> ProfileStore:
        """A store that is never written: the demo's and the tests'."""
        try:
            data = ProfilesFile(profiles=list(profiles), active=active)
        except ValidationError as exc:
            raise ConfigError(f"invalid profiles ({_first_error(exc)})") from None
        return cls(data, None)

    def save(self) -> None:
        """Write atomically with mode 0600; a no-op for an in-memory store."""
        if self.path is None:
            return
        text = self.data.model_dump_json(indent=2, exclude_none=True) + "\n"
        if redact(text) != text:
            raise ConfigError(
                f"refusing to save {self.path}: a field looks like a token; profiles name the "
                "variable that holds a token (--token-env), never the token"
            )
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write_text(self.path, text, mode=0o600)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(f"cannot save {self.path} ({reason}); nothing was changed") from None

    @property
    def settings(self) -> Settings:
        return self.data.settings

    def names(self) -> list[str]:
        """Profile names in the user's order."""
        return [profile.name for profile in self.data.profiles]

    def get(self, name: str) -> Profile:
        for profile in self.data.profiles:
            if profile.name == name:
                return profile
        known = ", ".join(self.names()) or "none yet"
        raise UnknownProfileError(
            f"no profile named {name!r} (profiles: {known}; see: agent-tui profiles list)"
        )

    def active_profile(self) -> Profile | None:
        if self.data.active is None or self.data.active not in self.names():
            return None
        return self.get(self.data.active)

    def add(
        self,
        name: str,
        config_dir: str | None = None,
        token_env: str | None = None,
        description: str = "",
    ) -> Profile:
        """Append a profile; the first one added becomes active."""
        if name in self.names():
            raise ConfigError(f"a profile named {name!r} already exists")
        try:
            profile = Profile(
                name=name, config_dir=config_dir, token_env=token_env, description=description
            )
        except ValidationError as exc:
            raise ConfigError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        self.data.profiles.append(profile)
        if self.data.active is None:
            self.data.active = name
        return profile

    def set_budget(
        self, name: str, monthly_usd: float | None, billing_day: int | None = None
    ) -> Profile:
        """Set what ``name`` may spend per month (None: the setting's), and the day its
        month starts (None: keep it)."""
        profile = self.get(name)
        fields = profile.model_dump()
        fields["monthly_budget_usd"] = monthly_usd
        if billing_day is not None:
            fields["billing_day"] = billing_day
        try:
            updated = Profile.model_validate(fields)
        except ValidationError as exc:
            raise ConfigError(_first_error(exc)) from None
        index = self.data.profiles.index(profile)
        self.data.profiles[index] = updated
        return updated

    def remove(self, name: str) -> None:
        """Forget the profile (its config dir and keychain entry are left alone)."""
        self.data.profiles.remove(self.get(name))
        if self.data.active == name:
            self.data.active = None

    def use(self, name: str) -> None:
        self.get(name)
        self.data.active = name

    def next_usable(
        self, after: str, resolver: Callable[[Profile], Resolution] = resolve
    ) -> str | None:
        """The next profile after ``after`` in the user's order, wrapping, that resolves usable.

        ``after`` itself is never the answer: switching to it would change nothing.
        """
        names = self.names()
        start = names.index(after) + 1 if after in names else 0
        for offset in range(len(names)):
            candidate = names[(start + offset) % len(names)]
            if candidate != after and resolver(self.get(candidate)).usable:
                return candidate
        return None
