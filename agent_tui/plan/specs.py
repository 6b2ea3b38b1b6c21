"""Find a spec directory: a path, or a number/name prefix under ``.auto-claude/specs/``."""

from __future__ import annotations

from pathlib import Path

from agent_tui.plan.store import PlanError

SPECS_SUBDIR = Path(".auto-claude") / "specs"
SPEC_FILES = ("spec.md", "implementation_plan.json")
"""A spec directory has at least one: the task, or its plan."""


def find_spec_dir(project_dir: Path, spec: str | None) -> Path:
    """The spec directory to run; raises PlanError with one clear sentence when there is none.

    Every run writes into its spec directory (logs, memory, the plan), so a directory that
    holds neither ``spec.md`` nor ``implementation_plan.json`` is refused: a mistyped path
    must not turn ``/etc`` into a spec.
    """
    found = _find(project_dir, spec)
    if not _is_spec(found):
        raise PlanError(
            f"{found} is not a spec directory: it has neither spec.md nor implementation_plan.json"
        )
    return found


def _is_spec(directory: Path) -> bool:
    return any((directory / name).is_file() for name in SPEC_FILES)


def _find(project_dir: Path, spec: str | None) -> Path:
    specs_root = project_dir / SPECS_SUBDIR
    if spec:
        as_path = Path(spec).expanduser()
        for candidate in (as_path, project_dir / as_path):
            if candidate.is_dir() and (candidate.is_absolute() or "/" in spec):
                return candidate.resolve()
    folders = (
        sorted(p.name for p in specs_root.iterdir() if p.is_dir()) if specs_root.is_dir() else []
    )
    # A folder with neither file (one just made, say) neither is the only spec nor makes a
    # prefix ambiguous; named alone, it is found, and then refused with the reason.
    available = [name for name in folders if _is_spec(specs_root / name)]
    if not spec:
        if len(available) == 1:
            return (specs_root / available[0]).resolve()
        if not available:
            raise PlanError(f"no specs in {specs_root}: create one there or pass --spec PATH")
        raise PlanError(
            f"{len(available)} specs in {specs_root} ({', '.join(available)}): pick one with --spec"
        )
    # The exact name wins, even over a spec it is the prefix of.
    exact = [spec] if spec in folders else []
    matches = exact or _matching(available, spec) or _matching(folders, spec)
    if len(matches) == 1:
        return (specs_root / matches[0]).resolve()
    if not matches:
        listing = ", ".join(available) or "none"
        raise PlanError(f"spec {spec!r} not found under {specs_root} (available: {listing})")
    raise PlanError(f"spec {spec!r} is ambiguous: {', '.join(matches)}")


def _matching(names: list[str], spec: str) -> list[str]:
    """Names equal to or starting with ``spec``; else, for a number, those it numbers."""
    matches = [name for name in names if name == spec or name.startswith(spec)]
    if not matches and spec.isdigit():
        matches = [name for name in names if name.split("-", 1)[0].lstrip("0") == spec.lstrip("0")]
    return matches
