"""Find a spec directory: a path, or a number/name prefix under ``.auto-claude/specs/``."""

from __future__ import annotations

from pathlib import Path

from agent_tui.plan.store import PlanError

SPECS_SUBDIR = Path(".auto-claude") / "specs"
SPEC_FILES = ("spec.md", "implementation_plan.json")
"""A spec directory has at least one: the task, or its plan."""
SHOWN_FOLDERS = 5


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
    if spec and _looks_like_path(spec):
        return _spec_path(project_dir, spec)
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
            raise PlanError(_no_specs(specs_root, folders))
        raise PlanError(
            f"{len(available)} specs in {specs_root} ({', '.join(available)}): pick one with --spec"
        )
    return (specs_root / _named(specs_root, folders, available, spec)).resolve()


def _named(specs_root: Path, folders: list[str], available: list[str], spec: str) -> str:
    """The folder ``spec`` names: its exact name (even if it is the prefix of another), its
    number, or a name prefix; one sentence when that is none or more than one."""
    exact = [spec] if spec in folders else []
    matches = exact or _matching(available, spec) or _matching(folders, spec)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise PlanError(f"spec {spec!r} is ambiguous: {', '.join(matches)}")
    near = _numbers_starting(available, spec)
    if len(near) > 1:
        raise PlanError(f"spec {spec!r} is ambiguous: {', '.join(near)}")
    if near:
        raise PlanError(
            f"no spec is numbered {spec!r}: did you mean {near[0]}? (give its number or name)"
        )
    listing = ", ".join(available) or "none"
    raise PlanError(f"spec {spec!r} not found under {specs_root} (available: {listing})")


def _no_specs(specs_root: Path, folders: list[str]) -> str:
    """Why there is no spec to default to: no folder at all, or folders that are not specs."""
    if not folders:
        return f'no specs in {specs_root}: agent-tui new "SENTENCE" makes one (or pass --spec PATH)'
    shown = ", ".join(folders[:SHOWN_FOLDERS]) + (", …" if len(folders) > SHOWN_FOLDERS else "")
    has = "has" if len(folders) == 1 else "have"
    return (
        f"no specs in {specs_root}: {shown} {has} neither spec.md nor implementation_plan.json "
        "(a spec holds the task, its plan, or both)"
    )


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or spec.startswith(("~", "."))


def _spec_path(project_dir: Path, spec: str) -> Path:
    """A spec given as a path: relative to the current directory, as any path on a command
    line is, and inside the project.

    The agent may write only inside the project, so a spec outside it could never be
    marked done: each subtask would burn its sessions on denied edits.
    """
    candidate = Path(spec).expanduser()
    if not candidate.is_dir():
        where = f" ({candidate.absolute()})" if not candidate.is_absolute() else ""
        hint = ""
        if not candidate.is_absolute() and (project_dir / candidate).is_dir():
            hint = (
                f"; a relative path is read from the current directory, not the project: "
                f"give {project_dir / candidate}, or run from {project_dir}"
            )
        raise PlanError(f"spec {spec!r}: no such directory{where}{hint}")
    resolved = candidate.resolve()
    if resolved != project_dir and project_dir not in resolved.parents:
        raise PlanError(
            f"spec {spec!r} is outside the project {project_dir}: the agent can only work "
            "inside the project, so put the spec under it"
        )
    return resolved


def _number(name: str) -> str:
    return name.split("-", 1)[0]


def _matching(names: list[str], spec: str) -> list[str]:
    """A number names the spec of that number (``1`` is ``001-…``, never ``010-…``); any
    other text is a name prefix."""
    if spec.isdigit():
        return [n for n in names if _number(n).isdigit() and int(_number(n)) == int(spec)]
    return [name for name in names if name.startswith(spec)]


def _numbers_starting(names: list[str], spec: str) -> list[str]:
    """Specs whose number only starts with ``spec``: said, never picked."""
    if not spec.isdigit():
        return []
    return [n for n in names if _number(n).isdigit() and _number(n).startswith(spec)]
