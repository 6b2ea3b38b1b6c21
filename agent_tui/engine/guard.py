"""PreToolUse guard: Bash only from an allowlist, file writes only inside the project.

As root the CLI refuses ``bypassPermissions``, so sessions run in ``acceptEdits`` and this
hook is what keeps an autonomous agent inside its project.  A denial carries a reason the
agent sees, so it can change course instead of retrying blindly.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEFAULT_BASH_ALLOWLIST: tuple[str, ...] = (
    "ls", "cat", "head", "tail", "wc", "grep", "rg", "find", "echo", "printf", "pwd",
    "mkdir", "touch", "cp", "mv", "diff", "sort", "uniq", "true", "false", "test", "which",
    "python", "python3", "pytest", "ruff", "mypy", "git", "node", "npm", "npx", "make",
    "cargo", "go",
)  # fmt: skip

WRITE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
               "NotebookEdit": "notebook_path"}  # fmt: skip

_FD_DUPLICATION = re.compile(r"\d*[<>]&(?:\d+|-)")
_OPERATORS = {";", "&", "|", "&&", "||", "|&", ";;", "(", ")"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SAFE_OUTSIDE_PATHS = {"/dev/null", "/dev/stdout", "/dev/stderr"}


class Guard:
    """Decides each tool call before the CLI runs it."""

    def __init__(self, project_dir: Path | str, bash_allowlist: Iterable[str] | None = None):
        self.project_dir = Path(os.path.realpath(project_dir))
        self.bash_allowlist = frozenset(bash_allowlist or DEFAULT_BASH_ALLOWLIST)

    def check(self, tool_name: str, tool_input: dict[str, Any]) -> str | None:
        """The reason to deny this call, or None to let the normal permission rules decide."""
        if tool_name == "Bash":
            return self._check_bash(str(tool_input.get("command", "")))
        key = WRITE_TOOLS.get(tool_name)
        if key is not None:
            target = str(tool_input.get(key, ""))
            if not self.inside_project(target):
                return f"{tool_name} denied: outside the project ({self.project_dir}): {target}"
        return None

    async def hook(self, input_data: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        """The SDK's PreToolUse callback shape."""
        reason = self.check(
            str(input_data.get("tool_name", "")), input_data.get("tool_input") or {}
        )
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
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = self.project_dir / candidate
        resolved = Path(os.path.realpath(candidate))
        return resolved == self.project_dir or self.project_dir in resolved.parents

    def _check_bash(self, command: str) -> str | None:
        if "`" in command or "$(" in command or "<(" in command or ">(" in command:
            return "Bash denied: command substitution is not allowed; run one plain command."
        try:
            segments = _split_commands(command)
        except ValueError:
            return f"Bash denied: cannot parse {command!r}."
        for words in segments:
            reason = self._check_segment(words)
            if reason:
                return reason
        return None

    def _check_segment(self, words: list[str]) -> str | None:
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
        if not words:
            return None
        program = os.path.basename(words[0])
        if program not in self.bash_allowlist:
            allowed = ", ".join(sorted(self.bash_allowlist))
            return f"Bash denied: {program!r} is not in the allowlist ({allowed})."
        for word in words[1:]:
            target = self._path_in(word)
            if target is not None and not self.inside_project(target):
                return f"Bash denied: outside the project ({self.project_dir}): {target}"
        return None

    def _path_in(self, word: str) -> str | None:
        """The path an argument names (after a redirect or ``--opt=``), if it names one."""
        target = word.lstrip("<>0123456789&")
        if target.startswith("-"):
            target = target.partition("=")[2]
        if not target or target in _SAFE_OUTSIDE_PATHS:
            return None
        looks_like_path = "/" in target or target.startswith(("~", ".."))
        if looks_like_path or os.path.lexists(self.project_dir / target):
            return target
        return None


def _split_commands(command: str) -> list[list[str]]:
    """Split a shell line into simple commands, quotes respected, at ``; & | && ||``."""
    command = _FD_DUPLICATION.sub(" ", command).replace("&>", ">").replace("\n", " ; ")
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in _OPERATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [words for words in segments if words]
