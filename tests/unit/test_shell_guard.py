"""The guard reads commands as bash would and denies where it cannot be sure; it fails closed."""

from __future__ import annotations

import pytest

from agent_tui.engine.sandbox import guard as guard_module
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.engine.sandbox.shell_words import Unsure, expand_braces, parse


@pytest.fixture
def guard(tmp_path):
    project = tmp_path / "project"
    spec = project / ".auto-claude" / "specs" / "001"
    (spec / "logs").mkdir(parents=True)
    (project / "src").mkdir()
    return Guard(project, protected=[spec / "logs", spec / "memory", spec / ".agent-tui.lock"])


DENIED = {
    "redirect without a space": "echo x>/tmp/abs",
    "stderr redirect": "ls 2>/tmp/err",
    "both streams": "echo hi &>/tmp/out",
    "fd dup to a file": "echo hi >&/tmp/out",
    "appending redirect": "echo x>>../outside.txt",
    "$HOME": "cat $HOME/.ssh/id_rsa",
    "${HOME}": "cat ${HOME}/.ssh/id_rsa",
    "$OLDPWD": "cat $OLDPWD/secret",
    "quoted expansion": 'cat "$HOME/x"',
    "assignment from an expansion": "X=$HOME python3 a.py",
    "~": "cat ~/.netrc",
    "~user": "ls ~root/",
    "~ unknown user": "ls ~nosuchuser; sh -c 'id'",
    "~+": "cat ~+/../outside",
    "~-": "cat ~-/x",
    "brace alternative": "cat {a,/etc/passwd}",
    "nested brace": "cat x{y,{z,/../../etc/passwd}}",
    "ANSI-C quoting": "cat $'\\x2f'etc/passwd",
    "ANSI-C octal": "cat $'\\057etc\\057passwd'",
    "cp -t attached": "cp -t/tmp a.txt",
    "long option value": "cp --target-directory=/tmp a.txt",
    "git config --global": "git config --global user.name x",
    "git config alias": "git config alias.x '!touch /tmp/p'",
    "git config core.fsmonitor": "git config core.fsmonitor 'touch /tmp/p'",
    "git -c alias": "git -c alias.x='!touch /tmp/p' x",
    "git -c fsmonitor": "git -c core.fsmonitor='touch /tmp/p' status",
    "git -C outside": "git -C /tmp status",
    "git rebase --exec": "git rebase --exec 'touch /tmp/p' HEAD~1",
    "git ext:: url": "git clone ext::sh -c touch% /tmp/p",
    "npm -g": "npm i -g left-pad",
    "npm --global": "npm install --global left-pad",
    "npm config set": "npm config set prefix /tmp",
    "list after ;": "ls; cat /etc/passwd",
    "list after &&": "true && cat /etc/passwd",
    "pipeline": "ls | cat /etc/passwd",
    "subshell": "(cat /etc/passwd)",
    "group": "{ cat /etc/passwd; }",
    "newline": "ls\ncat /etc/passwd",
    "backgrounded": "cat /etc/passwd &",
    "command substitution": 'echo "$(id)"',
    "backticks": "echo `id`",
    "process substitution": "diff <(ls) a",
    "control structure": "for f in a; do cat $f; done",
    "function definition": "f() { ls; }",
    "find -exec outside": "find . -exec cat /etc/passwd \\;",
    "find -exec not allowed": "find . -exec rm {} \\;",
    "python -c writes outside": "python3 -c \"open('/tmp/x', 'w').write('x')\"",
    "node -e writes outside": "node -e \"require('fs').writeFileSync('/tmp/x', '')\"",
    "glob matching ..": "cat .*/outside.txt",
    "program outside the project": "/tmp/evil/python3 a.py",
    "program by glob": "pytho* -V",
    "unquoted here-document expanding": "cat <<EOF\n$(id)\nEOF",
    "here-document written outside": "cat > /tmp/x <<'EOF'\nhi\nEOF",
    "unclosed quote": "echo 'oops",
    "agent-tui's transcripts": "echo forged >> .auto-claude/specs/001/logs/session-001.jsonl",
    "agent-tui's lock": "touch .auto-claude/specs/001/.agent-tui.lock",
    "not in the allowlist": "rm -rf src",
}

ALLOWED = {
    "plain": "ls -la",
    "tests": "python3 -m pytest -q",
    "inline code inside": "python3 -c 'import a; print(1)' 2>&1 | tail -5",
    "list": "git status && git diff",
    "redirect to a file inside": "echo x>out.txt",
    "/dev/null": "echo ok > /dev/null",
    "fd duplication": "ls 2>&1",
    "pipeline inside": "cat src/app.py | grep def",
    "assignment": "FOO=1 python3 -m greeter Ada",
    "exit status": "python3 -m pytest -q; echo rc=$?",
    "quoted here-document": "cat > notes.txt <<'EOF'\n$HOME and `x` stay text\nEOF",
    "braces inside": "ls src/{a,b}.py",
    "quoted braces": "echo '{a,/etc}'",
    "quoted tilde": "echo '~/x'",
    "git config user.email": "git config user.email a@b.c",
    "git config read": "git config --get remote.origin.url",
    "git commit": "git add -A && git commit -qm 'x: y'",
    "find -exec grep": "find . -name '*.py' -exec grep -l foo {} +",
    "npm local install": "npm install --save-dev left-pad",
    "glob inside": "ls src/*.py",
}


@pytest.mark.parametrize("command", DENIED.values(), ids=DENIED.keys())
def test_bash_the_guard_cannot_be_sure_of_is_denied(guard, command):
    reason = guard.check("Bash", {"command": command})
    assert reason is not None and reason.startswith("Bash denied:"), command


@pytest.mark.parametrize("command", ALLOWED.values(), ids=ALLOWED.keys())
def test_plain_bash_inside_the_project_passes(guard, command):
    assert guard.check("Bash", {"command": command}) is None


def test_the_reasons_say_what_to_do(guard):
    assert "write the value out" in guard.check("Bash", {"command": "cat $HOME/x"})
    assert "one plain command" in guard.check("Bash", {"command": "echo $(id)"})
    assert "outside the project" in guard.check("Bash", {"command": "echo x>/tmp/a"})
    assert "record of the run" in guard.check(
        "Write", {"file_path": str(guard.project_dir / ".auto-claude/specs/001/logs/s.jsonl")}
    )


@pytest.mark.parametrize(
    "tool_input",
    [{"command": ["ls"]}, "ls", None, {"file_path": 3}, {"file_path": "~/x"}],
)
async def test_malformed_input_is_denied(guard, tool_input):
    tool = "Write" if isinstance(tool_input, dict) and "file_path" in tool_input else "Bash"
    out = await guard.hook({"tool_name": tool, "tool_input": tool_input}, "t", {})
    if tool_input is None:  # no input at all: an empty command, nothing to run
        return
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"


async def test_the_guard_fails_closed_when_checking_raises(guard, monkeypatch):
    def broken(command):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(guard_module, "parse", broken)
    out = await guard.hook({"tool_name": "Bash", "tool_input": {"command": "ls"}}, "t", {})
    decision = out["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    assert "could not check it (RuntimeError)" in decision["permissionDecisionReason"]
    out = await guard.hook(object(), "t", {})  # not even a mapping
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("echo x>/abs", [(["echo", "x"], [(">", "/abs")])]),
        ("a 2>&1|b", [(["a"], [(">&", "1")]), (["b"], [])]),
        ("echo $'a\\tb\\x41\\u00e9'", [(["echo", "a\tbAé"], [])]),
        ('echo "a\\"b" \'c\\d\' e\\ f', [(["echo", 'a"b', "c\\d", "e f"], [])]),
        ("! time ls", [(["ls"], [])]),
        ("cat <<-'E' x\n\tbody\n\tE\nls", [(["cat", "x"], [("<<-", "E")]), (["ls"], [])]),
        ("ls # a comment > /abs", [(["ls"], [])]),
        ("ls \\\n-la", [(["ls", "-la"], [])]),
    ],
)
def test_the_reader_splits_as_bash_does(line, expected):
    commands = parse(line)
    assert [
        ([w.text for w in c.words], [(r.op, r.target.text) for r in c.redirects]) for c in commands
    ] == expected


def test_expansions_are_named_and_their_values_unknown():
    (command,) = parse('X=1 cat "$HOME/a" ${PATH} $? $1')
    assert command.assignments[0][0] == "X"
    assert [w.expansions for w in command.words[1:]] == [["HOME"], ["PATH"], ["?"], ["1"]]
    assert [w.unsafe_expansions for w in command.words[1:]] == [["HOME"], ["PATH"], [], ["1"]]


def test_brace_expansion_makes_every_alternative():
    (command,) = parse("echo {a,b{c,d}}/x '{q,r}'")
    assert [w.text for w in expand_braces(command.words[1])] == ["a/x", "bc/x", "bd/x"]
    assert [w.text for w in expand_braces(command.words[2])] == ["{q,r}"]
    with pytest.raises(Unsure):
        expand_braces(parse("echo " + "{a,b}" * 7)[0].words[1])
