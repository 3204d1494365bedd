"""Pictures of the integration in a real Home Assistant: the map and one tracker's device page.

Run by ``scripts/screenshot`` (which installs Debian's ``chromium`` when missing and runs this with
the develop venv's Python, which has ``aiohttp``). Everything is temporary and local:

1. a real ``hass`` (the develop venv, see ``tools/devenv``) on a temporary config folder
   with free ports on 127.0.0.1 (never 8123/8888), onboarded with the user dev/dev and a
   ``sinotrack`` listener entry;
2. the simulator (``tools/simulator``): three trackers of mixed protocols driving around
   Amsterdam, each raising a vibration alarm, plus one parked H02 tracker;
3. headless Chromium driven over the Chrome DevTools Protocol (a websocket, with ``aiohttp``):
   the browser is logged in by putting the tokens of a normal login flow into ``localStorage``
   (``hassTokens``, where the frontend keeps them) before any page script runs; then
   ``/map`` and ``/config/devices/device/<id>`` are opened, the script waits until the markers
   and the entity cards are rendered, and saves ``map.png`` and ``device.png``.

Map tiles come from the internet; without it the map background stays blank, the tracker
markers still show. Everything is torn down within a bounded time, also on errors and signals.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tools import devenv  # noqa: E402

DRIVING_FIRST_ID = 4106011600  # three trackers, mixed protocols; the first one is H02 text
PARKED_ID = 4106011700  # one parked H02 tracker
DEVICE_TAIL = "_1600"  # the device page shown: "SinoTrack <letter> 1600", letter by arrival
WIDTH, HEIGHT = 1400, 900
DEVICE_PAGE_HEIGHT = 1500  # tall enough for every entity card of a tracker
RESERVED_PORTS = {8123, 8888}
PAGE_TIMEOUT = 90  # seconds for a page to show what it should

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

# Collects the elements of the page, through every open shadow root (the frontend is made of
# web components), and answers a question about them.
DEEP_QUERY = """
(() => {
  const all = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      all.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const tags = (name) => all.filter((el) => el.localName === name);
  return JSON.stringify((%s)(tags, all));
})()
"""
# On the map: the entity markers (a badge per device_tracker) and whether Home Assistant shows
# a login form instead. The Map dashboard's overview panel shows people by default and device
# trackers only on its "Devices" tab: select that tab (again on every poll, until it sticks).
MAP_CHECK = """(tags) => {
  const devices = tags('hui-map-overview').flatMap((o) =>
    o.shadowRoot ? [...o.shadowRoot.querySelectorAll('[data-tab="devices"]')] : []);
  devices.forEach((tab) => tab.click());
  return {
    login: tags('ha-authorize').length + tags('ha-auth-flow').length,
    tab: tags('hui-map-card').map((c) => c._overviewTab || ''),
    overview: tags('hui-map-overview').length,
    markers: tags('ha-entity-marker').map((m) => m.getAttribute('entity-id') || m.entityId || ''),
  };
}"""
# The trackers moved while the page settled: fit the map to the markers again.
MAP_FIT = """(tags) => tags('ha-map').map((m) => (m.fitMap ? (m.fitMap(), 1) : 0))"""
# On the device page: the headers of the entity cards, whether something is still loading.
DEVICE_CHECK = """(tags) => ({
  login: tags('ha-authorize').length + tags('ha-auth-flow').length,
  title: tags('hass-subpage').map((p) => p.header || '').join(' '),
  cards: tags('ha-device-entities-card').map((c) => c.getAttribute('header') || c.header || ''),
  loading: tags('ha-spinner').length + tags('ha-circular-progress').length,
})"""
DEVICE_CARDS = {"Controls", "Sensors", "Events", "Diagnostic"}
# The forms a newcomer meets first (--forms): the text of every element without children, so
# a string the frontend cannot format shows: "Translation error: UNCLOSED_TAG" for an SMS
# written "804<password>".
FORM_TEXT = """(tags, all) => ({
  login: tags('ha-authorize').length + tags('ha-auth-flow').length,
  texts: all.filter((el) => !el.children.length).map((el) => (el.textContent || '').trim())
    .filter((text) => text && text.length < 2000),
})"""
# Click the last button or menu item whose text is %s (a JSON string).
CLICK_TEXT = """(tags, all) => {
  const hits = all.filter((el) => /item|button/.test(el.localName)
    && (el.textContent || '').trim() === %s).slice(-1);
  hits.forEach((el) => el.click());
  return {clicked: hits.length};
}"""
# Open the overflow menu of the integration page's entry (hub) row.
ENTRY_MENU = """(tags) => {
  const rows = tags('ha-config-entry-row');
  const menus = rows.flatMap((r) => (r.shadowRoot
    ? [...r.shadowRoot.querySelectorAll('ha-md-button-menu, ha-button-menu, ha-dropdown')] : []));
  const triggers = menus.flatMap((m) => [...m.querySelectorAll('ha-icon-button, [slot=trigger]')]);
  triggers.forEach((t) => t.click());
  return {clicked: triggers.length};
}"""
TRANSLATION_ERROR = "Translation error"


class PageError(RuntimeError):
    """A page did not show what it should."""


class Interrupted(Exception):
    """SIGTERM / SIGINT / SIGHUP or the overall time limit: tear down and stop."""


def log(message: str) -> None:
    print(f"screenshot: {message}", file=sys.stderr, flush=True)


def until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen[bytes] | None, first: int, grace: float) -> None:
    """Signal the process group of ``proc`` (started in its own session), then kill it."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):  # helpers (e.g. Chromium's) left behind
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


@dataclass
class Run:
    """Everything started, so that teardown can stop it."""

    work: Path
    python: str
    http_port: int = field(default_factory=devenv.free_port)
    listener_port: int = 0
    ha: devenv.Instance | None = None
    simulators: list[subprocess.Popen[bytes]] = field(default_factory=list)
    chromium: subprocess.Popen[bytes] | None = None
    logs: list[IO[bytes]] = field(default_factory=list)
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def config_dir(self) -> Path:
        return self.work / "config"

    def open_log(self, name: str) -> IO[bytes]:
        handle = open(self.work / name, "wb")  # noqa: SIM115 (closed in teardown)
        self.logs.append(handle)
        return handle

    def states(self, prefix: str) -> dict[str, dict[str, Any]]:
        return {
            s["entity_id"]: s
            for s in devenv.api(self.url, self.token, "GET", "/api/states")
            if s["entity_id"].startswith(prefix)
        }

    def teardown(self) -> None:
        stop_process(self.chromium, signal.SIGTERM, 5)
        for proc in self.simulators:
            stop_process(proc, signal.SIGINT, 10)  # prints its summary to its log
        if self.ha is not None:  # SIGTERM, SIGKILL after 60 s
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.ha.stop(timeout=60)
        for handle in self.logs:
            handle.close()


# --------------------------------------------------------------------------------------------
# Home Assistant and the simulator


def start_home_assistant(run: Run) -> None:
    devenv.seed_config(run.config_dir, http_port=run.http_port, python=run.python)
    log(f"starting Home Assistant on {run.url} (config {run.config_dir})")
    run.ha = devenv.Instance(run.config_dir, run.python, http_port=run.http_port)
    if not run.ha.start(timeout=240):
        raise RuntimeError("the fresh config folder was already onboarded")
    run.listener_port = devenv.free_port()
    devenv.add_listener(run.url, run.ha.token, port=run.listener_port)
    run.token = devenv.create_long_lived_token(run.url, run.ha.token, lifespan_days=1)
    devenv.until(
        lambda: devenv.port_status(run.listener_port) == (True, True),
        60,
        f"the tracker listener on port {run.listener_port}",
    )


def simulate(run: Run, name: str, *args: str) -> None:
    cmd = [sys.executable, "-m", "tools.simulator", "--port", str(run.listener_port), *args]
    run.simulators.append(
        subprocess.Popen(
            cmd,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=run.open_log(f"{name}.log"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )


def start_trackers(run: Run, duration: int) -> None:
    log("simulating 3 driving trackers and 1 parked tracker around Amsterdam")
    common = ("--duration", str(duration), "--speedup", "10", "--quiet")
    simulate(
        run,
        "simulator-driving",
        *("--trackers", "3", "--protocol", "mixed", "--seed", "7"),
        *("--first-id", str(DRIVING_FIRST_ID), "--alarm", "vibration", "--alarm-after", "5"),
        *common,
    )
    simulate(
        run,
        "simulator-parked",
        *("--trackers", "1", "--protocol", "h02", "--parked", "--first-id", str(PARKED_ID)),
        *common,
    )


def wait_for_trackers(run: Run, drive_time: float) -> None:
    def on_map() -> list[str] | None:
        for proc in run.simulators:
            if proc.poll() is not None:
                raise RuntimeError(f"the simulator exited early with code {proc.returncode}")
        located = [
            entity_id
            for entity_id, state in run.states("device_tracker.sinotrack_").items()
            if state["attributes"].get("latitude") is not None
        ]
        return located if len(located) >= 4 else None

    def alarm() -> bool:
        event = [s for e, s in run.states("event.sinotrack_").items() if DEVICE_TAIL in e]
        return any(s["attributes"].get("event_type") == "vibration" for s in event)

    started = time.monotonic()
    located = until(on_map, 90, "four trackers on the map")
    log(f"on the map: {', '.join(sorted(located))}")
    until(alarm, 60, f"the vibration alarm of tracker …{DEVICE_TAIL[1:]}")
    rest = drive_time - (time.monotonic() - started)
    if rest > 0:
        log(f"letting the trackers drive apart for {rest:.0f} s")
        time.sleep(rest)


# --------------------------------------------------------------------------------------------
# Chromium over the DevTools protocol


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


def start_chromium(run: Run) -> int:
    """Start headless Chromium on a new profile; return its DevTools port."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("chromium is not installed (scripts/screenshot installs it)")
    profile = run.work / "chromium-profile"
    profile.mkdir()
    run.chromium = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=run.open_log("chromium.log"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    active = profile / "DevToolsActivePort"

    def port() -> int | None:
        if run.chromium is not None and run.chromium.poll() is not None:
            raise RuntimeError(f"chromium exited with code {run.chromium.returncode}")
        lines = active.read_text().split() if active.exists() else []
        return int(lines[0]) if lines else None

    devtools_port: int = until(port, 30, "Chromium's DevTools port", interval=0.2)
    return devtools_port


async def websocket_command(run: Run, command: dict[str, Any]) -> Any:
    """One command on Home Assistant's websocket API; return its result."""
    url = run.url.replace("http", "ws", 1) + "/api/websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": run.token})
        if (msg := await ws.receive_json())["type"] != "auth_ok":
            raise RuntimeError(f"websocket auth failed: {msg}")
        await ws.send_json({"id": 1, **command})
        reply = await ws.receive_json()
        if not reply.get("success"):
            raise RuntimeError(f"{command['type']} failed: {reply}")
        return reply["result"]


async def device_id_of(run: Run, entity_id: str) -> str:
    entities = await websocket_command(run, {"type": "config/entity_registry/list"})
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


async def take_pictures(run: Run, settle: float) -> dict[str, bytes]:
    """Log Chromium in, open the map and the device page; return the PNGs by file name.

    When a page does not become ready, what it shows is saved as ``failed.png`` in the
    temporary folder (see ``--keep``).
    """
    (shown,) = [
        e for e in run.states("device_tracker.").values() if e["entity_id"].endswith(DEVICE_TAIL)
    ]
    device_id = await device_id_of(run, shown["entity_id"])
    script = token_script(run)
    devtools_port = start_chromium(run)
    log(f"headless Chromium, DevTools on port {devtools_port}")
    pngs: dict[str, bytes] = {}
    async with aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{devtools_port}"
        async with session.get(f"{base}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = Cdp(ws)
            try:
                await cdp.send("Page.enable")
                await cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": script})
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
            except PageError:
                with contextlib.suppress(Exception):
                    failed = await cdp.screenshot()
                    await asyncio.to_thread((run.work / "failed.png").write_bytes, failed)
                raise
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(cdp.send("Browser.close"), 5)
                await cdp.close()
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
    script = token_script(run)
    devtools_port = start_chromium(run)
    log(f"headless Chromium, DevTools on port {devtools_port}")
    pngs: dict[str, bytes] = {}
    async with aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{devtools_port}"
        async with session.get(f"{base}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = Cdp(ws)
            try:
                await cdp.send("Page.enable")
                await cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": script})
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
                tools = (
                    "config/tools" if ha_version_of(run).startswith("2026") else "developer-tools"
                )
                pngs["form-send-command.png"] = await form_picture(
                    cdp,
                    f"{run.url}/{tools}/action?service={devenv.DOMAIN}.send_command",
                    shows="8105:F0",
                    what="the send_command form",
                    settle=settle,
                )
                log("no translation errors in the three forms")
            except PageError:
                with contextlib.suppress(Exception):
                    failed = await cdp.screenshot()
                    await asyncio.to_thread((run.work / "failed.png").write_bytes, failed)
                raise
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(cdp.send("Browser.close"), 5)
                await cdp.close()
    return pngs


def ha_version_of(run: Run) -> str:
    version: str = devenv.api(run.url, run.token, "GET", "/api/config")["version"]
    return version


# --------------------------------------------------------------------------------------------
# Main


@contextlib.contextmanager
def interruptible(limit: float) -> Iterator[None]:
    """Turn SIGTERM/SIGINT/SIGHUP and the overall time ``limit`` into ``Interrupted``."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(
            "time limit reached" if signum == signal.SIGALRM else signal.Signals(signum).name
        )

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM)
    previous = {signum: signal.signal(signum, interrupt) for signum in signals}
    signal.alarm(max(1, int(limit)))
    try:
        yield
    finally:
        signal.alarm(0)
        for signum in signals:  # teardown runs to its end (it is bounded by itself)
            signal.signal(signum, signal.SIG_IGN if signum != signal.SIGALRM else previous[signum])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/screenshot",
        description="Save PNGs of the map and of a tracker's device page in a real Home "
        "Assistant fed by the tracker simulator (headless Chromium).",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "images", help="folder for the PNGs"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (config, logs, Chromium profile) for inspection",
    )
    parser.add_argument("--python", help="Python of a venv with Home Assistant (default: develop)")
    parser.add_argument(
        "--drive", type=float, default=20, help="seconds the trackers drive before the pictures"
    )
    parser.add_argument("--settle", type=float, default=3, help="seconds to let a page render")
    parser.add_argument(
        "--timeout", type=float, default=600, help="overall time limit in seconds (600)"
    )
    parser.add_argument(
        "--forms",
        action="store_true",
        help="instead: the first dialog, the Reconfigure dialog and the send_command form "
        "(form-*.png), failing on a translation error",
    )
    args = parser.parse_args(argv)
    out = args.out.resolve()
    python = args.python or str(devenv.ensure_venv())
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="sinotrack-screenshot-"))
    run = Run(work=work, python=python)
    pictures: list[Path] = []
    code = 1
    try:
        with interruptible(args.timeout):
            start_home_assistant(run)
            if args.forms:
                pngs = asyncio.run(take_form_pictures(run, args.settle))
            else:
                start_trackers(run, duration=int(args.timeout))
                wait_for_trackers(run, args.drive)
                pngs = asyncio.run(take_pictures(run, args.settle))
            out.mkdir(parents=True, exist_ok=True)
            for name, data in pngs.items():
                (out / name).write_bytes(data)
                pictures.append(out / name)
            code = 0
    except (Interrupted, TimeoutError, RuntimeError, OSError, devenv.HttpError) as err:
        # PageError is a RuntimeError: a form with a translation error ends here too.
        log(f"failed: {type(err).__name__}: {err}")
        if not args.keep:
            log("(run with --keep to keep the logs)")
    finally:
        log("tearing down")
        run.teardown()
        problems = [
            line
            for line in devenv.check_log(run.config_dir)
            if "custom_components.sinotrack" in line
        ]
        for line in problems:
            log(f"home-assistant.log: {line}")
        if args.keep:
            log(f"kept {work} (config/, home-assistant.log, simulator and chromium logs)")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if code == 0:
        log(f"done in {time.monotonic() - started:.0f} s")
        for path in pictures:
            print(path)
    return code


if __name__ == "__main__":
    sys.exit(main())
