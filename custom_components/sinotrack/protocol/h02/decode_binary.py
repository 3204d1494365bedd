"""H02 binary ``$`` frames: one frame in, one Position out (docs/protocol/h02.md §6).

The fields are packed BCD, so the hex dump of the frame is the digits: ``int()`` of a slice of
it accepts exactly the decimal ones, which checks every digit on the way.
"""

from __future__ import annotations

from typing import Final

from ..model import Position, ProtocolError, new_position
from .decode_text import KNOTS_TO_KMH, PROTOCOL
from .fields import fix_time
from .values import BATTERY, StatusTable

LONG_ID_LENGTH: Final = 42  # the frame length of the 8-byte (15-digit) ID layout


def decode_binary(frame: bytes, table: StatusTable) -> Position:
    """Decode a ``$`` frame: the 8-byte-ID layout for 42-byte frames, else the 5-byte one.

    If the digits and coordinates do not fit the layout the length suggests, the other one is
    tried. An impossible date or time leaves ``fix_time`` None, with the reason in
    ``warnings``.
    """
    h = frame.hex()
    first, second = (3, 0) if len(frame) == LONG_ID_LENGTH else (0, 3)
    position = _layout(frame, h, first, table) or _layout(frame, h, second, table)
    if position is None:
        raise ProtocolError("binary frame with invalid digits or coordinates")
    return position


def _layout(frame: bytes, h: str, o: int, table: StatusTable) -> Position | None:
    """The frame read with an ID ``o`` bytes longer than 5 (0 or 3); None if it does not fit."""
    if len(frame) < 29 + o:
        return None
    x = 2 * o  # the same shift in hex digits
    device_id = h[2:17] if o else h[2:12]  # long form: 15 digits and a pad nibble
    time_text, date_text = h[12 + x : 18 + x], h[18 + x : 24 + x]
    if not (device_id + time_text + date_text).isdigit():
        return None
    try:
        lat_deg, lat_min = divmod(int(h[24 + x : 32 + x]), 1000000)  # DD MMmmmm
        lon_deg, lon_min = divmod(int(h[34 + x : 43 + x]), 1000000)  # DDD MMmmmm
        knots, course = divmod(int(h[44 + x : 50 + x]), 1000)  # sss ccc
    except ValueError:
        return None
    if lat_min >= 600000 or lon_min >= 600000 or course > 360:
        return None
    # Minutes with 4 decimals resolve 1/600000 degree: 6 decimals of a degree keep them all
    # and drop the float noise of the division (50.588550000000005 -> 50.58855).
    latitude = round(lat_deg + lat_min / 600000.0, 6)
    longitude = round(lon_deg + lon_min / 600000.0, 6)
    if latitude > 90.0 or longitude > 180.0:
        return None
    nibble = frame[21 + o] & 0x0F  # the flags nibble after the longitude: valid, N, E
    when, warning = fix_time(time_text, date_text)
    status, flags, alarms = table.word(int.from_bytes(frame[25 + o : 29 + o]))
    return new_position(
        PROTOCOL,
        device_id,
        "binary",
        when,
        bool(nibble & 0x2),  # valid
        latitude if nibble & 0x4 else -latitude,
        longitude if nibble & 0x8 else -longitude,
        knots * KNOTS_TO_KMH,  # speed_kmh
        float(course),
        None,  # altitude_m
        status,
        flags,
        alarms,
        BATTERY[frame[16 + o]],  # battery_percent
        None,  # battery_voltage
        None,  # power_voltage
        None,  # odometer_km
        None,  # signal
        None,  # satellites
        False,  # stored
        (h[58 + x :],) if len(frame) > 29 + o else (),  # extras
        None,  # iccid
        None,  # mcc
        None,  # mnc
        (),  # cells
        (),  # wifi
        () if warning is None else (warning,),
    )
