"""The HTTP port of a development Home Assistant, set the way each version takes it.

Both versions read an ``http:`` YAML section (``packages/http.yaml``; configuration.yaml
includes ``packages/``). Home Assistant 2026.x moves that section into ``.storage/http`` as a
five-minute trial, then reverts to port 8123 and restarts unless the trial is promoted (the
websocket command ``http/config/promote``): ``confirm_http_port`` promotes it once Home
Assistant runs, then removes the YAML, which the store now holds (left in place it would raise
a repair issue), and dismisses the repair issue of the migration itself. Before a start, a store
that holds another port is removed so that the YAML is migrated afresh: no API changes the port
of a Home Assistant that is not running.
"""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path
from typing import Final

from .client import WebSocketError, websocket
from .defaults import DEFAULT_HTTP_PORT
from .storage import read_store

PACKAGE: Final = Path("packages") / "http.yaml"
STORE: Final = Path(".storage") / "http"
DISMISS_YAML_ISSUE: Final = {
    "type": "repairs/ignore_issue",
    "domain": "http",
    "issue_id": "deprecated_yaml",
    "ignore": True,
}


def has_http_store() -> bool:
    """Whether the importable Home Assistant keeps its HTTP settings in ``.storage/http``."""
    try:
        module = importlib.import_module("homeassistant.components.http.config")
    except ImportError:
        return False
    return hasattr(module, "HTTPConfigStore")


def stored_port(config_dir: Path) -> int | None:
    """The port ``.storage/http`` makes Home Assistant 2026.x serve on; None when it holds none
    for sure (no file, or a trial that was never confirmed)."""
    store = read_store(Path(config_dir) / STORE)
    if store is None:
        return None
    data = store.get("data") or {}
    if "stable" not in data:  # written by 2025.x, a copy for recovery mode: migrated as stable
        return int(data.get("server_port", DEFAULT_HTTP_PORT))
    pending = data.get("pending")
    if pending is not None and pending.get("error") is None:
        return None
    return int(data["stable"].get("server_port", DEFAULT_HTTP_PORT))


def prepare_http_port(config_dir: Path, http_port: int) -> None:
    """Make the next start serve on ``http_port`` (run with that Home Assistant's Python)."""
    config_dir = Path(config_dir)
    package = config_dir / PACKAGE
    if has_http_store():
        if stored_port(config_dir) == http_port:
            package.unlink(missing_ok=True)
            return
        (config_dir / STORE).unlink(missing_ok=True)
    if http_port == DEFAULT_HTTP_PORT:
        package.unlink(missing_ok=True)
        return
    package.parent.mkdir(parents=True, exist_ok=True)
    package.write_text(
        "# Written by tools/devenv (http_port.py): the HTTP port of this instance.\n"
        f"http:\n  server_port: {http_port}\n",
        encoding="utf-8",
    )


def confirm_http_port(base_url: str, access_token: str, config_dir: Path) -> None:
    """Promote 2026.x's trial of the YAML port, if it runs one; then drop the YAML it holds.

    Nothing to do on 2025.x (no ``http/config`` command: the YAML is the configuration).
    """
    try:
        (config,) = websocket(base_url, access_token, {"type": "http/config"})
    except WebSocketError as err:
        if err.code == "unknown_command":
            return
        raise
    if config.get("active_config_type") == "pending":
        websocket(base_url, access_token, {"type": "http/config/promote"})
        # The migration's repair issue asks to remove the YAML, which goes now; Home Assistant
        # drops the issue at its next start, so until then it is dismissed (no Settings badge).
        with contextlib.suppress(WebSocketError):
            websocket(base_url, access_token, DISMISS_YAML_ISSUE)
    (Path(config_dir) / PACKAGE).unlink(missing_ok=True)
