"""Fast construction of the frozen model values, shared by the codecs.

A frozen dataclass __init__ calls object.__setattr__ once per field: for Position that is
about half the cost of decoding a whole V1 report. ``new_position`` fills a plain slotted
twin (same slots, same order, so the same memory layout) with ordinary attribute stores and
then switches its class to Position: the result is a genuine, frozen Position (type, eq,
hash, repr, pickling all unchanged). If the model's fields ever change, the builders fall
back to the regular constructors (same positional order), so this cannot go stale silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from typing import Any

from .model import Alarm, Cell, Decoded, Flags, Message, Position, WifiAccessPoint

_POSITION_FIELDS = (
    "protocol",
    "device_id",
    "message_type",
    "fix_time",
    "valid",
    "latitude",
    "longitude",
    "speed_kmh",
    "course",
    "altitude_m",
    "status",
    "flags",
    "alarms",
    "battery_percent",
    "battery_voltage",
    "power_voltage",
    "odometer_km",
    "signal",
    "satellites",
    "stored",
    "extras",
    "iccid",
    "mcc",
    "mnc",
    "cells",
    "wifi",
    "warnings",
)

PositionBuilder = Callable[..., Position]
DecodedBuilder = Callable[[Message, bytes | None, bytes], Decoded]


class _PositionSlots:
    __slots__ = _POSITION_FIELDS


def _make_position_builder() -> PositionBuilder:
    if (
        tuple(f.name for f in fields(Position)) != _POSITION_FIELDS
        or getattr(Position, "__slots__", None) != _POSITION_FIELDS
        or Position.__bases__ != (object,)
    ):
        return Position
    new = object.__new__
    twin = _PositionSlots

    def build(  # noqa: PLR0917 - positional on purpose: this is the hot path
        protocol: str,
        device_id: str,
        message_type: str,
        fix_time: datetime | None,
        valid: bool,
        latitude: float,
        longitude: float,
        speed_kmh: float,
        course: float,
        altitude_m: float | None,
        status: int | None,
        flags: Flags,
        alarms: frozenset[Alarm],
        battery_percent: int | None,
        battery_voltage: float | None,
        power_voltage: float | None,
        odometer_km: float | None,
        signal: int | None,
        satellites: int | None,
        stored: bool,
        extras: tuple[str, ...],
        iccid: str | None = None,
        mcc: int | None = None,
        mnc: int | None = None,
        cells: tuple[Cell, ...] = (),
        wifi: tuple[WifiAccessPoint, ...] = (),
        warnings: tuple[str, ...] = (),
    ) -> Position:
        o: Any = new(twin)
        o.protocol = protocol
        o.device_id = device_id
        o.message_type = message_type
        o.fix_time = fix_time
        o.valid = valid
        o.latitude = latitude
        o.longitude = longitude
        o.speed_kmh = speed_kmh
        o.course = course
        o.altitude_m = altitude_m
        o.status = status
        o.flags = flags
        o.alarms = alarms
        o.battery_percent = battery_percent
        o.battery_voltage = battery_voltage
        o.power_voltage = power_voltage
        o.odometer_km = odometer_km
        o.signal = signal
        o.satellites = satellites
        o.stored = stored
        o.extras = extras
        o.iccid = iccid
        o.mcc = mcc
        o.mnc = mnc
        o.cells = cells
        o.wifi = wifi
        o.warnings = warnings
        o.__class__ = Position
        return o  # type: ignore[no-any-return]

    return build


def _make_decoded_builder() -> DecodedBuilder:
    if tuple(f.name for f in fields(Decoded)) != ("message", "reply", "raw"):
        return Decoded
    new = object.__new__
    d: dict[str, Any] = dict(vars(Decoded))
    s0, s1, s2 = d["message"].__set__, d["reply"].__set__, d["raw"].__set__

    def build(message: Message, reply: bytes | None, raw: bytes) -> Decoded:
        o: Decoded = new(Decoded)
        s0(o, message)
        s1(o, reply)
        s2(o, raw)
        return o

    return build


new_position: PositionBuilder = _make_position_builder()
new_decoded: DecodedBuilder = _make_decoded_builder()
