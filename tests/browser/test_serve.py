"""``agent-tui serve``: nothing is answered without the token, and a real headless Chromium
loads the page, shows the runs list, attaches, and a ``p`` pressed there pauses the run; the
keys shown follow the run's state, also when another app resumes it."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import aiohttp
import pytest

from agent_tui.engine.clock import VirtualClock
from agent_tui.runproc import registry
from agent_tui.runproc.record import RunState
from tests.browser.cdp import chromium
from tests.browser.conftest import alive


async def status_of(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url, allow_redirects=False) as answer:
        return answer.status


async def test_serve_answers_nothing_without_its_token(serve):
    served = serve()
    parts = urlsplit(served.url)
    base, token = f"{parts.scheme}://{parts.netloc}", parts.query.removeprefix("token=")
    assert parts.hostname == "127.0.0.1" and len(token) >= 32
    assert "TLS" not in served.said
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for path in ("/", "/static/js/textual.js", "/ws", "/?token=wrong", f"/?token={token}x"):
            assert await status_of(http, base + path) == 403, path
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(base + "/ws")
        assert refused.value.status == 403
        async with http.get(served.url) as page:
            assert page.status == 200
            body = await page.text()
            cookie = page.headers["Set-Cookie"]
            assert page.headers["Cache-Control"] == "no-store"
        assert token not in body  # the page itself carries no secret
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # The cookie now opens the rest, but a websocket from another origin is refused.
        assert await status_of(http, base + "/static/js/textual.js") == 200
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(base + "/ws", origin="http://evil.example")
    assert served.stop() == 0


async def test_serve_on_another_address_says_to_put_it_behind_tls(serve):
    served = serve("--host", "0.0.0.0")
    assert "0.0.0.0" not in served.url
    served.stop()
    warning = served.process.stderr.read().decode()
    assert "plain HTTP" in warning and "ssh -L" in warning and "reverse proxy" in warning


async def test_a_browser_attaches_from_the_runs_list_and_p_pauses_the_run(
    hosted, serve, tmp_path, capsys
):
    # The served app measures the countdown on the machine's clock: the run's starts there.
    clock = VirtualClock(start=time.monotonic(), auto_advance=False, wall_start=time.time())
    run = hosted(failures={"1.1": 1}, clock=clock).start()
    run.until(lambda: run.host.loop.backing_off, "the run's backoff")
    served = serve()
    async with chromium() as page:
        await page.open(served.url)
        await page.wait_for_text("001-greeter", "backing off")  # the runs list
        await page.focus()  # keys reach the app once the page's terminal has the focus
        await page.wait_for_text("Attach", "Quit")
        await page.press("enter")
        await page.wait_for_text("Core library", "retry 1/5", "Detach")  # the run, attached
        await page.press("p")
        run.until(lambda: run.host.loop.paused, "the run to pause")
        await page.wait_for_text("p resumes", "p Resume")
        shot = await page.screenshot(tmp_path / "serve-paused.png")
        run.until(lambda: registry.runs()[0].state == RunState.PAUSED, "the record's pause")
        # Another window takes the focus and another app resumes the run: the keys here
        # follow it, as the status line does.
        await page.evaluate("window.__textual.terminal.blur()")
        run.call(run.host.loop.resume)
        await page.wait_for_text("● backing off", "p Pause", timeout_s=20)
        assert served.note_apps()  # the tab's app, a process of the server's
    with capsys.disabled():
        print(f"\nscreenshot of the paused run in the browser: {shot}")
    assert shot.stat().st_size > 10_000
    assert served.stop() == 0
    assert served.apps and not any(alive(pid) for pid in served.apps)
