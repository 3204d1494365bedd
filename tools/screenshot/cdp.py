"""Headless Chromium and a minimal client of its DevTools protocol (a websocket, ``aiohttp``)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import IO, Any

import aiohttp

from tools import devenv

from .pages import DEEP_QUERY, HEIGHT, WIDTH

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--lang=en-US",
    f"--window-size={WIDTH},{HEIGHT}",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class Cdp:
    """A minimal Chrome DevTools Protocol client for one page target."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        await self._ws.send_json({"id": self._next, "method": method, "params": params or {}})
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def query(self, check: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(await self.evaluate(DEEP_QUERY % check))
        return value

    async def viewport(self, height: int) -> None:
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    async def screenshot(self) -> bytes:
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        return base64.b64decode(shot["data"])

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def launch_chromium(profile: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start headless Chromium on a new ``profile`` folder, in a process group of its own."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("chromium is not installed (scripts/screenshot installs it)")
    profile.mkdir()
    return subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def devtools_port(proc: subprocess.Popen[bytes], profile: Path) -> int:
    """The DevTools port Chromium on ``profile`` listens on, once it has written it down."""
    active = profile / "DevToolsActivePort"

    def port() -> int | None:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with code {proc.returncode}")
        lines = active.read_text().split() if active.exists() else []
        return int(lines[0]) if lines else None

    found: int = devenv.until(port, 30, "Chromium's DevTools port", interval=0.2)
    return found
