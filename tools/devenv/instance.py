"""A real Home Assistant on a config folder, brought up the same way wherever one is needed.

``bring_up`` is the order every user of a real Home Assistant here follows (``scripts/develop``,
the end-to-end test, the soak test, the screenshots): wait for HTTP, create the owner on a fresh
folder (else log in), wait for the end of start-up, confirm the HTTP port. ``Instance`` wraps it
around a ``hass`` process of its own.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .auth import Tokens, login
from .client import api
from .http_port import confirm_http_port
from .onboarding import onboard
from .process import free_port, start_hass, stop_hass
from .readiness import wait_ready, wait_running


def bring_up(
    base_url: str,
    config_dir: Path,
    *,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = 600,
) -> tuple[Tokens, bool]:
    """Wait for Home Assistant and get in: tokens for dev/dev, and whether the owner was just
    created. Returns once start-up has finished and the HTTP port is confirmed."""
    steps = wait_ready(base_url, proc=proc, timeout=timeout)
    created = onboard(base_url) if steps is not None else None
    tokens = created or login(base_url)
    wait_running(base_url, tokens.access_token, proc=proc, timeout=timeout)
    confirm_http_port(base_url, tokens.access_token, config_dir)
    return tokens, created is not None


@dataclass
class Instance:
    """``hass`` on ``config_dir`` (seeded with ``seed_config`` for ``http_port``), run by
    ``python`` (a venv with Home Assistant). ``token``: an access token once started."""

    config_dir: Path
    python: str
    http_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    tokens: Tokens | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def token(self) -> str:
        if self.tokens is None:
            raise RuntimeError("Home Assistant is not started")
        return self.tokens.access_token

    def start(self, timeout: float = 240) -> bool:
        """Start and bring up Home Assistant; whether the owner was just created."""
        self.proc = start_hass(self.config_dir, python=self.python)
        self.tokens, created = bring_up(self.url, self.config_dir, proc=self.proc, timeout=timeout)
        return created

    def stop(self, timeout: float = 60) -> None:
        if self.proc is not None:
            stop_hass(self.proc, timeout=timeout)
            self.proc = None

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return api(self.url, self.token, method, path, body)

    def states(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        """The states whose entity ID starts with ``prefix``, by entity ID."""
        return {
            s["entity_id"]: s
            for s in self.api("GET", "/api/states")
            if s["entity_id"].startswith(prefix)
        }
