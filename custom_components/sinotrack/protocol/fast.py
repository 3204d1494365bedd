"""Fast construction of the per-report model values, shared by the codecs.

``Position`` and ``Decoded`` are NamedTuples: ``tuple.__new__(cls, values)`` builds one without
the Python-level ``__new__`` that keyword construction goes through. These builders take every
field positionally, in the order the model declares them (``test_fast_builders_*`` checks).
"""

from __future__ import annotations

from datetime import datetime

from .model import Alarm, Decoded, Flags, Message, Position

tuple_new = tuple.__new__


def new_position(  # noqa: PLR0917 - positional on purpose: this is the hot path
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
) -> Position:
    return tuple_new(
        Position,
        (
            protocol,
            device_id,
            message_type,
            fix_time,
            valid,
            latitude,
            longitude,
            speed_kmh,
            course,
            altitude_m,
            status,
            flags,
            alarms,
            battery_percent,
            battery_voltage,
            power_voltage,
            odometer_km,
            signal,
            satellites,
            stored,
            extras,
        ),
    )


def new_decoded(message: Message, reply: bytes | None, raw: bytes) -> Decoded:
    return tuple_new(Decoded, (message, reply, raw))
