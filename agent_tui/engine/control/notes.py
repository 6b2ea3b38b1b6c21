"""A note to the next session: ``SPEC_DIR/HUMAN_INPUT.md`` (upstream's name for it).

The app's ``m`` appends to the file; a file the user writes there themselves is taken just
the same.  The next session's prompt carries what the file holds; once that session has
reached the model, the note is moved beside the session's transcript.  Only what was sent
goes: words added while the session ran stay for the next one, and a note edited meanwhile
is left whole, to be sent again, since what the user wrote is never dropped.  With several
lanes the note goes to one session: the first to start while it waits holds it until it
is taken (or that session ends without reaching the model).

The file is replaced, not written in place, even while a command runs: the agent's sandbox
denies the spec dir as a whole, so it stays read-only to the command (a file the sandbox
mounted on its own would be writable once replaced).
"""

from __future__ import annotations

import os
from pathlib import Path

from agent_tui.files import atomic_write_text, read_bounded

NOTE_FILE = "HUMAN_INPUT.md"
MAX_NOTE_BYTES = 64 * 1024
"""More than a person types into a note: a larger file is not put in a prompt."""


class NoteBox:
    def __init__(self, spec_dir: Path) -> None:
        self.path = spec_dir / NOTE_FILE
        self._offered: str | None = None
        """What the holder's prompt carries: the text to take out once it was read."""
        self._holder: object = None
        self.problem: str | None = None
        """Why the file could not be put in the last prompt (it is left as it is)."""

    def read(self) -> str | None:
        """The note, or None when there is none (no file, or only blank lines).

        Raises ``OSError`` (or ``UnicodeDecodeError``) for a file that cannot be used."""
        try:
            raw = read_bounded(self.path, MAX_NOTE_BYTES, follow_symlinks=False)
        except FileNotFoundError:
            return None
        text = raw.decode("utf-8")
        return text if text.strip() else None

    def add(self, text: str) -> None:
        """Append ``text`` to the note, a blank line between it and what is there."""
        note = text.strip()
        if not note:
            return
        current = self.read() or ""
        if current and not current.endswith("\n"):
            current += "\n"
        gap = "\n" if current else ""
        atomic_write_text(self.path, f"{current}{gap}{note}\n")

    def offer(self, holder: object) -> str | None:
        """The note for the prompt ``holder`` (a lane) is making, remembered until it is
        taken, released or offered anew; None while another holder has it, and None with
        ``problem`` set for a file that cannot be read."""
        if self._holder not in (None, holder):
            return None
        self.problem = None
        try:
            self._offered = self.read()
        except (OSError, UnicodeDecodeError) as exc:
            self._offered = None
            reason = getattr(exc, "strerror", None) or str(exc)
            self.problem = f"{self.path} is not put in the prompt: {reason}"
        self._holder = holder if self._offered is not None else None
        return self._offered

    def offered_to(self, holder: object) -> str | None:
        """The note ``holder``'s prompt carries, if any."""
        return self._offered if self._holder is holder else None

    def release(self, holder: object) -> None:
        """``holder``'s session did not reach the model: the note waits for the next."""
        if self._holder is holder:
            self._offered = self._holder = None

    def take(self, holder: object, keep_as: Path) -> bool:
        """``holder``'s session, which carried the note, reached the model: move the note to
        ``keep_as``, leaving anything added since.  False when nothing was taken."""
        if self._holder is not holder:
            return False
        sent, self._offered, self._holder = self._offered, None, None
        if sent is None:
            return False
        current = self.read()
        if current is None or not current.startswith(sent):
            return False  # removed, or edited while the session ran: the next one gets it
        keep_as.parent.mkdir(parents=True, exist_ok=True)
        if current == sent:
            os.replace(self.path, keep_as)
            return True
        atomic_write_text(keep_as, sent)
        atomic_write_text(self.path, current[len(sent) :].lstrip("\n"))
        return True
