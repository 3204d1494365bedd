"""Codec output as plain JSON-ready dicts (the decode CLI prints these, one per line)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .model import (
    CellReport,
    CommandAck,
    Decoded,
    DecodeError,
    DeviceIdentity,
    Flags,
    Heartbeat,
    Position,
)


def _iso(when: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as the CLI contract wants."""
    if when is None:
        return None
    return when.isoformat().replace("+00:00", "Z")


def _status(status: int | None) -> str | None:
    return None if status is None else f"{status:08X}"


def _flags(flags: Flags) -> dict[str, bool | None]:
    return {
        "ignition": flags.ignition,
        "external_power_cut": flags.external_power_cut,
        "immobilizer_engaged": flags.immobilizer_engaged,
        "door_open": flags.door_open,
        "armed": flags.armed,
    }


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("ascii", "backslashreplace")


# JT/T 808 answers with their own message IDs: a position query with 0x0201, a parameter
# query with 0x0104, everything else with the terminal general response 0x0001.
_JT808_ANSWER_IDS = {"0x8201": "0x0201", "0x8104": "0x0104"}


def _ack_type(ack: CommandAck) -> str:
    if ack.protocol == "h02":
        return "V4"
    return _JT808_ANSWER_IDS.get(ack.command, "0x0001")  # the other protocol: JT/T 808


def _voltage(supply: float | None, battery: float | None) -> float | None:
    return supply if supply is not None else battery


def describe_error(error: DecodeError) -> dict[str, Any]:
    return {"error": error.reason, "raw_hex": error.raw.hex()}


def describe(item: Decoded, protocol: str | None = None) -> dict[str, Any]:
    """Every contract key (null where it does not apply), then type-specific extras."""
    message = item.message
    out: dict[str, Any] = {
        "protocol": protocol or message.protocol,
        "type": getattr(message, "message_type", None),
        "device_id": message.device_id,
        "fix_time": None,
        "valid": None,
        "latitude": None,
        "longitude": None,
        "speed_kmh": None,
        "course": None,
        "status": None,
        "alarms": [],
        "ignition": None,
        "battery_percent": None,
        "satellites": None,
        "signal": None,
        "voltage": None,  # the supply voltage if reported, else the battery's
        "iccid": None,
        "warnings": [],
        "reply": _text(item.reply),
        "reply_hex": None if item.reply is None else item.reply.hex(),
    }
    position: Position | None = None
    if isinstance(message, Position):
        position = message
    elif isinstance(message, CommandAck):
        position = message.position
        out["type"] = _ack_type(message)
        out.update(
            command=message.command,
            tag=message.tag,
            result=message.result,
            success=message.success,
            params=list(message.params),
        )
    if position is not None:
        out.update(
            fix_time=_iso(position.fix_time),
            valid=position.valid,
            latitude=round(position.latitude, 7),
            longitude=round(position.longitude, 7),
            speed_kmh=round(position.speed_kmh, 3),
            course=position.course,
            status=_status(position.status),
            alarms=sorted(position.alarms),
            ignition=position.flags.ignition,
            battery_percent=position.battery_percent,
            satellites=position.satellites,
            signal=position.signal,
            voltage=_voltage(position.power_voltage, position.battery_voltage),
            iccid=position.iccid,
            warnings=list(position.warnings),
            flags=_flags(position.flags),
            stored=position.stored,
            extras=list(position.extras),
        )
        if position.altitude_m is not None:
            out["altitude_m"] = position.altitude_m
        for key in ("battery_voltage", "power_voltage", "odometer_km"):
            if (value := getattr(position, key)) is not None:
                out[key] = value
    elif isinstance(message, Heartbeat | CellReport):
        out.update(
            device_time=_iso(message.device_time),
            status=_status(message.status),
            alarms=sorted(message.alarms),
            ignition=message.flags.ignition,
            battery_percent=message.battery_percent,
            flags=_flags(message.flags),
        )
        if isinstance(message, Heartbeat):
            out.update(
                signal=message.signal,
                satellites=message.satellites,
                voltage=_voltage(message.power_voltage, message.battery_voltage),
            )
        else:
            out.update(
                mcc=message.mcc,
                mnc=message.mnc,
                cells=[[c.lac, c.cid, c.rssi] for c in message.cells],
            )
    elif isinstance(message, DeviceIdentity):
        out.update(
            text=message.text,
            model=message.model,
            firmware=message.firmware,
            imei=message.imei,
            iccid=message.iccid,
        )
    out["raw"] = item.raw.decode("ascii") if item.raw.isascii() else None
    out["raw_hex"] = item.raw.hex()
    return out
