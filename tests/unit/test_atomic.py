"""Atomic writes keep a file's mode, give a new file the umask's, and a secret 0600."""

from __future__ import annotations

import os
import stat

from agent_tui.files import atomic_write_text


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_rewrite_keeps_the_files_mode(tmp_path):
    # Found by a tester: the sample plan, 0644, became 0600 at agent-tui's first write.
    plan = tmp_path / "implementation_plan.json"
    plan.write_text("{}")
    plan.chmod(0o644)
    atomic_write_text(plan, '{"phases": []}')
    assert mode_of(plan) == 0o644 and plan.read_text() == '{"phases": []}'
    plan.chmod(0o664)
    atomic_write_text(plan, "{}")
    assert mode_of(plan) == 0o664


def test_a_new_file_gets_the_umasks_mode_and_a_secret_its_own(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "history.json", "{}")
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "history.json") == 0o640
    atomic_write_text(tmp_path / "profiles.json", "{}", mode=0o600)
    assert mode_of(tmp_path / "profiles.json") == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
