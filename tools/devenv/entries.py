"""The SinoTrack listener entry of a running Home Assistant, made through its config flow API.

``add_listener`` walks the flows a user walks in the UI: the config flow
(``/api/config/config_entries/flow``: port, TCP, UDP), then the options flow for anything other
than the defaults (``new_trackers`` …). A form that comes back with errors (the port is taken)
is a ``FlowError`` with the integration's own message for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .client import api
from .defaults import DEFAULT_LISTENER_PORT, DEFAULT_OPTIONS, DOMAIN, INTEGRATION_DIR

FLOWS = "/api/config/config_entries"


class FlowError(RuntimeError):
    """A flow did not create its entry: a form with errors, or an abort."""


def _messages(errors: Mapping[str, str]) -> str:
    """The integration's English messages for a form's error keys (the keys if unknown)."""
    strings = json.loads((INTEGRATION_DIR / "translations" / "en.json").read_text("utf-8"))
    known = strings.get("config", {}).get("error", {})
    return " ".join(str(known.get(key, key)) for key in errors.values())


def _submit(base_url: str, token: str, flow: str, step: Mapping[str, Any], data: Any) -> Any:
    """Fill ``step``'s form: its defaults, overridden by ``data``; return the next step."""
    if step.get("type") != "form":
        raise FlowError(f"{flow}: {step.get('type')} {step.get('reason') or ''}".strip())
    fields = {f["name"]: f["default"] for f in step.get("data_schema", []) if "default" in f}
    result = api(base_url, token, "POST", f"{flow}/{step['flow_id']}", {**fields, **data})
    if result.get("type") == "form" and result.get("errors"):
        raise FlowError(_messages(result["errors"]))
    if result.get("type") != "create_entry":
        raise FlowError(f"{flow}: {result.get('type')} {result.get('reason') or ''}".strip())
    return result


def listener_entries(base_url: str, token: str) -> list[dict[str, Any]]:
    """The SinoTrack entries (``entry_id``, ``title``, ``state`` …)."""
    entries: list[dict[str, Any]] = api(base_url, token, "GET", f"{FLOWS}/entry?domain={DOMAIN}")
    return [e for e in entries if e.get("domain") == DOMAIN]


def add_listener(
    base_url: str,
    token: str,
    *,
    port: int = DEFAULT_LISTENER_PORT,
    tcp: bool = True,
    udp: bool = True,
    options: Mapping[str, Any] | None = None,
) -> str:
    """Add a listener entry on ``port`` with ``options`` (default: new trackers added at once);
    return its entry ID. ``FlowError`` when the flow refuses."""
    flow = f"{FLOWS}/flow"
    step = api(base_url, token, "POST", flow, {"handler": DOMAIN})
    created = _submit(base_url, token, flow, step, {"port": port, "tcp": tcp, "udp": udp})
    entry_id = str(created["result"]["entry_id"])
    wanted = DEFAULT_OPTIONS if options is None else options
    if wanted:
        flow = f"{FLOWS}/options/flow"
        step = api(base_url, token, "POST", flow, {"handler": entry_id})
        _submit(base_url, token, flow, step, dict(wanted))
    return entry_id
