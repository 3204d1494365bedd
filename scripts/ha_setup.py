"""Run a real Home Assistant with this integration: reusable helpers and a small CLI.

Used by ``scripts/develop`` and meant to be reused by end-to-end tests and screenshot scripts that
start a real ``hass`` on a temporary config folder. Typical use from Python::

    import sys
    sys.path.insert(0, "scripts")
    import ha_setup

    python = ha_setup.ensure_venv()                  # the develop venv (created on first use)
    ha_setup.seed_config(tmp, http_port=18123, listener_port=18888, python=python)
    proc = ha_setup.start_hass(tmp, python=python)
    try:
        url = "http://127.0.0.1:18123"
        ha_setup.wait_ready(url, proc=proc)
        tokens = ha_setup.onboard(url)               # creates user dev/dev on a fresh folder
        ha_setup.wait_running(url, tokens.access_token, proc=proc)
        assert ha_setup.port_status(18888) == (True, True)
        token = ha_setup.create_long_lived_token(url, tokens.access_token)
        ha_setup.api(url, token, "GET", "/api/states")
    finally:
        ha_setup.stop_hass(proc)
    assert not ha_setup.check_log(tmp)

``wait_ready`` returns as soon as the HTTP server answers, which on newer versions is before the
config entries are set up: wait for ``wait_running(url, access_token)`` (state RUNNING) before
expecting the listener port to be bound. ``login`` gives a 30-minute access token; ``revoke``
ends that session.

Functions that only talk HTTP (``wait_ready``, ``wait_running``, ``onboard``, ``login``,
``revoke``, ``api``), ``check_log``, ``port_status``, ``start_hass``, ``stop_hass`` and
``ensure_venv`` need nothing but the standard library. ``seed_config`` imports the installed
``homeassistant`` package to write storage files in the exact format of that version, so run it
with a Python that has Home Assistant (the develop venv, or the test venv of the same Home
Assistant version). ``create_long_lived_token`` uses ``aiohttp`` (installed with Home Assistant).

CLI (run ``python scripts/ha_setup.py -h``)::

    seed CONFIG_DIR [--http-port N] [--listener-port N] [--options JSON] [--no-tcp] [--no-udp]
    wait URL [--timeout S]                  wait until Home Assistant answers HTTP
    running URL                             log in and wait until start-up has finished
    onboard URL [--username dev ...]        create the owner on a fresh config folder
    login URL                               print an access token (auth API login flow)
    token URL                               print a long-lived access token
    check-log CONFIG_DIR                    list errors (not refused commands), recovery mode
                                            and package installs
    ports [--listener-port N]               is the listener port accepting TCP / bound on UDP?
    requirements CONFIG_DIR                 the packages the config's components need
    lock --python PY --homeassistant VER -o FILE   regenerate a pinned requirements file
    ready-banner URL CONFIG_DIR ...         used by scripts/develop (onboard + print the banner)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "sinotrack"
INTEGRATION_DIR = REPO / "custom_components" / DOMAIN
CONFIG_TEMPLATE = REPO / "config" / "configuration.yaml"

DEFAULT_HTTP_PORT = 8123
DEFAULT_LISTENER_PORT = 8888
DEV_NAME = "Developer"
DEV_USERNAME = "dev"
DEV_PASSWORD = "dev"  # the documented local development login
DEFAULT_OPTIONS: dict[str, Any] = {"new_trackers": "add"}

# Files Home Assistant's UI editors write to and configuration.yaml includes; created empty.
UI_YAML_FILES = {"automations.yaml": "[]\n", "scripts.yaml": "{}\n", "scenes.yaml": "[]\n"}
ONBOARDING_SEEDED_DONE = ["core_config", "analytics", "integration"]  # the user step is the API's

# Lines in home-assistant.log that are expected and harmless.
LOG_ALLOWED = (re.compile(r"We found a custom integration \S+ which has not been tested"),)
LOG_PROBLEMS = (
    re.compile(r"\b(ERROR|CRITICAL)\b"),
    re.compile(r"recovery mode", re.IGNORECASE),
    re.compile(r"Attempting install of|Installing package|Unable to install package"),
)


# --------------------------------------------------------------------------------------------
# Environment


def ensure_venv(*, oldest: bool = False) -> Path:
    """Create or update the develop venv (``scripts/develop --bootstrap-only``); return its python.

    ``oldest=True`` selects Home Assistant 2025.4 on Python 3.13 instead of the newest one.
    """
    cmd = [str(REPO / "scripts" / "develop"), "--bootstrap-only"]
    if oldest:
        cmd.append("--oldest")
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def ha_version() -> str:
    """Return the version of the importable ``homeassistant`` package."""
    from homeassistant.const import __version__

    return __version__


# --------------------------------------------------------------------------------------------
# Config folder


def _read_store(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_store(path: Path, key: str, version: int, minor_version: int, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    payload = {"version": version, "minor_version": minor_version, "key": key, "data": data}
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def _config_entry_dict(
    *, listener_port: int, tcp: bool, udp: bool, options: Mapping[str, Any], title: str
) -> dict[str, Any]:
    """Serialise a listener config entry with the installed Home Assistant's own ConfigEntry."""
    from types import MappingProxyType

    from homeassistant.config_entries import ConfigEntry

    entry: ConfigEntry[Any] = ConfigEntry(
        data={"port": listener_port, "tcp": tcp, "udp": udp},
        discovery_keys=MappingProxyType({}),
        domain=DOMAIN,
        minor_version=1,
        options=dict(options),
        source="user",
        subentries_data=None,
        title=title,
        unique_id=str(listener_port),
        version=1,
    )
    return entry.as_dict()


def seed_config_entry(
    config_dir: Path,
    *,
    listener_port: int = DEFAULT_LISTENER_PORT,
    tcp: bool = True,
    udp: bool = True,
    options: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> bool:
    """Add a ``sinotrack`` listener entry to ``.storage/core.config_entries`` if it has none.

    Returns True when an entry was added. Home Assistant must not be running on the folder.
    """
    from homeassistant import config_entries

    path = Path(config_dir) / ".storage" / config_entries.STORAGE_KEY
    store = _read_store(path)
    if store is None:
        version = config_entries.STORAGE_VERSION
        minor = config_entries.STORAGE_VERSION_MINOR
        entries: list[dict[str, Any]] = []
    else:
        version, minor = store["version"], store.get("minor_version", 1)
        entries = store["data"]["entries"]
    if any(entry.get("domain") == DOMAIN for entry in entries):
        return False
    entries.append(
        _config_entry_dict(
            listener_port=listener_port,
            tcp=tcp,
            udp=udp,
            options=DEFAULT_OPTIONS if options is None else options,
            title=title or f"SinoTrack listener (port {listener_port})",
        )
    )
    _write_store(path, config_entries.STORAGE_KEY, version, minor, {"entries": entries})
    return True


def seed_onboarding(config_dir: Path) -> None:
    """Mark every onboarding step but the user step done (unless the file exists already).

    The location step is skipped on purpose: finishing it through the API sets up integrations
    that want the internet (met, radio_browser, google_translate, shopping_list). The user step is
    left to :func:`onboard`, so Home Assistant itself creates the owner, credentials and person.
    """
    from homeassistant.components import onboarding

    path = Path(config_dir) / ".storage" / onboarding.STORAGE_KEY
    if path.exists():
        return
    _write_store(
        path,
        onboarding.STORAGE_KEY,
        onboarding.STORAGE_VERSION,
        1,
        {"done": ONBOARDING_SEEDED_DONE},
    )


def seed_http_port(config_dir: Path, http_port: int) -> None:
    """Make Home Assistant serve on ``http_port`` without an ``http:`` section in YAML.

    Newer Home Assistant versions keep the HTTP settings in ``.storage/http`` (an ``http:`` YAML
    section is migrated there as a 5-minute trial, then reverted unless promoted): write the
    port straight into the confirmed ("stable") slot. Older versions read it from YAML only: write
    ``packages/http.yaml`` (configuration.yaml includes ``packages/``).
    """
    config_dir = Path(config_dir)
    package = config_dir / "packages" / "http.yaml"
    http_config: Any
    try:  # homeassistant.components.http.config only exists on newer versions
        http_config = importlib.import_module("homeassistant.components.http.config")
    except ImportError:
        http_config = None
    if http_config is None or not hasattr(http_config, "HTTPConfigStore"):
        if http_port == DEFAULT_HTTP_PORT:
            package.unlink(missing_ok=True)
        else:
            package.parent.mkdir(parents=True, exist_ok=True)
            package.write_text(
                "# Written by scripts/ha_setup.py (seed_http_port): HTTP port of this instance.\n"
                f"http:\n  server_port: {http_port}\n",
                encoding="utf-8",
            )
        return
    package.unlink(missing_ok=True)
    path = config_dir / ".storage" / http_config.STORAGE_KEY
    store = _read_store(path)
    if store is None:
        if http_port == DEFAULT_HTTP_PORT:
            return  # Home Assistant writes its default itself
        from homeassistant.util import dt as dt_util

        stable = {
            **http_config.HTTP_STORAGE_SCHEMA({"server_port": http_port}),
            "created_at": dt_util.utcnow().isoformat(),
            "error": None,
            "error_message": None,
        }
        data: dict[str, Any] = {"stable": stable, "pending": None, "yaml_migration_done": True}
        version, minor = http_config.STORAGE_VERSION, http_config.STORAGE_MINOR_VERSION
    else:
        data, version, minor = store["data"], store["version"], store.get("minor_version", 1)
        if "stable" not in data:  # written by an older version; Home Assistant migrates it
            if data.get("server_port", DEFAULT_HTTP_PORT) == http_port:
                return
            data["server_port"] = http_port
        elif data["stable"].get("server_port") == http_port and data.get("pending") is None:
            return
        else:
            data["stable"]["server_port"] = http_port
            data["pending"] = None
    _write_store(path, http_config.STORAGE_KEY, version, minor, data)


def link_integration(config_dir: Path, source: Path = INTEGRATION_DIR) -> None:
    """Symlink ``CONFIG/custom_components/sinotrack`` to the working tree's integration."""
    link = Path(config_dir) / "custom_components" / DOMAIN
    link.parent.mkdir(parents=True, exist_ok=True)
    target = Path(os.path.relpath(source.resolve(), link.parent.resolve()))
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        raise RuntimeError(f"{link} exists and is not a symlink; remove it")
    link.symlink_to(target, target_is_directory=True)


def seed_config(
    config_dir: Path | str,
    *,
    http_port: int = DEFAULT_HTTP_PORT,
    listener_port: int = DEFAULT_LISTENER_PORT,
    tcp: bool = True,
    udp: bool = True,
    options: Mapping[str, Any] | None = None,
    configuration: Path | None = CONFIG_TEMPLATE,
    python: Path | str | None = None,
    listener_entry: bool = True,
) -> Path:
    """Prepare a config folder for a real Home Assistant; idempotent, never overwrites state.

    Storage files are written in the format of the Home Assistant that will run on the folder:
    pass that venv's interpreter as ``python`` (the one given to :func:`start_hass`) and the work
    is done by ``python scripts/ha_setup.py seed`` in it; without ``python`` the importable
    ``homeassistant`` package is used.

    - ``configuration.yaml`` copied from ``configuration`` (the repository's ``config/``) if the
      folder has none; the files it includes (automations/scripts/scenes.yaml) created empty;
    - ``custom_components/sinotrack`` symlinked to the working tree;
    - ``.storage/onboarding`` with every step done except the user (see :func:`onboard`);
    - a ``sinotrack`` listener config entry (``listener_port``, TCP/UDP, ``options``, default
      ``{"new_trackers": "add"}``) unless one exists or ``listener_entry`` is False;
    - the HTTP port (see :func:`seed_http_port`).

    Must not run while Home Assistant runs on the folder. Returns the folder.
    """
    config_dir = Path(config_dir)
    if python is not None:
        cmd = [str(python), __file__, "seed", str(config_dir), "--http-port", str(http_port)]
        cmd += ["--listener-port", str(listener_port)]
        cmd += ["--options", json.dumps(DEFAULT_OPTIONS if options is None else dict(options))]
        cmd += [] if tcp else ["--no-tcp"]
        cmd += [] if udp else ["--no-udp"]
        cmd += ["--configuration", str(configuration) if configuration else ""]
        cmd += [] if listener_entry else ["--no-entry"]
        subprocess.run(cmd, check=True)
        return config_dir
    config_dir.mkdir(parents=True, exist_ok=True)
    yaml_path = config_dir / "configuration.yaml"
    if configuration is not None and not yaml_path.exists():
        shutil.copyfile(configuration, yaml_path)
    for name, content in UI_YAML_FILES.items():
        if not (config_dir / name).exists():
            (config_dir / name).write_text(content, encoding="utf-8")
    (config_dir / "packages").mkdir(exist_ok=True)
    link_integration(config_dir)
    seed_onboarding(config_dir)
    if listener_entry:
        seed_config_entry(
            config_dir, listener_port=listener_port, tcp=tcp, udp=udp, options=options
        )
    seed_http_port(config_dir, http_port)
    return config_dir


def listener_ports(config_dir: Path | str) -> list[int]:
    """Return the ports of the ``sinotrack`` entries stored in the config folder."""
    store = _read_store(Path(config_dir) / ".storage" / "core.config_entries")
    if store is None:
        return []
    return [
        int(entry["data"]["port"])
        for entry in store["data"]["entries"]
        if entry.get("domain") == DOMAIN and "port" in entry.get("data", {})
    ]


# --------------------------------------------------------------------------------------------
# Running Home Assistant


def start_hass(
    config_dir: Path | str,
    *,
    python: Path | str | None = None,
    skip_pip: bool = True,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    stdout: Any = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start ``hass`` on ``config_dir`` in the background (its log: ``CONFIG/home-assistant.log``).

    ``python`` is the interpreter of a venv with Home Assistant (default: the develop venv's
    ``.venvs/develop-latest``). It runs in its own process group so :func:`stop_hass` can stop it.
    """
    if python is None:
        python = REPO / ".venvs" / "develop-latest" / "bin" / "python"
    cmd = [str(python), "-m", "homeassistant", "--config", str(config_dir)]
    if skip_pip:
        cmd.append("--skip-pip")
    cmd.extend(extra_args)
    return subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_hass(proc: subprocess.Popen[bytes], timeout: float = 60) -> int:
    """Stop a ``hass`` started by :func:`start_hass` (SIGTERM, then SIGKILL); return its code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


# --------------------------------------------------------------------------------------------
# HTTP


class HttpError(RuntimeError):
    """An HTTP request answered with an error status."""

    def __init__(self, status: int, body: str, url: str) -> None:
        super().__init__(f"{url}: HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


# Loopback only: never go through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Any:
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
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
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
    return _request(method, base_url.rstrip("/") + path, json_body=json_body, token=token)


def wait_ready(
    base_url: str,
    *,
    timeout: float = 600,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.5,
) -> list[dict[str, Any]] | None:
    """Wait until Home Assistant serves HTTP; return the onboarding steps (None once onboarded).

    Polls ``/api/onboarding``, which answers without a token (so no "invalid authentication"
    warnings in the log) once the HTTP server is started, i.e. once start-up has set up the
    integrations and config entries. Raises ``RuntimeError`` if ``proc`` exits first and
    ``TimeoutError`` after ``timeout`` seconds.
    """
    url = base_url.rstrip("/") + "/api/onboarding"
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Home Assistant exited with code {proc.returncode}")
        try:
            steps = _request("GET", url, timeout=5)
        except HttpError as err:
            if err.status == 404:  # onboarding finished: its views are no longer registered
                return None
        except OSError:
            pass
        else:
            return steps if isinstance(steps, list) else None
        if time.monotonic() > deadline:
            raise TimeoutError(f"Home Assistant did not answer on {base_url} in {timeout:.0f} s")
        time.sleep(interval)


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens from ``/auth/token``. The access token is valid for ``expires_in`` seconds."""

    access_token: str
    refresh_token: str | None
    expires_in: int


def client_id_for(base_url: str) -> str:
    """The IndieAuth client id Home Assistant's own frontend would use for ``base_url``."""
    parts = urllib.parse.urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


def _exchange_code(base_url: str, client_id: str, code: str) -> Tokens:
    result = _request(
        "POST",
        base_url.rstrip("/") + "/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    )
    return Tokens(result["access_token"], result.get("refresh_token"), int(result["expires_in"]))


def onboard(
    base_url: str,
    *,
    name: str = DEV_NAME,
    username: str = DEV_USERNAME,
    password: str = DEV_PASSWORD,
    language: str = "en",
) -> Tokens | None:
    """Create the owner through the onboarding API if the user step is still open.

    Finishes onboarding when the other steps are marked done (see :func:`seed_onboarding`).
    Returns tokens for the new user, or None if the folder was already onboarded.
    """
    steps = wait_ready(base_url, timeout=5)
    if steps is None or any(s["step"] == "user" and s["done"] for s in steps):
        return None
    client_id = client_id_for(base_url)
    result = _request(
        "POST",
        base_url.rstrip("/") + "/api/onboarding/users",
        json_body={
            "client_id": client_id,
            "name": name,
            "username": username,
            "password": password,
            "language": language,
        },
    )
    return _exchange_code(base_url, client_id, result["auth_code"])


def login(base_url: str, username: str = DEV_USERNAME, password: str = DEV_PASSWORD) -> Tokens:
    """Log in like the frontend does: login flow, then the authorization code for tokens."""
    client_id = client_id_for(base_url)
    flow = _request(
        "POST",
        base_url.rstrip("/") + "/auth/login_flow",
        json_body={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id + "?auth_callback=1",
        },
    )
    result = _request(
        "POST",
        base_url.rstrip("/") + f"/auth/login_flow/{flow['flow_id']}",
        json_body={"username": username, "password": password, "client_id": client_id},
    )
    if result.get("type") != "create_entry":
        raise RuntimeError(f"login failed: {result.get('errors') or result}")
    return _exchange_code(base_url, client_id, result["result"])


def revoke(base_url: str, tokens: Tokens) -> None:
    """Revoke the refresh token of a :func:`login` / :func:`onboard` (the session ends)."""
    if tokens.refresh_token:
        _request(
            "POST", base_url.rstrip("/") + "/auth/revoke", form={"token": tokens.refresh_token}
        )


def wait_running(
    base_url: str,
    access_token: str,
    *,
    timeout: float = 600,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.5,
) -> dict[str, Any]:
    """Wait until Home Assistant's state is RUNNING (start-up finished); return ``/api/config``.

    The HTTP server answers early in start-up (before config entries are set up), so after
    :func:`wait_ready` and a login, wait here before expecting the listener port to be bound.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Home Assistant exited with code {proc.returncode}")
        config: dict[str, Any] = api(base_url, access_token, "GET", "/api/config")
        if config.get("state") == "RUNNING":
            return config
        if time.monotonic() > deadline:
            raise TimeoutError(f"Home Assistant is still {config.get('state')} after {timeout} s")
        time.sleep(interval)


def create_long_lived_token(
    base_url: str, access_token: str, *, client_name: str = "scripts", lifespan_days: int = 30
) -> str:
    """Create a long-lived access token over the websocket API (needs ``aiohttp``)."""
    import asyncio

    import aiohttp

    ws_url = re.sub(r"^http", "ws", base_url.rstrip("/")) + "/api/websocket"

    async def run() -> str:
        async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": access_token})
            if (msg := await ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError(f"websocket auth failed: {msg}")
            await ws.send_json(
                {
                    "id": 1,
                    "type": "auth/long_lived_access_token",
                    "client_name": f"{client_name} {time.strftime('%Y%m%d-%H%M%S')}",
                    "lifespan": lifespan_days,
                }
            )
            msg = await ws.receive_json()
            if not msg.get("success"):
                raise RuntimeError(f"long-lived token refused: {msg}")
            token: str = msg["result"]
            return token

    return asyncio.run(run())


def _udp_bound_proc(port: int) -> bool | None:
    """Whether a UDP socket is bound to ``port`` per /proc/net/udp{,6}; None if unknown."""
    found = None
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(name).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        found = bool(found) or any(
            int(line.split()[1].rsplit(":", 1)[1], 16) == port for line in lines if line.strip()
        )
    return found


def free_port() -> int:
    """A port free on 127.0.0.1 for TCP and on all interfaces for UDP, for a listener or HTTP."""
    while True:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("", port))
            except OSError:
                continue
        return port


def port_status(port: int = DEFAULT_LISTENER_PORT, host: str = "127.0.0.1") -> tuple[bool, bool]:
    """Return (TCP accepts a connection, a UDP socket is bound) for the listener ``port``.

    UDP has no handshake: "bound" is read from /proc/net/udp (Linux), else probed by trying to
    bind the port (which, for that instant, could make a starting Home Assistant fail to bind).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.settimeout(2)
        tcp_ok = tcp.connect_ex((host, port)) == 0
    udp_bound = _udp_bound_proc(port)
    if udp_bound is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("0.0.0.0", port))  # is the wildcard port taken?
            except OSError:
                udp_bound = True
            else:
                udp_bound = False
    return tcp_ok, udp_bound


# A record of home-assistant.log: "<date> <time>.<ms> LEVEL (thread) [logger] message", then its
# traceback lines, if any.
LOG_RECORD = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (?P<level>[A-Z]+) \((?P<thread>[^)]*)\) "
    r"\[(?P<logger>[^\]]+)\] (?P<message>.*)$"
)
WEBSOCKET_LOGGER = "homeassistant.components.websocket_api.http.connection"
VALIDATION_TRACEBACK = "homeassistant.exceptions.ServiceValidationError: "


def validation_messages(integration_dir: Path = INTEGRATION_DIR) -> re.Pattern[str]:
    """The integration's translated exception messages (``exceptions`` in en.json), any values
    in their placeholders; or the bare translation key, when the translations were not loaded.
    (Home Assistant drops a message's final full stop.)"""
    strings = json.loads((integration_dir / "translations" / "en.json").read_text("utf-8"))
    choices = []
    for key, entry in strings.get("exceptions", {}).items():
        parts = re.split(r"\{[a-z_]+\}", str(entry.get("message", "")).removesuffix("."))
        choices += [".+?".join(re.escape(part) for part in parts) + r"\.?", re.escape(key)]
    return re.compile("|".join(f"(?:{choice})" for choice in choices))


def is_validation_error(record: Sequence[str], messages: re.Pattern[str]) -> bool:
    """Whether a log record is Home Assistant reporting a ServiceValidationError of ours: the
    user's error (a refused engine cut), which it logs at ERROR too.

    The websocket API (the UI) logs one as "[<connection>] <message>" on 2025.4 and 2026.10, and
    2025.4's REST API as a traceback ending in "ServiceValidationError: <message>". A real error
    reads otherwise: "Unexpected exception" and a traceback (2025.4), "Error during service call
    to …" (2026.10), or another logger.
    """
    head = LOG_RECORD.match(record[0])
    if head is None or head["level"] != "ERROR":
        return False
    if head["logger"] == WEBSOCKET_LOGGER and len(record) == 1:
        text = re.sub(r"^\[\d+\] ", "", head["message"], count=1)
        return messages.fullmatch(text) is not None
    last = record[-1].strip()
    return (
        len(record) > 1
        and last.startswith(VALIDATION_TRACEBACK)
        and messages.fullmatch(last.removeprefix(VALIDATION_TRACEBACK)) is not None
    )


def _log_records(lines: Iterable[str]) -> list[list[str]]:
    records: list[list[str]] = []
    for line in lines:
        if LOG_RECORD.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)  # a traceback or a message of several lines
    return records


def check_log(config_dir: Path | str, *, log_name: str = "home-assistant.log") -> list[str]:
    """Return the problem lines of a Home Assistant log: errors, recovery mode, package installs.

    The known warning about custom integrations not being tested by Home Assistant is allowed,
    and so is Home Assistant's report of a ServiceValidationError of this integration (a refused
    engine cut is the user's error, not the system's: see ``is_validation_error``).
    """
    path = Path(config_dir) / log_name
    if not path.exists():
        return [f"{path} does not exist"]
    messages = validation_messages()
    problems = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for record in _log_records(lines):
        if is_validation_error(record, messages):
            continue
        for line in record:
            if any(p.search(line) for p in LOG_ALLOWED):
                continue
            if any(p.search(line) for p in LOG_PROBLEMS):
                problems.append(line)
    return problems


# --------------------------------------------------------------------------------------------
# Requirements


def _manifest(domain: str, custom_dirs: Iterable[Path]) -> dict[str, Any] | None:
    import homeassistant

    candidates = [Path(d) / domain / "manifest.json" for d in custom_dirs]
    candidates.append(Path(homeassistant.__file__).parent / "components" / domain / "manifest.json")
    for path in candidates:
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return None


def config_domains(configuration: Path) -> set[str]:
    """The integration domains configured at the top level of a configuration.yaml."""
    domains = set()
    for line in configuration.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([a-z0-9_]+):", line):
            domains.add(match.group(1))
    return domains


def integration_domains(integration_dir: Path = INTEGRATION_DIR) -> set[str]:
    """Domains the integration makes Home Assistant set up: itself and its entity platforms."""
    from homeassistant.const import Platform

    platforms = {platform.value for platform in Platform}
    return {DOMAIN} | {m.stem for m in integration_dir.glob("*.py") if m.stem in platforms}


def component_requirements(
    domains: Iterable[str], custom_dirs: Iterable[Path] = (REPO / "custom_components",)
) -> dict[str, list[str]]:
    """Requirements Home Assistant checks when it sets up ``domains``: {requirement: [domain]}.

    Follows what ``homeassistant.requirements`` does: the integrations Home Assistant always
    sets up are added, then dependencies, after-dependencies and discovery integrations named by
    a manifest (zeroconf, ssdp, dhcp, mqtt), recursively.
    """
    from homeassistant import bootstrap
    from homeassistant.requirements import DISCOVERY_INTEGRATIONS

    custom_dirs = list(custom_dirs)
    todo = {*domains, *bootstrap.DEFAULT_INTEGRATIONS, *bootstrap.CORE_INTEGRATIONS}
    seen: dict[str, dict[str, Any]] = {}
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        manifest = _manifest(domain, custom_dirs) or {}
        seen[domain] = manifest
        todo.update(manifest.get("dependencies", []))
        todo.update(manifest.get("after_dependencies", []))
        for check_domain, keys in DISCOVERY_INTEGRATIONS.items():
            if any(key in manifest for key in keys):
                todo.add(check_domain)
    requirements: dict[str, list[str]] = {}
    for domain in sorted(seen):
        for requirement in seen[domain].get("requirements", []):
            requirements.setdefault(requirement, []).append(domain)
    return dict(sorted(requirements.items(), key=lambda item: item[0].lower()))


def lock(python: str, homeassistant_version: str, output: Path, configuration: Path) -> None:
    """Write a fully pinned requirements file for Home Assistant + the config's components.

    Creates a throw-away venv with ``python``, installs ``homeassistant==VERSION``, resolves the
    requirements of the components ``configuration`` sets up (see :func:`component_requirements`),
    installs them under Home Assistant's own ``package_constraints.txt`` and freezes the result.
    """
    with tempfile.TemporaryDirectory(prefix="ha-lock-") as tmp:
        venv = Path(tmp) / "venv"
        vpy = str(venv / "bin" / "python")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([vpy, "-m", "pip", "install", "-q", "uv"], check=True)
        uv = [str(venv / "bin" / "uv"), "pip", "install", "-q", "--python", vpy]
        subprocess.run([*uv, f"homeassistant=={homeassistant_version}"], check=True)
        listing = subprocess.run(
            [vpy, __file__, "requirements", "--configuration", str(configuration)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        reqs = [line.split()[0] for line in listing.splitlines() if line and line[0] != "#"]
        constraints = subprocess.run(
            [vpy, "-c", "import homeassistant, os; print(os.path.dirname(homeassistant.__file__))"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout.strip()
        subprocess.run(
            [*uv, "-c", f"{constraints}/package_constraints.txt", *reqs],
            check=True,
        )
        frozen = subprocess.run(
            [str(venv / "bin" / "uv"), "pip", "freeze", "--python", vpy],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        version = subprocess.run(
            [vpy, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout.strip()
    pinned = [line for line in frozen.splitlines() if line and not line.startswith(("pip==", "-e"))]
    header = [
        f"# Home Assistant {homeassistant_version} for scripts/develop, on Python {version}.",
        "# Fully pinned: Home Assistant, its frontend and every package the components in",
        "# config/configuration.yaml (and the ones Home Assistant always sets up) need, so that",
        "# nothing is installed when Home Assistant starts. Component requirements:",
        *(f"#   {line}" for line in listing.splitlines() if line and line[0] != "#"),
        "# Regenerate (do not edit by hand):",
        f"#   python scripts/ha_setup.py lock --python python{version} "
        f"--homeassistant {homeassistant_version} -o {output.name}",
    ]
    output.write_text("\n".join([*header, *pinned]) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# CLI


def _ready_banner(args: argparse.Namespace) -> int:
    """Wait for Home Assistant, finish onboarding, print how to log in (used by scripts/develop)."""
    parent = os.getppid()
    start = float(args.started_at)
    url = args.url.rstrip("/")
    deadline = time.monotonic() + args.timeout
    steps: list[dict[str, Any]] | None = None
    while True:
        if os.getppid() != parent:  # hass (which we were started by) is gone
            return 1
        try:
            steps = wait_ready(url, timeout=1)
            break
        except TimeoutError:
            if time.monotonic() > deadline:
                print(f"[develop] Home Assistant did not answer within {args.timeout} s")
                return 1
    created = onboard(url) if steps is not None else None
    note = ""
    try:
        tokens = created or login(url)
    except (HttpError, RuntimeError) as err:
        note = f"  (could not log in as {DEV_USERNAME}/{DEV_PASSWORD}: {err}; use --reset?)"
    else:
        try:
            wait_running(url, tokens.access_token, timeout=max(deadline - time.monotonic(), 1))
        finally:
            revoke(url, tokens)  # no refresh token pile-up, one per start
    ready = time.time() - start
    lines = [
        "",
        "=" * 72,
        f"  Home Assistant is up: {args.public_url}   (ready {ready:.0f} s after start)",
        f"  Login: user '{DEV_USERNAME}', password '{DEV_PASSWORD}'"
        + ("   (owner just created)" if created else "")
        + note,
    ]
    for port in listener_ports(args.config_dir) or [DEFAULT_LISTENER_PORT]:
        tcp_ok, udp_bound = port_status(port)
        state = (
            f"TCP {'accepting' if tcp_ok else 'NOT listening'}, "
            f"UDP {'bound' if udp_bound else 'NOT bound'}"
        )
        lines.append(f"  Tracker listener: port {port}  ({state})")
    if args.bootstrap_seconds:
        lines.append(f"  Bootstrap (venv) took {float(args.bootstrap_seconds):.0f} s")
    lines += [f"  Log: {Path(args.config_dir) / 'home-assistant.log'}   Stop: Ctrl-C", "=" * 72, ""]
    print("\n".join(lines), flush=True)
    return 0


# Commands that import a package a plain system Python lacks (Debian's python3 has no aiohttp).
COMMAND_NEEDS = {"token": "aiohttp", "seed": "homeassistant", "requirements": "homeassistant"}
REEXEC_MARK = "HA_SETUP_REEXECUTED"


def develop_python(repo: Path = REPO) -> Path | None:
    """The develop environment's interpreter (``scripts/develop --bootstrap-only`` makes it)."""
    for flavour in ("latest", "oldest"):
        python = repo / ".venvs" / f"develop-{flavour}" / "bin" / "python"
        if python.exists():
            return python
    return None


def _run_where_it_can(command: str, argv: Sequence[str]) -> None:
    """Re-run this command with the develop environment's Python when this one lacks what the
    command imports; or say plainly what to do. Returns when this Python will do."""
    module = COMMAND_NEEDS.get(command)
    if module is None or importlib.util.find_spec(module) is not None:
        return
    python = develop_python()
    if python is None or os.environ.get(REEXEC_MARK):  # none, or it lacks the package too
        raise SystemExit(
            f"ha_setup.py {command} needs the Python package {module}, which {sys.executable} "
            "does not have: run scripts/develop --bootstrap-only once (it creates "
            ".venvs/develop-latest), then run .venvs/develop-latest/bin/python "
            f"scripts/ha_setup.py {command} …"
        )
    print(f"{sys.executable} has no {module}: running with {python}", file=sys.stderr)
    os.environ[REEXEC_MARK] = "1"
    os.execv(python, [str(python), str(Path(__file__).resolve()), *argv])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("seed", help="prepare a config folder (idempotent)")
    p.add_argument("config_dir", type=Path)
    p.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT)
    p.add_argument("--listener-port", type=int, default=DEFAULT_LISTENER_PORT)
    p.add_argument(
        "--options", type=json.loads, default=DEFAULT_OPTIONS, help="entry options, JSON"
    )
    p.add_argument("--configuration", default=str(CONFIG_TEMPLATE), help="YAML to copy if none")
    p.add_argument("--no-tcp", action="store_true")
    p.add_argument("--no-udp", action="store_true")
    p.add_argument("--no-entry", action="store_true", help="no listener entry (add it via the UI)")

    for name in ("wait", "running"):
        p = sub.add_parser(name, help="wait until Home Assistant answers HTTP / has started")
        p.add_argument("url")
        p.add_argument("--timeout", type=float, default=600)

    for name in ("onboard", "login", "token"):
        p = sub.add_parser(name, help=f"{name} (user {DEV_USERNAME}/{DEV_PASSWORD} by default)")
        p.add_argument("url")
        p.add_argument("--username", default=DEV_USERNAME)
        p.add_argument("--password", default=DEV_PASSWORD)

    p = sub.add_parser("check-log", help="list problem lines of home-assistant.log")
    p.add_argument("config_dir", type=Path)

    p = sub.add_parser("ports", help="listener port status")
    p.add_argument("--listener-port", type=int, default=DEFAULT_LISTENER_PORT)

    p = sub.add_parser("requirements", help="requirements of the configured components")
    p.add_argument("--configuration", type=Path, default=CONFIG_TEMPLATE)

    p = sub.add_parser("lock", help="regenerate a pinned requirements file")
    p.add_argument("--python", required=True)
    p.add_argument("--homeassistant", required=True)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--configuration", type=Path, default=CONFIG_TEMPLATE)

    p = sub.add_parser("ready-banner", help=argparse.SUPPRESS)
    p.add_argument("url")
    p.add_argument("config_dir", type=Path)
    p.add_argument("--public-url", required=True)
    p.add_argument("--started-at", required=True)
    p.add_argument("--bootstrap-seconds", default="")
    p.add_argument("--timeout", type=float, default=900)

    args = parser.parse_args(argv)
    _run_where_it_can(args.command, sys.argv[1:] if argv is None else argv)
    match args.command:
        case "seed":
            seed_config(
                args.config_dir,
                http_port=args.http_port,
                listener_port=args.listener_port,
                tcp=not args.no_tcp,
                udp=not args.no_udp,
                options=args.options,
                configuration=Path(args.configuration) if args.configuration else None,
                listener_entry=not args.no_entry,
            )
        case "wait":
            wait_ready(args.url, timeout=args.timeout)
        case "running":
            wait_ready(args.url, timeout=args.timeout)
            tokens = login(args.url)
            try:
                print(wait_running(args.url, tokens.access_token, timeout=args.timeout)["version"])
            finally:
                revoke(args.url, tokens)
        case "onboard":
            created = onboard(args.url, username=args.username, password=args.password)
            print("created" if created else "already onboarded")
        case "login":
            print(login(args.url, args.username, args.password).access_token)
        case "token":
            tokens = login(args.url, args.username, args.password)
            print(create_long_lived_token(args.url, tokens.access_token))
            revoke(args.url, tokens)
        case "check-log":
            problems = check_log(args.config_dir)
            print("\n".join(problems) if problems else "log clean")
            return 1 if problems else 0
        case "ports":
            tcp_ok, udp_bound = port_status(args.listener_port)
            print(
                f"tcp={'accepting' if tcp_ok else 'closed'} udp={'bound' if udp_bound else 'free'}"
            )
            return 0 if tcp_ok and udp_bound else 1
        case "requirements":
            domains = config_domains(args.configuration) | integration_domains()
            for requirement, users in component_requirements(domains).items():
                print(f"{requirement}  # {', '.join(users)}")
        case "lock":
            lock(args.python, args.homeassistant, args.output, args.configuration)
        case "ready-banner":
            with contextlib.suppress(KeyboardInterrupt):
                return _ready_banner(args)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
