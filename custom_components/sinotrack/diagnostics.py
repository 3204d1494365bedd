"""Diagnostics: counters and recent frames; tracker IDs, coordinates and phone numbers redacted."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_TRACKER_ID, DOMAIN
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

REDACTED = "**REDACTED**"
TO_REDACT = {CONF_TRACKER_ID, "unique_id", "title", "latitude", "longitude", "tracker_id", "name"}
_DIGIT_RUN = re.compile(r"\d{4,}")  # IDs, phone numbers, coordinates, ICCIDs


def redact_frame(raw: bytes) -> str:
    """A frame's shape without anything that identifies or locates someone."""
    if raw[:1] in (b"*",):
        text = raw.decode("ascii", "replace")
        return _DIGIT_RUN.sub(lambda m: "#" * len(m.group()), text)
    return f"binary frame, lead 0x{raw[:1].hex() or '--'}, {len(raw)} bytes"


def _tracker(tracker: TrackerState) -> dict[str, Any]:
    return {
        "tracker_id": REDACTED,
        "protocol": tracker.protocol,
        "online": tracker.online,
        "has_fix": tracker.latitude is not None,
        "fix_time": tracker.fix_time.isoformat() if tracker.fix_time else None,
        "last_seen": tracker.last_seen.isoformat() if tracker.last_seen else None,
        "speed_kmh": tracker.speed_kmh,
        "battery_percent": tracker.battery_percent,
        "voltage": tracker.voltage,
        "signal": tracker.signal,
        "satellites": tracker.satellites,
        "ignition": tracker.ignition,
        "external_power": tracker.external_power,
        "immobilized": tracker.immobilized,
        "status": f"{tracker.status:08X}" if tracker.status is not None else None,
        "active_alarms": sorted(tracker.active_alarms),
        "clock_offset_hours": tracker.clock.offset_hours,
        "model": tracker.model,
        "firmware": tracker.firmware,
    }


def _counters(entry: SinoTrackConfigEntry) -> dict[str, Any]:
    runtime = entry.runtime_data
    server = runtime.server.stats
    return {
        "listener": {
            "connections_accepted": server.connections_accepted,
            "connections_refused": server.connections_refused,
            "connections_open": server.connections_open,
            "idle_timeouts": server.idle_timeouts,
            "bytes_received": server.bytes_received,
            "datagrams": server.datagrams,
            "unknown_protocol_bytes": server.unknown_protocol_bytes,
            "sink_errors": server.sink_errors,
        },
        "codec": asdict(server.codec),
        "hub": asdict(runtime.hub.stats),
        "pending_trackers": len(runtime.hub.pending),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SinoTrackConfigEntry
) -> dict[str, Any]:
    runtime = entry.runtime_data
    return {
        "entry": {
            "data": dict(entry.data),
            "options": dict(entry.options),
            "trackers": len(entry.subentries),
        },
        "counters": _counters(entry),
        "trackers": [_tracker(t) for t in runtime.hub.trackers.values()],
        "recent_frames": [redact_frame(f) for f in runtime.server.stats.recent_frames],
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: SinoTrackConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    ids = {ident for domain, ident in device.identifiers if domain == DOMAIN}
    trackers = [t for t in entry.runtime_data.hub.trackers.values() if t.tracker_id in ids]
    return async_redact_data(
        {
            "device": {"model": device.model, "sw_version": device.sw_version},
            "tracker": _tracker(trackers[0]) if trackers else None,
        },
        TO_REDACT,
    )
