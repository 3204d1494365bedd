"""The pictures: the map and a tracker's device page, or the forms a newcomer meets first.

Chromium is logged in by putting the tokens of a normal login flow into ``localStorage``
(``hassTokens``, where the frontend keeps them) before any page script runs; each page is
opened, awaited until it shows what it should (``pages``), given time to settle and taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from tools import devenv

from .cdp import Cdp, devtools_port, launch_chromium
from .pages import (
    CLICK_TEXT,
    DEVICE_CARDS,
    DEVICE_CHECK,
    DEVICE_PAGE_HEIGHT,
    ENTRY_MENU,
    FORM_TEXT,
    HEIGHT,
    MAP_CHECK,
    MAP_FIT,
    PAGE_TIMEOUT,
    TRANSLATION_ERROR,
)
from .stage import DEVICE_TAIL, PageError, Run, log


def start_chromium(run: Run) -> int:
    """Chromium for ``run`` (stopped by its teardown); its DevTools port."""
    profile = run.work / "chromium-profile"
    run.chromium = launch_chromium(profile, run.open_log("chromium.log"))
    return devtools_port(run.chromium, profile)


async def device_id_of(run: Run, entity_id: str) -> str:
    command = {"type": "config/entity_registry/list"}
    (entities,) = await asyncio.to_thread(devenv.websocket, run.url, run.token, command)
    for entry in entities:
        if entry["entity_id"] == entity_id and entry.get("device_id"):
            device_id: str = entry["device_id"]
            return device_id
    raise RuntimeError(f"{entity_id} has no device in the entity registry")


def token_script(run: Run) -> str:
    """Page script: log the frontend in with the tokens of a fresh login flow for dev/dev."""
    tokens = devenv.login(run.url)  # the frontend's own flow: login flow, code, token
    hass_tokens = {
        "hassUrl": run.url,
        "clientId": devenv.client_id_for(run.url),
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "expires": int(time.time() * 1000) + tokens.expires_in * 1000,
    }
    return (
        f"if (location.origin === {json.dumps(run.url)}"
        " && !window.localStorage.getItem('hassTokens')) {"
        f" window.localStorage.setItem('hassTokens', {json.dumps(json.dumps(hass_tokens))}); }}"
    )


async def open_page(cdp: Cdp, url: str) -> None:
    result = await cdp.send("Page.navigate", {"url": url})
    if result.get("errorText"):
        raise RuntimeError(f"{url}: {result['errorText']}")


async def picture(
    cdp: Cdp,
    url: str,
    *,
    check: str,
    ready: Callable[[dict[str, Any]], bool],
    what: str,
    height: int,
    settle: float,
    before: str = "",
) -> tuple[bytes, dict[str, Any]]:
    """Open ``url``, wait until the page is ``ready``, let it settle; return its PNG and state.

    ``before`` is a ``DEEP_QUERY`` function run just before the picture is taken.
    """
    await cdp.viewport(height)
    await open_page(cdp, url)
    deadline = time.monotonic() + PAGE_TIMEOUT
    while True:
        state = await cdp.query(check)
        if state.get("login"):
            raise PageError(f"Home Assistant shows its login page instead of {what}")
        if ready(state):
            break
        if time.monotonic() > deadline:
            raise PageError(f"timed out after {PAGE_TIMEOUT} s waiting for {what}: {state}")
        await asyncio.sleep(0.5)
    await asyncio.sleep(settle)
    if before:
        await cdp.query(before)
        await asyncio.sleep(1.5)  # animations
    return await cdp.screenshot(), state


@contextlib.asynccontextmanager
async def logged_in_page(run: Run) -> AsyncIterator[Cdp]:
    """A page of a new Chromium, logged in to Home Assistant before any page script runs.

    When a page does not become ready (``PageError``), what it shows is saved as ``failed.png``
    in the temporary folder (see ``--keep``). The browser is closed afterwards.
    """
    script = token_script(run)
    port = start_chromium(run)
    log(f"headless Chromium, DevTools on port {port}")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = Cdp(ws)
            try:
                await cdp.send("Page.enable")
                await cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": script})
                yield cdp
            except PageError:
                with contextlib.suppress(Exception):
                    failed = await cdp.screenshot()
                    await asyncio.to_thread((run.work / "failed.png").write_bytes, failed)
                raise
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(cdp.send("Browser.close"), 5)
                await cdp.close()


async def take_pictures(run: Run, settle: float) -> dict[str, bytes]:
    """Open the map and the device page; return the PNGs by file name."""
    (shown,) = [
        e for e in run.states("device_tracker.").values() if e["entity_id"].endswith(DEVICE_TAIL)
    ]
    device_id = await device_id_of(run, shown["entity_id"])
    pngs: dict[str, bytes] = {}
    async with logged_in_page(run) as cdp:
        pngs["map.png"], state = await picture(
            cdp,
            f"{run.url}/map",
            check=MAP_CHECK,
            ready=lambda s: (
                sum(m.startswith("device_tracker.sinotrack_") for m in s["markers"]) >= 4
            ),
            what="the tracker markers on the map",
            height=HEIGHT,
            settle=settle,
            before=MAP_FIT,
        )
        log(f"map markers: {', '.join(sorted(state['markers']))}")
        pngs["device.png"], state = await picture(
            cdp,
            f"{run.url}/config/devices/device/{device_id}",
            check=DEVICE_CHECK,
            ready=lambda s: set(s["cards"]) >= DEVICE_CARDS and not s["loading"],
            what="the device page",
            height=DEVICE_PAGE_HEIGHT,
            settle=settle,
        )
        log(f"device page {state['title']!r}: {', '.join(state['cards'])} cards")
    return pngs


async def form_picture(
    cdp: Cdp, url: str, *, shows: str, what: str, settle: float, clicks: tuple[str, ...] = ()
) -> bytes:
    """Open ``url``, click ``clicks`` in turn (``ENTRY_MENU`` or a button's text), wait until
    a text ``shows`` is on the page; raise PageError on a translation error; return the PNG."""
    await open_page(cdp, url)
    steps = list(clicks)
    deadline = time.monotonic() + PAGE_TIMEOUT
    while True:
        state = await cdp.query(FORM_TEXT)
        if state["login"]:
            raise PageError(f"Home Assistant shows its login page instead of {what}")
        texts: list[str] = state["texts"]
        if bad := [text for text in texts if TRANSLATION_ERROR in text]:
            raise PageError(f"{what}: {bad[0]!r}")
        if steps:
            step = steps[0]
            clicked = await cdp.query(
                ENTRY_MENU if step == ENTRY_MENU else CLICK_TEXT % json.dumps(step)
            )
            if clicked["clicked"]:
                steps.pop(0)
                await asyncio.sleep(1)
                continue
        elif any(shows in text for text in texts):
            break
        if time.monotonic() > deadline:
            raise PageError(f"timed out after {PAGE_TIMEOUT} s waiting for {what}")
        await asyncio.sleep(0.5)
    await asyncio.sleep(settle)
    return await cdp.screenshot()


async def take_form_pictures(run: Run, settle: float) -> dict[str, bytes]:
    """The first dialog (Add integration → SinoTrack), the hub's Reconfigure dialog and the
    sinotrack.send_command form of the developer tools, each checked for translation errors."""
    pngs: dict[str, bytes] = {}
    async with logged_in_page(run) as cdp:
        await cdp.viewport(HEIGHT)
        pngs["form-first-dialog.png"] = await form_picture(
            cdp,
            f"{run.url}/config/integrations/dashboard/add?domain={devenv.DOMAIN}",
            clicks=("OK",),  # "Do you want to set up SinoTrack?"
            shows="804PASSWORD IP PORT",
            what="the first dialog",
            settle=settle,
        )
        pngs["form-reconfigure.png"] = await form_picture(
            cdp,
            f"{run.url}/config/integrations/integration/{devenv.DOMAIN}",
            clicks=(ENTRY_MENU, "Reconfigure"),
            shows="804PASSWORD IP PORT",
            what="the Reconfigure dialog",
            settle=settle,
        )
        # 2026.10 moved the developer tools to /config/tools; 2025.4 has them at
        # /developer-tools. Both read the action to show from ?service=.
        tools = "config/tools" if ha_version_of(run).startswith("2026") else "developer-tools"
        pngs["form-send-command.png"] = await form_picture(
            cdp,
            f"{run.url}/{tools}/action?service={devenv.DOMAIN}.send_command",
            shows="8105:F0",
            what="the send_command form",
            settle=settle,
        )
        log("no translation errors in the three forms")
    return pngs


def ha_version_of(run: Run) -> str:
    version: str = devenv.api(run.url, run.token, "GET", "/api/config")["version"]
    return version
