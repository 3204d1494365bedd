"""Waiting for a starting Home Assistant: first its HTTP server, then the end of start-up."""

from __future__ import annotations

import subprocess
import time
from typing import Any

from .client import HttpError, api, request


def wait_ready(
    base_url: str,
    *,
    timeout: float = 600,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.5,
) -> list[dict[str, Any]] | None:
    """Wait until Home Assistant serves HTTP; return the onboarding steps (None once onboarded).

    Polls ``/api/onboarding``, which answers without a token (so no "invalid authentication"
    warnings in the log) once the HTTP server is started. On newer versions that is before the
    config entries are set up: ``wait_running`` waits for the end of start-up. Raises
    ``RuntimeError`` if ``proc`` exits first and ``TimeoutError`` after ``timeout`` seconds.
    """
    url = base_url.rstrip("/") + "/api/onboarding"
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Home Assistant exited with code {proc.returncode}")
        try:
            steps = request("GET", url, timeout=5)
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


def wait_running(
    base_url: str,
    access_token: str,
    *,
    timeout: float = 600,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.5,
) -> dict[str, Any]:
    """Wait until Home Assistant's state is RUNNING (start-up finished); return ``/api/config``.

    Only then are the config entries set up (the listener port bound).
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
