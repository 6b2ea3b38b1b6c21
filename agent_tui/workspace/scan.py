"""A staged diff read for secrets before agent-tui commits it.

The patterns are the redaction's (``auth.redaction.redact``): a line it would mask holds a
token-looking string (an Anthropic key or token, a bearer or ``x-api-key`` header, a
credential variable's value, a token that a session has used).  Only added lines count: a
line the diff removes is leaving the branch, not entering it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from agent_tui.auth.redaction import redact
from agent_tui.text import printable

SHOWN_CHARS = 120
PIECE = 64 * 1024
OVERLAP = 1024
"""Longer than any token the redaction knows, shorter than a piece."""
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    masked: str
    """The line as the redaction shows it: the secret masked, cut to fit one line."""

    def sentence(self) -> str:
        return f"{self.path} line {self.line} holds a token-looking string ({self.masked})"


def scan_diff(diff: bytes) -> list[Finding]:
    """Every added line of a ``git diff -U0`` that the redaction would change."""
    return scan_stream(io.BytesIO(diff))


def scan_stream(diff: IO[bytes], most: int | None = None) -> list[Finding]:
    """``scan_diff`` over a diff read as it comes (at most ``most`` findings): memory stays
    bounded however large a file, or a line of it, the agent wrote."""
    findings: list[Finding] = []
    path = ""
    number = 0
    reported = -1
    header = False
    """Between a file's ``diff --git`` and its first hunk: only there is ``+++ `` a path
    (in a hunk it is an added line that starts with ``++ ``)."""
    for raw, ends in _pieces(diff):
        if raw.startswith(b"diff --git "):
            header = True
            continue
        if header and raw.startswith(b"+++ "):
            target = raw[4:].decode("utf-8", "replace")
            path = target[2:] if target.startswith("b/") else target
            reported = -1  # a line number is the file's own
            continue
        hunk = _HUNK.match(raw)
        if hunk:
            header = False
            number = int(hunk.group(1))
            continue
        if raw.startswith(b"+"):
            text = raw[1:].decode("utf-8", "replace")
            masked = redact(text)
            if masked != text and reported != number:
                findings.append(Finding(path, number, _shown(masked)))
                reported = number
                if most is not None and len(findings) >= most:
                    break
            if ends:
                number += 1
    return findings


def _pieces(diff: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each line of ``diff`` without its line end, and whether the line ends there.  A line
    longer than ``PIECE`` comes in pieces, each after the first starting with the line's
    own first byte and the last ``OVERLAP`` bytes of the piece before it, so a token
    across a cut is whole in one piece."""
    carry = b""
    while chunk := diff.readline(PIECE):
        ends = chunk.endswith(b"\n")
        body = chunk[:-1] if ends else chunk
        piece = carry + body
        yield piece, ends
        carry = b"" if ends else piece[:1] + piece[-OVERLAP:]


def _shown(masked: str) -> str:
    text = printable(masked).strip()
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def masked_bytes(data: bytes) -> bytes:
    """``data`` with every secret the redaction knows masked, the other bytes as they were
    (a patch kept on disk must not hold a token; a masked line may then not apply)."""
    return redact(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
