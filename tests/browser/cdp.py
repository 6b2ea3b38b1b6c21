"""A headless Chromium driven over the DevTools protocol (aiohttp's websocket client: no
other dependency), enough to load a page, read what xterm.js shows, press keys and take a
screenshot.

xterm.js draws on a canvas, so there is no text in the page: ``HOOK`` catches textual.js's
terminal object as it is made (its constructor assigns ``websocket_url``) and
``window.__screenText()`` reads the terminal's buffer.  It depends on that property's name:
textual-serve is pinned, and a change fails the test loudly (no ``window.__textual``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MISSING = "no Chromium on PATH: run sh scripts/install-browser-test (as root, it apt-installs it)"
FLAGS = [
    "--headless",
    "--no-sandbox",  # required as root; the page is our own app on 127.0.0.1
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--password-store=basic",
    "--use-mock-keychain",
    # Nothing but loopback resolves: no wait on a name the test never meant to reach.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--window-size=1280,800",
    "--remote-debugging-port=0",
]
HOOK = r"""
Object.defineProperty(Object.prototype, 'websocket_url', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'websocket_url',
      {value, writable: true, enumerable: true, configurable: true});
    window.__textual = this;
  },
});
window.__screenText = () => {
  const terminal = window.__textual && window.__textual.terminal;
  if (!terminal) return null;
  const buffer = terminal.buffer.active, rows = [];
  for (let i = 0; i < terminal.rows; i++) {
    const line = buffer.getLine(buffer.viewportY + i);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows.join('\n');
};
"""
KEYS = {
    "enter": ("Enter", "Enter", 13, "\r"),
    "down": ("ArrowDown", "ArrowDown", 40, None),
}


def chromium_path() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(MISSING)


class Page:
    """One browser tab, through its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            data = json.loads(message.data)
            future = self._waiting.pop(data.get("id"), None)
            if future is None or future.done():
                continue
            if "error" in data:
                future.set_exception(RuntimeError(data["error"]))
            else:
                future.set_result(data.get("result", {}))

    async def send(self, method: str, timeout_s: float = 30.0, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        await self._socket.send_json({"id": call_id, "method": method, "params": params})
        return await asyncio.wait_for(future, timeout_s)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        await self.send("Page.enable")
        # A headless page never has the focus: the terminal's focus event, which tells the
        # app it is focused (and shows its keys), fires only with this.
        await self.send("Emulation.setFocusEmulationEnabled", enabled=True)
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=800,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=HOOK)
        await self.send("Page.navigate", url=url)

    async def screen_text(self) -> str:
        return await self.evaluate("window.__screenText ? window.__screenText() : null") or ""

    async def wait_for_text(self, *needles: str, timeout_s: float = 60.0) -> str:
        """The screen once it shows every one of ``needles`` (an AssertionError after that)."""
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = await self.screen_text()
            if all(needle in text for needle in needles):
                return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"{needles!r} not on the page's screen:\n{text}")

    async def focus(self) -> None:
        """Keys reach the app only once xterm's textarea has the focus, as after a click."""
        await self.evaluate("window.__textual.terminal.focus()")

    async def press(self, key: str) -> None:
        """A key as a person presses it: ``p``, or a name in ``KEYS``."""
        if key in KEYS:
            name, code, virtual, text = KEYS[key]
        else:
            name, code, virtual, text = key, f"Key{key.upper()}", ord(key.upper()), key
        down: dict[str, Any] = {
            "type": "keyDown",
            "key": name,
            "code": code,
            "windowsVirtualKeyCode": virtual,
            "nativeVirtualKeyCode": virtual,
        }
        if text is not None:
            down["text"] = down["unmodifiedText"] = text
        await self.send("Input.dispatchKeyEvent", **down)
        up = {k: v for k, v in down.items() if k not in ("text", "unmodifiedText")}
        await self.send("Input.dispatchKeyEvent", **{**up, "type": "keyUp"})

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        self._reader.cancel()
        await self._socket.close()


@contextlib.asynccontextmanager
async def chromium():
    """A headless Chromium with a fresh profile, and its first tab; all of it killed after."""
    profile = Path(tempfile.mkdtemp(prefix="agent-tui-chromium-"))
    errors = (profile / "stderr.log").open("wb")
    browser = subprocess.Popen(
        [chromium_path(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=errors,
        start_new_session=True,  # its own group: its renderers die with it
    )
    try:
        async with aiohttp.ClientSession() as http:
            port = await _debugging_port(browser, profile)
            async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            tab = next(t for t in targets if t["type"] == "page")
            page = Page(await http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0))
            try:
                yield page
            finally:
                await page.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait(10)
        errors.close()
        shutil.rmtree(profile, ignore_errors=True)


async def _debugging_port(browser: subprocess.Popen, profile: Path) -> int:
    """Chromium writes the port it chose to ``DevToolsActivePort`` in its profile."""
    told = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (told.exists() and len(told.read_text().splitlines()) >= 2):
        if browser.poll() is not None or time.monotonic() > deadline:
            said = (profile / "stderr.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"chromium did not start: {said}")
        await asyncio.sleep(0.05)
    return int(told.read_text().splitlines()[0])
