"""The ``hass`` process and the ports around it: start, stop, free ports, the listener's state."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tools import REPO

from .defaults import DEFAULT_LISTENER_PORT


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


def until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Call ``check`` until it returns something true; ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


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
    """A port free on every interface for both TCP and UDP right now (a listener or HTTP)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")


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
