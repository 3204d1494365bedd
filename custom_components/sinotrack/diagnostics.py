"""Diagnostics: counters and recent frames; tracker IDs, coordinates and phone numbers redacted."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_TRACKER_ID, DOMAIN
from .immobilizer import restore_style
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

REDACTED = "**REDACTED**"
TO_REDACT = {CONF_TRACKER_ID, "unique_id", "title", "latitude", "longitude", "tracker_id", "name"}
# IDs, phone numbers, coordinates, ICCIDs, cell IDs; Wi-Fi BSSIDs (12 hex digits, H02 V8)
_SECRET_RUN = re.compile(r"\d{4,}|(?<![0-9A-Za-z])[0-9A-Fa-f]{12}(?![0-9A-Za-z])")


def redact_frame(raw: bytes) -> str:
    """A frame's shape without anything that identifies or locates someone."""
    if raw[:1] in (b"*",):
        text = raw.decode("ascii", "replace")
        return _SECRET_RUN.sub(lambda m: "#" * len(m.group()), text)
    return f"binary frame, lead 0x{raw[:1].hex() or '--'}, {len(raw)} bytes"


def masked_iccid(iccid: str | None) -> str | None:
    """The SIM's issuer (country, operator) and last four digits, enough to tell which SIM it
    is; the whole number is the ICCID sensor's (disabled by default)."""
    if iccid is None:
        return None
    return iccid[:6] + "#" * (len(iccid) - 10) + iccid[-4:]


def _tracker(tracker: TrackerState, *, whole_iccid: bool = False) -> dict[str, Any]:
    """``whole_iccid``: the device's own diagnostics show the SIM's ICCID whole (people top up
    the SIM by it); the entry's overview of every tracker masks it."""
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
        "dialect": tracker.dialect,
        "iccid": tracker.iccid if whole_iccid else masked_iccid(tracker.iccid),
        # The cell and Wi-Fi IDs locate the tracker: the network and how many, nothing more.
        "serving_cell": {"mcc": tracker.mcc, "mnc": tracker.mnc, "cells": tracker.cell_count},
        "wifi_access_points": tracker.wifi_count,
        "r12_replies": tracker.r12_replies,
        "command_style": tracker.command_style.value,
        "restore_style": restore_style(tracker).value,
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
        "trackers": [
            {**_tracker(t), "relay": runtime.hub.relay.diagnostics(t.tracker_id)}
            for t in runtime.hub.trackers.values()
        ],
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
            "tracker": _tracker(trackers[0], whole_iccid=True) if trackers else None,
            "relay": entry.runtime_data.hub.relay.diagnostics(trackers[0].tracker_id)
            if trackers
            else None,
        },
        TO_REDACT,
    )
