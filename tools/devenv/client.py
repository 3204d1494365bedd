"""Talking to a Home Assistant: its REST API (standard library) and its websocket API (aiohttp).

Loopback only: requests never go through a proxy from the environment.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HttpError(RuntimeError):
    """An HTTP request answered with an error status."""

    def __init__(self, status: int, body: str, url: str) -> None:
        super().__init__(f"{url}: HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


class WebSocketError(RuntimeError):
    """A websocket command answered with an error (``code``: Home Assistant's error code)."""

    def __init__(self, command: str, code: str, message: str) -> None:
        super().__init__(f"{command}: {code}: {message}")
        self.code = code


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Any:
    """One HTTP request; the decoded JSON answer (or the text, or None when empty)."""
    headers = {"Accept": "application/json"}
    data: bytes | None = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as response:
            raw = response.read().decode()
    except urllib.error.HTTPError as err:
        raise HttpError(err.code, err.read().decode(errors="replace"), url) from None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def api(base_url: str, token: str, method: str, path: str, json_body: Any = None) -> Any:
    """Call the REST API (``path`` like ``/api/states``) and return the decoded JSON."""
    return request(method, base_url.rstrip("/") + path, json_body=json_body, token=token)


def websocket(base_url: str, access_token: str, *commands: dict[str, Any]) -> list[Any]:
    """Send ``commands`` one after the other on one websocket connection; return their results.

    ``WebSocketError`` for the first one that fails (``code`` ``unknown_command`` when this
    Home Assistant has no such command). Needs ``aiohttp`` (installed with Home Assistant).
    """
    import asyncio

    import aiohttp

    ws_url = re.sub(r"^http", "ws", base_url.rstrip("/")) + "/api/websocket"

    async def run() -> list[Any]:
        results: list[Any] = []
        async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": access_token})
            if (msg := await ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError(f"websocket auth failed: {msg}")
            for number, command in enumerate(commands, start=1):
                await ws.send_json({"id": number, **command})
                msg = await ws.receive_json()
                if not msg.get("success"):
                    error = msg.get("error") or {}
                    raise WebSocketError(
                        command["type"], str(error.get("code")), str(error.get("message"))
                    )
                results.append(msg.get("result"))
        return results

    return asyncio.run(run())
