"""PreToolUse guard: Bash only from an allowlist, paths only inside the project.

The second layer: Claude Code's sandbox is the boundary (``containment.py``).  Without it
(containment ``off``, or ``auto`` where the sandbox cannot start) this guard is a policy
that a determined agent can get past (an allowed ``python3`` runs any code), not a wall.

It reads each Bash command as bash would (``shell_words``), and denies where it cannot be
sure: an expansion whose value it does not know, a path outside the project after quotes,
braces, ``~`` and globs, a shell construct it does not read.  It fails closed: any error
while checking is a denial.  A denial carries a reason the agent sees, so it can change
course instead of retrying blindly.
"""

from __future__ import annotations

import fnmatch
import os
import pwd
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent_tui.engine.sandbox.shell_words import Command, Unsure, Word, expand_braces, parse

DEFAULT_BASH_ALLOWLIST: tuple[str, ...] = (
    "ls", "cat", "head", "tail", "wc", "grep", "rg", "find", "echo", "printf", "pwd",
    "mkdir", "touch", "cp", "mv", "diff", "sort", "uniq", "true", "false", "test", "which",
    "python", "python3", "pytest", "ruff", "mypy", "git", "node", "npm", "npx", "make",
    "cargo", "go",
)  # fmt: skip

WRITE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
               "NotebookEdit": "notebook_path"}  # fmt: skip

_SAFE_OUTSIDE_PATHS = {"/dev/null", "/dev/stdout", "/dev/stderr"}
_DATA_REDIRECTS = {"<<", "<<-", "<<<"}
_GLOB = set("*?[")
_FIND_EXEC = {"-exec", "-execdir", "-ok", "-okdir"}
_INLINE_CODE = {"python": ("-c",), "python3": ("-c",), "node": ("-e", "--eval", "-p", "--print")}
_CODE_PATH = re.compile(r"""['"]((?:/|~|\.\.)[^'"\n]*)""")
_GIT_VALUE_OPTIONS = {"-C", "--git-dir", "--work-tree", "--namespace", "--super-prefix"}
_GIT_DENIED_COMMANDS = {"filter-branch", "daemon", "instaweb", "credential", "send-email"}
_GIT_CONFIG_READS = {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l"}
_GIT_CONFIG_SCOPES = {"--global", "--system", "--file", "-f", "--blob"}
_GIT_CONFIG_KEYS = {"user.name", "user.email"}
_GIT_RUNS_COMMANDS = ("--upload-pack", "--receive-pack", "--exec", "-x", "--extcmd")
GIT_READS = frozenset(
    {
        "status", "diff", "log", "show", "blame", "annotate", "ls-files", "ls-tree",
        "rev-parse", "rev-list", "cat-file", "grep", "describe", "shortlog", "whatchanged",
        "name-rev", "merge-base", "check-ignore", "check-attr", "diff-tree", "diff-files",
        "diff-index", "count-objects", "var", "help", "version", "branch", "tag", "config",
    }
)  # fmt: skip
"""What the agent's git may do in a worktree: read.  agent-tui commits each subtask."""
_GIT_LISTING = {"-a", "--all", "-r", "--remotes", "-v", "-vv", "--list", "-l", "--show-current"}


class Guard:
    """Decides each tool call before the CLI runs it."""

    def __init__(
        self,
        project_dir: Path | str,
        bash_allowlist: Iterable[str] | None = None,
        protected: Iterable[Path | str] = (),
        *,
        git_read_only: bool = False,
    ):
        self.project_dir = Path(os.path.realpath(project_dir))
        self.bash_allowlist = frozenset(bash_allowlist or DEFAULT_BASH_ALLOWLIST)
        self.protected = tuple(Path(os.path.realpath(p)) for p in protected)
        """agent-tui's own records (the spec's logs, memory, lock) and the user's note and
        pause (``HUMAN_INPUT.md``, ``PAUSE``): no tool touches them."""
        self.git_read_only = git_read_only
        """In a worktree: git only reads (its sandbox sees ``.git`` read-only anyway)."""

    def check(self, tool_name: str, tool_input: Any) -> str | None:
        """The reason to deny this call, or None to let the normal permission rules decide."""
        if not isinstance(tool_input, dict):
            return f"{tool_name} denied: its input is not an object"
        if tool_name == "Bash":
            command = tool_input.get("command", "")
            if not isinstance(command, str):
                return "Bash denied: the command is not a string"
            return self._check_bash(command)
        key = WRITE_TOOLS.get(tool_name)
        if key is not None:
            target = tool_input.get(key, "")
            if not isinstance(target, str) or target.startswith("~"):
                return f"{tool_name} denied: give an absolute path inside the project"
            return self._path_problem(tool_name, target)
        return None

    async def hook(self, input_data: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        """The SDK's PreToolUse callback shape; any failure to check is a denial."""
        tool = "the tool call"
        try:
            tool = str(input_data.get("tool_name", "")) or tool
            reason = self.check(tool, input_data.get("tool_input") or {})
        except Exception as exc:  # fail closed: an unchecked call never runs
            reason = f"{tool} denied: the guard could not check it ({type(exc).__name__})"
        if reason is None:
            return {}
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }

    def inside_project(self, path: str) -> bool:
        """True when ``path`` (symlinks followed, even through missing parts) stays inside."""
        if not path:
            return False
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.project_dir / candidate
        resolved = Path(os.path.realpath(candidate))
        return resolved == self.project_dir or self.project_dir in resolved.parents

    def is_protected(self, path: str) -> bool:
        resolved = Path(os.path.realpath(self.project_dir / path))
        return any(resolved == p or p in resolved.parents for p in self.protected)

    def _path_problem(self, tool: str, path: str) -> str | None:
        if not self.inside_project(path):
            return f"{tool} denied: outside the project ({self.project_dir}): {path}"
        if self.is_protected(path):
            return (
                f"{tool} denied: {path} is agent-tui's record of the run or the user's note "
                "or pause, not the agent's"
            )
        return None

    def _check_bash(self, command: str) -> str | None:
        try:
            commands = parse(command)
            for simple in commands:
                reason = self._check_command(simple)
                if reason:
                    return reason
        except Unsure as unsure:
            return f"Bash denied: {unsure}"
        return None

    def _check_command(self, command: Command) -> str | None:
        words = command.words
        values = [w for _, w in command.assignments] + words
        values += [r.target for r in command.redirects]
        for word in values:
            if word.unsafe_expansions:
                name = word.unsafe_expansions[0]
                return (
                    f"Bash denied: ${name} is expanded, and the guard cannot tell to what; "
                    "write the value out"
                )
        for _, value in command.assignments:
            for part in value.text.split(":"):
                reason = self._candidate_problem(part, looks_like_path=False)
                if reason:
                    return reason
        for redirect in command.redirects:
            reason = self._redirect_problem(redirect.op, redirect.target)
            if reason:
                return reason
        if not words:
            return None
        return self._program_problem(words) or self._arguments_problem(words)

    def _redirect_problem(self, op: str, target: Word) -> str | None:
        if op in _DATA_REDIRECTS:
            return None
        if op in (">&", "<&") and (target.text.isdigit() or target.text == "-"):
            return None  # a file descriptor duplicated, as in 2>&1
        for path in self._paths_of(target, options=False):
            reason = self._candidate_problem(path, looks_like_path=True)
            if reason:
                return reason
        return None

    def _program_problem(self, words: list[Word]) -> str | None:
        program = words[0]
        if any(program.active[i] and c in _GLOB | {"{", "~"} for i, c in enumerate(program.text)):
            return "Bash denied: the program's name must be written out, not matched"
        name = os.path.basename(program.text)
        if "/" in program.text and not self.inside_project(program.text):
            return f"Bash denied: outside the project ({self.project_dir}): {program.text}"
        if name not in self.bash_allowlist:
            allowed = ", ".join(sorted(self.bash_allowlist))
            return f"Bash denied: {name!r} is not in the allowlist ({allowed})."
        args = [w.text for w in words[1:]]
        if name == "git":
            return _git_problem(args, read_only=self.git_read_only)
        if name in ("npm", "npx"):
            return _npm_problem(args)
        if name == "find":
            return self._find_problem(words[1:])
        if name in _INLINE_CODE:
            return self._inline_code_problem(args, _INLINE_CODE[name])
        return None

    def _arguments_problem(self, words: list[Word]) -> str | None:
        for word in words[1:]:
            for path in self._paths_of(word, options=True):
                reason = self._candidate_problem(path, looks_like_path=False)
                if reason:
                    return reason
        return None

    def _candidate_problem(self, target: str, *, looks_like_path: bool) -> str | None:
        if not target or target in _SAFE_OUTSIDE_PATHS:
            return None
        pathlike = looks_like_path or "/" in target or target.startswith((".", "~"))
        if not pathlike and not os.path.lexists(self.project_dir / target):
            return None
        return self._path_problem("Bash", target)

    def _paths_of(self, word: Word, *, options: bool) -> list[str]:
        """Every path ``word`` can name once bash has expanded braces, ``~`` and globs."""
        paths = []
        for alternative in expand_braces(word):
            value = _option_value(alternative) if options else alternative
            paths.append(_globbed(self._tilde(value)))
        return paths

    def _tilde(self, word: Word) -> Word:
        if not word.text.startswith("~") or not word.active[0]:
            return word
        head, _, rest = word.text.partition("/")
        if head == "~":
            base = os.path.expanduser("~")
        elif head == "~+":
            base = str(self.project_dir)
        elif head == "~-":
            raise Unsure("~- is the previous directory, which the guard cannot know")
        else:
            try:
                base = pwd.getpwnam(head[1:]).pw_dir
            except KeyError:
                raise Unsure(f"{head} names no user the guard knows") from None
        text = base + ("/" + rest if rest or word.text.endswith("/") else "")
        return Word(text, [False] * len(base) + [True] * (len(text) - len(base)))

    def _find_problem(self, args: list[Word]) -> str | None:
        index = 0
        while index < len(args):
            if args[index].text in _FIND_EXEC:
                end = index + 1
                while end < len(args) and args[end].text not in (";", "+"):
                    end += 1
                inner = Command(words=args[index + 1 : end])
                if not inner.words:
                    return "Bash denied: find -exec needs a command"
                reason = self._check_command(inner)
                if reason:
                    return reason
                index = end
            index += 1
        return None

    def _inline_code_problem(self, args: list[str], flags: tuple[str, ...]) -> str | None:
        for index, arg in enumerate(args):
            code = None
            if arg in flags and index + 1 < len(args):
                code = args[index + 1]
            elif arg.startswith("--") and arg.partition("=")[0] in flags:
                code = arg.partition("=")[2]
            elif any(arg.startswith(f) and len(arg) > len(f) and f[1] != "-" for f in flags):
                code = arg[2:]
            for path in _CODE_PATH.findall(code or ""):
                named = self._tilde(Word(path, [True] * len(path))).text
                reason = self._candidate_problem(named, looks_like_path=True)
                if reason:
                    return reason
        return None


def _option_value(word: Word) -> Word:
    """The path an option carries: ``--dir=/abs`` → ``/abs``, ``-t/abs`` → ``/abs``."""
    if not word.text.startswith("-"):
        return word
    if "=" in word.text:
        return word.tail(word.text.index("=") + 1)
    start = len(word.text) - len(word.text.lstrip("-"))
    while start < len(word.text) and word.text[start].isalpha():
        start += 1
    return word.tail(start)


def _globbed(word: Word) -> str:
    """``word`` as a path, each globbed component that could match ``..`` read as ``..``."""
    parts, start = [], 0
    for index in range(len(word.text) + 1):
        if index == len(word.text) or word.text[index] == "/":
            part = word.text[start:index]
            globbed = any(word.active[start + i] and c in _GLOB for i, c in enumerate(part))
            parts.append(".." if globbed and fnmatch.fnmatchcase("..", part) else part)
            start = index + 1
    return "/".join(parts)


def _git_problem(args: list[str], *, read_only: bool = False) -> str | None:
    index = 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        if option == "-c" or option.startswith(("-c", "--config-env", "--exec-path")):
            return (
                f"Bash denied: git {option} changes git's configuration for one command "
                "(aliases, hooks and helpers run anything); commit with the repository's own"
            )
        index += 2 if option in _GIT_VALUE_OPTIONS else 1
    if index >= len(args):
        return None
    command, rest = args[index], args[index + 1 :]
    if command in _GIT_DENIED_COMMANDS or (command, rest[:1]) in (
        ("submodule", ["foreach"]),
        ("bisect", ["run"]),
    ):
        return f"Bash denied: git {command} {' '.join(rest[:1])} is not allowed".rstrip()
    if any(a == "ext::" or a.startswith(("ext::", *_GIT_RUNS_COMMANDS)) for a in rest):
        return f"Bash denied: this git {command} would run a command of its own"
    if read_only and not _git_reads(command, rest):
        return (
            f"Bash denied: git {command} writes the repository; agent-tui commits each "
            "completed subtask itself, so change the files and set the subtask's status"
        )
    if command == "config":
        return _git_config_problem(rest)
    return None


def _git_reads(command: str, rest: list[str]) -> bool:
    if command not in GIT_READS:
        return False
    if command in ("branch", "tag"):
        return all(arg in _GIT_LISTING for arg in rest)
    if command == "config":
        return any(arg in _GIT_CONFIG_READS for arg in rest)
    return True


def _git_config_problem(args: list[str]) -> str | None:
    if any(a.partition("=")[0] in _GIT_CONFIG_SCOPES for a in args):
        return "Bash denied: git config may change only this repository's configuration"
    if any(a in _GIT_CONFIG_READS for a in args):
        return None
    keys = [a for a in args if not a.startswith("-")]
    if keys and keys[0].lower() not in _GIT_CONFIG_KEYS:
        allowed = ", ".join(sorted(_GIT_CONFIG_KEYS))
        return f"Bash denied: git config may set only {allowed}, not {keys[0]}"
    return None


def _npm_problem(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        nxt = args[index + 1] if index + 1 < len(args) else ""
        if arg in ("-g", "--global", "--location=global") or (arg, nxt) == ("--location", "global"):
            return "Bash denied: npm may install only into the project, not globally"
    if args[:1] == ["config"] and args[1:2] != ["get"] and args[1:2] != ["list"]:
        return "Bash denied: npm config may only be read (get, list)"
    return None
