"""The profile store: named Claude config dirs, the user's order, one active profile.

The file holds no secrets (a profile names where its token lives, never the token) and is
written atomically with mode 0600.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_tui.atomic import atomic_write_text
from agent_tui.config import ConfigError, Settings, profiles_path

NAME_PATTERN = r"^[A-Za-z0-9._-]{1,40}$"


class Profile(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=NAME_PATTERN)
    config_dir: str | None = None
    """Stored verbatim: hashed for the keychain name and passed as CLAUDE_CONFIG_DIR as is."""
    token_env: str | None = None
    """Name of an environment variable that holds this profile's token."""
    description: str = ""

    @field_validator("config_dir")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        return value or None


class ProfilesFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    profiles: list[Profile] = Field(default_factory=list)
    active: str | None = None
    settings: Settings = Field(default_factory=Settings)


class ProfileStore:
    def __init__(self, data: ProfilesFile, path: Path | None) -> None:
        self.data = data
        self.path = path

    @classmethod
    def load(cls, path: Path | None = None) -> ProfileStore:
        path = path or profiles_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(ProfilesFile(), path)
        except OSError as exc:
            raise ConfigError(f"cannot read {path} ({exc.strerror})") from None
        try:
            data = ProfilesFile.model_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{path}: {where}: {first['msg'].lower()}") from None
        return cls(data, path)

    @classmethod
    def in_memory(cls, profiles: list[Profile], active: str | None = None) -> ProfileStore:
        """A store that is never written: the demo's and the tests'."""
        return cls(ProfilesFile(profiles=list(profiles), active=active), None)

    def save(self) -> None:
        if self.path is None:
            return
        text = self.data.model_dump_json(indent=2, exclude_none=True) + "\n"
        atomic_write_text(self.path, text, mode=0o600)

    @property
    def settings(self) -> Settings:
        return self.data.settings

    def names(self) -> list[str]:
        return [p.name for p in self.data.profiles]

    def get(self, name: str) -> Profile:
        for profile in self.data.profiles:
            if profile.name == name:
                return profile
        raise KeyError(name)

    def active_profile(self) -> Profile | None:
        if self.data.active is None:
            return None
        try:
            return self.get(self.data.active)
        except KeyError:
            return None

    def add(
        self, name: str, config_dir: str | None = None, token_env: str | None = None
    ) -> Profile:
        if name in self.names():
            raise ConfigError(f"a profile named {name!r} already exists")
        try:
            profile = Profile(name=name, config_dir=config_dir, token_env=token_env)
        except ValidationError:
            raise ConfigError(
                f"profile name {name!r} must be 1-40 letters, digits, '.', '_' or '-'"
            ) from None
        self.data.profiles.append(profile)
        if self.data.active is None:
            self.data.active = name
        return profile

    def remove(self, name: str) -> None:
        profile = self._existing(name)
        self.data.profiles.remove(profile)
        if self.data.active == name:
            self.data.active = None

    def use(self, name: str) -> None:
        self._existing(name)
        self.data.active = name

    def _existing(self, name: str) -> Profile:
        try:
            return self.get(name)
        except KeyError:
            raise ConfigError(f"no profile named {name!r} (see: agent-tui profiles list)") from None

    def next_usable(self, after: str, resolver: Callable | None = None) -> str | None:
        """The next profile after ``after`` in the user's order (wrapping) that resolves."""
        from agent_tui.auth.credentials import resolve

        check = resolver or resolve
        names = self.names()
        start = names.index(after) + 1 if after in names else 0
        for offset in range(len(names)):
            candidate = names[(start + offset) % len(names)]
            if candidate != after and check(self.get(candidate)).usable:
                return candidate
        return None
