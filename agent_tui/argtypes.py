"""Argument types shared by the parsers: argparse turns their errors into one usage error."""

from __future__ import annotations

import argparse


def given(text: str) -> str:
    """A value that must say something: ``--project "$DIR"`` with DIR unset is an error,
    not the current directory (nor, for the other options, their default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
