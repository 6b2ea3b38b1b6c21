"""Where the app's screenshot goes: the spec's ``logs/`` beside the run's other records, or
else the current directory; never a Downloads folder that may not exist."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from agent_tui.files import real_dir


def save_screenshot(svg: str, places: Iterable[Path]) -> Path:
    """Write ``svg`` into the first of ``places`` that takes it; the file written.  The
    last place's ``OSError`` when none does.  A file already there is never replaced."""
    name = f"screenshot-{time.strftime('%Y%m%d-%H%M%S')}"
    failure: OSError = FileNotFoundError("no place to save a screenshot")
    for place in places:
        try:
            return _write_new(real_dir(place), name, svg.encode("utf-8"))
        except OSError as exc:
            failure = exc
    raise failure


def _write_new(directory: Path, name: str, data: bytes) -> Path:
    """``name.svg`` in ``directory`` (``name-2.svg`` if that is taken, and so on), made
    exclusively and readable by its owner only: a screenshot shows what the run shows."""
    for number in range(1, 100):
        path = directory / (f"{name}.svg" if number == 1 else f"{name}-{number}.svg")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return path
    raise FileExistsError(f"{directory} holds 99 screenshots named {name}")
