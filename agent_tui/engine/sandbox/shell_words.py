"""A reader of the shell commands an agent sends to Bash, for the guard to judge.

It reads what bash would read: quotes and escapes (``$'\\x2f'`` decoded), parameter
expansions (names kept, values unknown), redirections with or without spaces
(``echo x>/abs``), here-documents, and lists and pipelines split into simple commands.
What it cannot read for certain (command or process substitution, shell control
structures, an unclosed quote) raises ``Unsure``: the guard then denies.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

SAFE_SPECIALS = frozenset("?#$!-")
"""Special parameters whose value cannot name a path."""
MAX_ALTERNATIVES = 64
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\+?=")
_SPECIAL = set("?#$!*@-0123456789")
_REDIRECTS = ("<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">|", ">&", "&>", "<", ">")
_CONTROLS = (";;&", "&&", "||", "|&", ";;", ";&", ";", "&", "|", "(", ")")
_CONTROL_WORDS = frozenset(
    {"if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done", "case", "esac",
     "select", "function", "coproc", "[[", "]]"}
)  # fmt: skip
_PREFIX_WORDS = frozenset({"!", "time", "{", "}"})
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
    "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
EXPANSION = "\0"
"""Stands in a word's text for the unknown value of an expansion."""


class Unsure(ValueError):
    """The command cannot be read for certain; the message says why, for the agent."""


@dataclass
class Word:
    """One shell word after quote removal: ``active[i]`` is False where ``text[i]`` was
    quoted (no glob, brace or tilde meaning there)."""

    text: str = ""
    active: list[bool] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)

    def add(self, chars: str, active: bool) -> None:
        self.text += chars
        self.active += [active] * len(chars)

    def tail(self, start: int) -> Word:
        return Word(self.text[start:], self.active[start:], self.expansions)

    @property
    def unsafe_expansions(self) -> list[str]:
        return [name for name in self.expansions if name not in SAFE_SPECIALS]


@dataclass
class Redirect:
    op: str
    target: Word


@dataclass
class Command:
    """A simple command: ``NAME=value`` prefixes, words, and redirections."""

    assignments: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


class _Lexer:
    def __init__(self, line: str) -> None:
        self.s = line
        self.i = 0
        self.tokens: list[tuple[str, object]] = []
        self.word: Word | None = None
        self.heredocs: list[tuple[str, bool, bool]] = []  # delimiter, quoted, strip tabs

    def run(self) -> list[tuple[str, object]]:
        while self.i < len(self.s):
            self._step()
        self._end_word()
        if self.heredocs:
            self._heredoc_bodies()
        return self.tokens

    def _peek(self, offset: int = 0) -> str:
        index = self.i + offset
        return self.s[index] if index < len(self.s) else ""

    def _current(self) -> Word:
        if self.word is None:
            self.word = Word()
        return self.word

    def _end_word(self) -> None:
        if self.word is None:
            return
        self.tokens.append(("word", self.word))
        if self.tokens[-2:-1] in ([("redirect", "<<")], [("redirect", "<<-")]):
            self.note_heredoc(self.word, self.tokens[-2][1] == "<<-")
        self.word = None

    def _step(self) -> None:
        c = self._peek()
        if c in " \t":
            self._end_word()
            self.i += 1
        elif c == "\n":
            self._end_word()
            self.tokens.append(("op", ";"))
            self.i += 1
            if self.heredocs:
                self._heredoc_bodies()
        elif c == "#" and self.word is None:
            end = self.s.find("\n", self.i)
            self.i = len(self.s) if end < 0 else end
        elif c == "\\":
            self._escape()
        elif c == "'":
            self._single_quoted()
        elif c == '"':
            self.i += 1
            self._double_quoted()
        elif c == "$":
            self._dollar(quoted=False)
        elif c == "`":
            raise Unsure("command substitution (`…`) is not allowed; run one plain command")
        elif c in "<>" and self._peek(1) == "(":
            raise Unsure("process substitution is not allowed; run one plain command")
        elif c in ";&|()<>":
            self._operator()
        else:
            self._current().add(c, True)
            self.i += 1

    def _escape(self) -> None:
        following = self._peek(1)
        self.i += 2
        if following == "\n":
            return  # a line continuation
        self._current().add(following or "\\", False)

    def _single_quoted(self) -> None:
        end = self.s.find("'", self.i + 1)
        if end < 0:
            raise Unsure("a quote is not closed")
        self._current().add(self.s[self.i + 1 : end], False)
        self.i = end + 1

    def _double_quoted(self) -> None:
        word = self._current()
        while True:
            c = self._peek()
            if c == "":
                raise Unsure("a quote is not closed")
            if c == '"':
                self.i += 1
                return
            if c == "\\" and self._peek(1) in '$`"\\\n':
                if self._peek(1) != "\n":
                    word.add(self._peek(1), False)
                self.i += 2
            elif c == "$":
                self._dollar(quoted=True)
            elif c == "`":
                raise Unsure("command substitution (`…`) is not allowed; run one plain command")
            else:
                word.add(c, False)
                self.i += 1

    def _dollar(self, quoted: bool) -> None:
        following = self._peek(1)
        word = self._current()
        if following == "(":
            raise Unsure("command substitution ($(…)) is not allowed; run one plain command")
        if following == "'" and not quoted:
            self.i += 2
            word.add(self._ansi_c(), False)
        elif following == '"' and not quoted:
            self.i += 2
            self._double_quoted()
        elif following == "{":
            end = self.s.find("}", self.i)
            if end < 0:
                raise Unsure("a ${…} is not closed")
            inner = self.s[self.i + 2 : end]
            if "$(" in inner or "`" in inner:
                raise Unsure("command substitution is not allowed; run one plain command")
            self._expansion(word, inner)
            self.i = end + 1
        elif following in _SPECIAL and following:
            self._expansion(word, following)
            self.i += 2
        elif _NAME.match(self.s, self.i + 1):
            name = _NAME.match(self.s, self.i + 1).group(0)  # type: ignore[union-attr]
            self._expansion(word, name)
            self.i += 1 + len(name)
        else:
            word.add("$", not quoted)
            self.i += 1

    @staticmethod
    def _expansion(word: Word, name: str) -> None:
        word.expansions.append(name)
        word.add(EXPANSION, False)

    def _ansi_c(self) -> str:
        """The text of ``$'…'`` with its escapes decoded, as bash does."""
        out = []
        while True:
            c = self._peek()
            if c == "":
                raise Unsure("a quote is not closed")
            self.i += 1
            if c == "'":
                return "".join(out)
            if c != "\\":
                out.append(c)
                continue
            out.append(self._ansi_escape())

    def _ansi_escape(self) -> str:
        c = self._peek()
        self.i += 1
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c]
        lengths = {"x": (16, 2), "u": (16, 4), "U": (16, 8)}
        if c in lengths:
            base, most = lengths[c]
            digits = re.match(rf"[0-9A-Fa-f]{{1,{most}}}", self.s[self.i :])
            if not digits:
                return "\\" + c
            self.i += len(digits.group(0))
            return chr(min(int(digits.group(0), base), 0x10FFFF))
        if c in "01234567":
            digits = re.match(r"[0-7]{0,2}", self.s[self.i :]).group(0)  # type: ignore[union-attr]
            self.i += len(digits)
            return chr(int(c + digits, 8) & 0xFF)
        if c == "c" and self._peek():
            self.i += 1
            return chr(ord(self.s[self.i - 1]) & 0x1F)
        return "\\" + c

    def _operator(self) -> None:
        fd_word = self.word
        for op in _REDIRECTS:
            if self.s.startswith(op, self.i):
                if fd_word is not None and not (fd_word.text.isdigit() and all(fd_word.active)):
                    self._end_word()
                else:
                    self.word = None  # a file descriptor number: part of the operator
                self.i += len(op)
                self.tokens.append(("redirect", op))
                return
        self._end_word()
        for op in _CONTROLS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                self.tokens.append(("op", op))
                return
        raise Unsure(f"cannot read {self._peek()!r}")  # pragma: no cover - every char is above

    def note_heredoc(self, delimiter: Word, strip_tabs: bool) -> None:
        self.heredocs.append((delimiter.text, not all(delimiter.active), strip_tabs))

    def _heredoc_bodies(self) -> None:
        """Skip each pending here-document's lines; an unquoted one must expand nothing."""
        for delimiter, quoted, strip_tabs in self.heredocs:
            while self.i < len(self.s):
                end = self.s.find("\n", self.i)
                end = len(self.s) if end < 0 else end
                line = self.s[self.i : end]
                self.i = end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
                if not quoted and any(c in line for c in "$`\\"):
                    raise Unsure(
                        "a here-document with an unquoted delimiter expands $ and `: "
                        "quote the delimiter (<<'EOF')"
                    )
        self.heredocs = []


def parse(line: str) -> list[Command]:
    """The simple commands of ``line``, in order; ``Unsure`` when it cannot be read."""
    lexer = _Lexer(line)
    tokens = lexer.run()
    commands: list[Command] = []
    current = Command()
    expect_target: str | None = None
    for kind, value in tokens:
        if expect_target is not None:
            if kind != "word":
                raise Unsure(f"a redirection ({expect_target}) has no target")
            current.redirects.append(Redirect(expect_target, value))  # type: ignore[arg-type]
            expect_target = None
        elif kind == "redirect":
            expect_target = str(value)
        elif kind == "op":
            if value == "(" and current.words:
                raise Unsure("function definitions are not allowed; run one plain command")
            commands.append(current)
            current = Command()
        else:
            _add_word(current, value)  # type: ignore[arg-type]
    if expect_target is not None:
        raise Unsure(f"a redirection ({expect_target}) has no target")
    commands.append(current)
    return [c for c in commands if c.words or c.assignments or c.redirects]


def _add_word(command: Command, word: Word) -> None:
    if not command.words and not command.redirects:
        if word.text in _CONTROL_WORDS and all(word.active):
            raise Unsure(
                "shell control structures (if, for, while, case…) are not allowed: "
                "run one plain command at a time"
            )
        if word.text in _PREFIX_WORDS and all(word.active):
            return
        assignment = _ASSIGNMENT.match(word.text)
        if assignment and all(word.active[: assignment.end()]):
            command.assignments.append((assignment.group(1), word.tail(assignment.end())))
            return
    command.words.append(word)


def expand_braces(word: Word) -> list[Word]:
    """The words an unquoted ``{a,b}`` makes, as bash's brace expansion (nested too)."""
    results = [word]
    done: list[Word] = []
    while results:
        current = results.pop()
        split = _first_brace(current)
        if split is None:
            done.append(current)
            continue
        start, commas, end = split
        bounds = [start, *commas, end]
        for left, right in itertools.pairwise(bounds):
            piece = Word(
                current.text[:start] + current.text[left + 1 : right] + current.text[end + 1 :],
                current.active[:start]
                + current.active[left + 1 : right]
                + current.active[end + 1 :],
                current.expansions,
            )
            results.append(piece)
        if len(results) + len(done) > MAX_ALTERNATIVES:
            raise Unsure("a brace expansion makes too many words")
    return done[::-1]


def _first_brace(word: Word) -> tuple[int, list[int], int] | None:
    """The first unquoted ``{…,…}``: its opening index, top-level commas, closing index."""
    for start, char in enumerate(word.text):
        if char != "{" or not word.active[start]:
            continue
        depth, commas = 0, []
        for index in range(start + 1, len(word.text)):
            if not word.active[index]:
                continue
            c = word.text[index]
            if c == "{":
                depth += 1
            elif c == "}" and depth:
                depth -= 1
            elif c == "}":
                if commas:
                    return start, commas, index
                break
            elif c == "," and not depth:
                commas.append(index)
    return None
