"""Find the stylesheets: inside an installed wheel, or the repo's top-level ``styles/``."""

from __future__ import annotations

from pathlib import Path

import agent_tui

_PACKAGE = Path(agent_tui.__file__).parent


def styles_path(name: str) -> Path:
    for directory in (_PACKAGE / "styles", _PACKAGE.parent / "styles"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"stylesheet {name} is missing from the installation")
