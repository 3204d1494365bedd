"""``scripts/develop``'s companion: bring Home Assistant up, add the listener, say how to log in.

It runs beside ``hass`` (which ``scripts/develop`` becomes by ``exec``, so ``hass`` is its
parent): it waits for Home Assistant, creates the dev/dev owner on a fresh folder, adds the
SinoTrack listener entry through the config flow if there is none (port 8888, TCP and UDP, new
trackers added at once), prints the banner and exits; or exits quietly when ``hass`` is gone.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from .auth import revoke
from .client import HttpError
from .config_dir import listener_ports
from .defaults import DEFAULT_LISTENER_PORT, DEV_PASSWORD, DEV_USERNAME
from .entries import FlowError, add_listener, listener_entries
from .instance import bring_up
from .process import port_status
from .readiness import wait_ready

PORT_WAIT_S = 10.0  # for a listener just added to bind its port


@dataclass(frozen=True, slots=True)
class Startup:
    """When and how ``scripts/develop`` started, for the banner."""

    public_url: str
    started_at: float  # time.time() when scripts/develop started
    bootstrap_seconds: float | None = None  # building the venv, if it was measured


def _wait_for_http(url: str, timeout: float) -> bool:
    """Wait for Home Assistant's HTTP server while ``hass`` (the parent) lives."""
    parent = os.getppid()
    deadline = time.monotonic() + timeout
    while os.getppid() == parent:
        try:
            wait_ready(url, timeout=1)
        except TimeoutError:
            if time.monotonic() > deadline:
                print(f"[develop] Home Assistant did not answer within {timeout:.0f} s")
                return False
        else:
            return True
    return False


def _listener_line(port: int, note: str = "") -> str:
    tcp_ok, udp_bound = port_status(port)
    state = (
        f"TCP {'accepting' if tcp_ok else 'NOT listening'}, "
        f"UDP {'bound' if udp_bound else 'NOT bound'}"
    )
    return f"  Tracker listener: port {port}  ({state}){note}"


def _wait_bound(port: int) -> None:
    """Give a listener just added a moment to bind its port."""
    deadline = time.monotonic() + PORT_WAIT_S
    while port_status(port) != (True, True) and time.monotonic() < deadline:
        time.sleep(0.2)


def ready_banner(url: str, config_dir: Path, startup: Startup, *, timeout: float = 900) -> int:
    """Bring Home Assistant up for development and print how to use it; 0 when it is up."""
    url = url.rstrip("/")
    started = time.monotonic()
    if not _wait_for_http(url, timeout):
        return 1
    login_note = ""
    created = False
    added: int | None = None  # the port of a listener added now
    refused = ""  # why the listener could not be added
    try:
        remaining = max(timeout - (time.monotonic() - started), 1)
        tokens, created = bring_up(url, config_dir, timeout=remaining)
    except (HttpError, RuntimeError, TimeoutError) as err:
        login_note = f"  (could not log in as {DEV_USERNAME}/{DEV_PASSWORD}: {err}; use --reset?)"
    except OSError:
        return 1  # hass stopped while starting
    else:
        try:
            if not listener_entries(url, tokens.access_token):
                add_listener(url, tokens.access_token, port=DEFAULT_LISTENER_PORT)
                added = DEFAULT_LISTENER_PORT
                _wait_bound(added)
        except FlowError as err:
            refused = f"  Tracker listener: NOT added on port {DEFAULT_LISTENER_PORT}: {err}"
        finally:
            revoke(url, tokens)  # no refresh token pile-up, one per start
    ports = listener_ports(config_dir)  # as stored: a listener added just now may be missing
    if added is not None and added not in ports:
        ports.insert(0, added)
    if not ports and not refused:
        ports = [DEFAULT_LISTENER_PORT]
    listener_lines = [refused] if refused else []
    listener_lines += [_listener_line(p, "  (just added)" if p == added else "") for p in ports]
    ready = time.time() - startup.started_at
    lines = [
        "",
        "=" * 72,
        f"  Home Assistant is up: {startup.public_url}   (ready {ready:.0f} s after start)",
        f"  Login: user '{DEV_USERNAME}', password '{DEV_PASSWORD}'"
        + ("   (owner just created)" if created else "")
        + login_note,
        *listener_lines,
    ]
    if startup.bootstrap_seconds:
        lines.append(f"  Bootstrap (venv) took {startup.bootstrap_seconds:.0f} s")
    lines += [f"  Log: {Path(config_dir) / 'home-assistant.log'}   Stop: Ctrl-C", "=" * 72, ""]
    print("\n".join(lines), flush=True)
    return 0
