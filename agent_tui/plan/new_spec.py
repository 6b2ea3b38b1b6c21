"""A new spec from a sentence (or a file): the next numbered ``NNN-slug`` dir with its
``spec.md``, there whole or not at all.

The dir is laid out beside the specs, then renamed into place under a number no other spec
has: a reader (a run listing the specs, ``ls``) never sees it half-made, and an existing
spec is never written into.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import unicodedata
from pathlib import Path

from agent_tui.files import NotRegularFile, TooLarge, read_bounded
from agent_tui.plan.specs import SPECS_SUBDIR
from agent_tui.plan.store import PlanError

MAX_SLUG_CHARS = 40
MAX_SPEC_BYTES = 256 * 1024
"""A spec is prose for a planner to read: more than this is not one."""
NUMBERED = re.compile(r"^(\d+)(?:-|$)")
PLACE_TRIES = 20
"""Numbers tried when others take the next one first (other ``new`` commands at once)."""


def slug_of(title: str) -> str:
    """Lower-case ASCII words joined by ``-``, cut at a word within ``MAX_SLUG_CHARS``."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > MAX_SLUG_CHARS:
            break
        slug = longer
    if not slug and words:
        slug = words[0][:MAX_SLUG_CHARS]
    return slug or "spec"


def next_number(specs_root: Path) -> int:
    """One past the highest number any dir under ``specs_root`` has (1 for the first)."""
    numbers = [0]
    if specs_root.is_dir():
        for entry in specs_root.iterdir():
            found = NUMBERED.match(entry.name)
            if found:
                numbers.append(int(found.group(1)))
    return max(numbers) + 1


def spec_from(sentence: str | None, from_file: str | None) -> tuple[str, str]:
    """``spec.md``'s text and the title its slug comes from; one sentence when the input
    cannot make a spec."""
    body = read_spec_file(from_file) if from_file is not None else None
    if sentence is not None:
        title = sentence.strip()
        if not title:
            raise PlanError("the sentence is empty: say in a few words what to build")
        first, _, rest = title.partition("\n")
        text = f"# {first.strip()}\n"
        if rest.strip():
            text += f"\n{rest.strip()}\n"
        if body is not None:
            text += f"\n{body}"
        return text, first
    if body is None:
        raise PlanError('say what to build: agent-tui new "SENTENCE", or --from FILE')
    first = next(line for line in body.splitlines() if line.strip())
    return body, first.strip().lstrip("#").strip()


def read_spec_file(path: str) -> str:
    """A spec written beforehand: a UTF-8 text file of some words, at most 256 KiB."""
    try:
        data = read_bounded(Path(path).expanduser(), MAX_SPEC_BYTES)
    except FileNotFoundError:
        raise PlanError(f"--from {path}: no such file") from None
    except TooLarge:
        raise PlanError(f"--from {path}: larger than 256 KiB, which is not a spec") from None
    except NotRegularFile:
        raise PlanError(f"--from {path}: not a regular file") from None
    except OSError as exc:
        raise PlanError(f"--from {path}: cannot read it ({exc.strerror})") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise PlanError(f"--from {path}: not UTF-8 text") from None
    if not text.strip():
        raise PlanError(f"--from {path}: the file is empty")
    return text if text.endswith("\n") else text + "\n"


def create_spec(project_dir: Path, text: str, title: str) -> Path:
    """Make ``DIR/.auto-claude/specs/NNN-slug/spec.md``; the new spec dir.

    ``OSError`` (a dir that cannot be written) leaves nothing behind."""
    specs_root = project_dir / SPECS_SUBDIR
    specs_root.mkdir(parents=True, exist_ok=True)
    staging = specs_root.parent / f".new-spec-{secrets.token_hex(6)}"
    os.mkdir(staging)  # as any dir the user makes: the umask decides who may read it
    try:
        _write_synced(staging / "spec.md", text)
        return _place(staging, specs_root, slug_of(title))
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _place(staging: Path, specs_root: Path, slug: str) -> Path:
    """Rename the laid-out dir to the next free ``NNN-slug``; never over anything."""
    for _ in range(PLACE_TRIES):
        target = specs_root / f"{next_number(specs_root):03d}-{slug}"
        if os.path.lexists(target):
            continue
        try:
            os.rename(staging, target)
        except OSError:
            if not os.path.lexists(target):
                raise
            continue  # another spec took the name between the look and the rename
        return target
    raise PlanError(f"no free spec number in {specs_root}: too many new specs at once")


def _write_synced(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
