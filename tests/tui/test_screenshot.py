"""The palette's Screenshot: saved where the run keeps its records (else the current
directory), and the notice says where; no Downloads folder is needed."""

from __future__ import annotations

import os
import stat

from tests.tui.conftest import wait_until


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def take_screenshot(pilot) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*"Screenshot")
    await pilot.pause()
    await pilot.press("enter")


async def test_the_screenshot_goes_to_the_specs_logs_and_says_where(
    scripted_app, tmp_path, monkeypatch
):
    # Found by a user: "Failed to save screenshot", as ~/Downloads did not exist.
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    harness = scripted_app()
    app = harness.app
    logs = harness.workspace.spec_dir / "logs"
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to end")
        await take_screenshot(pilot)
        await wait_until(pilot, lambda: list(logs.glob("screenshot-*.svg")), "the screenshot")
        (saved,) = logs.glob("screenshot-*.svg")
        await wait_until(pilot, lambda: f"Screenshot saved to {saved}" in notices(app), "notice")
        assert saved.read_text().startswith("<svg") and "Plan" in saved.read_text()
        assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
        await take_screenshot(pilot)  # the same second: a new file beside it, none replaced
        await wait_until(pilot, lambda: len(list(logs.glob("screenshot-*.svg"))) == 2, "two")


async def test_without_a_usable_logs_dir_the_screenshot_goes_to_the_current_dir(
    scripted_app, tmp_path, monkeypatch
):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    harness = scripted_app()
    app = harness.app
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to end")
        logs = harness.workspace.spec_dir / "logs"
        logs.rename(logs.with_name("logs-away"))
        logs.symlink_to(tmp_path)  # never written through
        await take_screenshot(pilot)
        await wait_until(pilot, lambda: list(here.glob("screenshot-*.svg")), "the screenshot")
        (saved,) = here.glob("screenshot-*.svg")
        await wait_until(pilot, lambda: f"Screenshot saved to {saved}" in notices(app), "notice")
        assert list(tmp_path.glob("screenshot-*")) == []
