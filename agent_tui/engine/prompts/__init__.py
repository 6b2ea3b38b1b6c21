"""Prompt templates live beside this file as Markdown; ``render`` fills them in."""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath(f"{name}.md").read_text("utf-8"))


def render(name: str, **values: object) -> str:
    """Fill template ``name`` (a file ``<name>.md`` here); a missing value is an error."""
    return _template(name).substitute({k: str(v) for k, v in values.items()})
