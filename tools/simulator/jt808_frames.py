"""JT/T 808 frames as a terminal writes them, built and parsed with the protocol package.

Bodies of the terminal's messages (0x0100 registration, 0x0200 location with its items, 0x0001
general response) are built here; the frame around them (header, escaping, XOR checksum) is
the package's ``build_frame``, and the platform's frames are cut and checked by the package's
``split``: one JT/T 808 framing in the repository (docs/protocol/jt808.md §1-3, §5, §8).
Status and alarm bits are the decoder's where it names them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Final

from custom_components.sinotrack.protocol import CodecStats, DecodeError
from custom_components.sinotrack.protocol.jt808 import build_frame
from custom_components.sinotrack.protocol.jt808.decode import (
    ALARM_POWER_CUT,
    STATUS_ACC,
    STATUS_FIX,
    STATUS_OIL_CUT,
    STATUS_SOUTH,
    STATUS_WEST,
)
from custom_components.sinotrack.protocol.jt808.encode import address
from custom_components.sinotrack.protocol.jt808.framing import Frame, split

from .fix import Fix

BEIJING: Final = timezone(timedelta(hours=8))  # the standard's time zone (GMT+8)
STATUS_GPS: Final = 1 << 18  # positioned with GPS
ALARM_SOS: Final = 1 << 0
ALARM_VIBRATION: Final = 1 << 15  # reserved in 2013; vibration on cheap trackers
ALARM_LOW_BATTERY: Final = 1 << 18  # likewise (Traccar's reading)
RESULT_OK: Final = 0
RESULT_UNSUPPORTED: Final = 3


def phone(device_id: str) -> bytes:
    """The 6-byte BCD terminal phone number: the ID zero-padded to 12 digits."""
    if not device_id.isdigit() or len(device_id) > 12:
        raise ValueError(f"JT/T 808 terminal IDs are up to 12 digits, not {device_id!r}")
    id_bytes, _ = address(device_id, None)
    return id_bytes


def frame(message_id: int, body: bytes, phone_bytes: bytes, serial: int) -> bytes:
    """A terminal frame with the 2013 header."""
    return build_frame(message_id, body, phone_bytes, None, serial)


def time_bcd(when: datetime) -> bytes:
    """BCD ``YYMMDDhhmmss`` in Beijing time."""
    return bytes.fromhex(when.astimezone(BEIJING).strftime("%y%m%d%H%M%S"))


def words(
    *,
    ignition: bool,
    fix: Fix,
    immobilized: bool = False,
    power_cut: bool = False,
    vibration: bool = False,
    sos: bool = False,
    low_battery: bool = False,
) -> tuple[int, int]:
    """``(alarm, status)`` DWORDs of a 0x0200 report."""
    status = STATUS_GPS
    for on, bit in (
        (ignition, STATUS_ACC),
        (fix.valid, STATUS_FIX),
        (fix.latitude < 0, STATUS_SOUTH),
        (fix.longitude < 0, STATUS_WEST),
        (immobilized, STATUS_OIL_CUT),
    ):
        status |= bit if on else 0
    alarm = 0
    for on, bit in (
        (sos, ALARM_SOS),
        (power_cut, ALARM_POWER_CUT),
        (vibration, ALARM_VIBRATION),
        (low_battery, ALARM_LOW_BATTERY),
    ):
        alarm |= bit if on else 0
    return alarm, status


def location_body(
    fix: Fix, alarm: int, status: int, items: Sequence[tuple[int, bytes]] = ()
) -> bytes:
    """A 0x0200 body: alarm, status, |lat|, |lon| x 1e6, altitude, speed (0.1 km/h), course,
    BCD time, then the additional items ``(id, value)``."""
    body = struct.pack(
        ">IIIIHHH",
        alarm,
        status,
        round(abs(fix.latitude) * 1e6),
        round(abs(fix.longitude) * 1e6),
        max(0, min(fix.altitude_m, 0xFFFF)),
        min(round(fix.speed_kmh * 10), 0xFFFF),
        round(fix.course) % 360,
    )
    body += time_bcd(fix.when)
    for item_id, value in items:
        body += bytes((item_id, len(value))) + value
    return body


def items(
    *, odometer_km: float, signal: int, satellites: int, battery: float, external: bool
) -> list[tuple[int, bytes]]:
    """Mileage (0x01, 0.1 km), signal (0x30), satellites (0x31) and battery (0xE4: a charging
    byte, 0 while on external power, then the percentage)."""
    return [
        (0x01, struct.pack(">I", round(odometer_km * 10))),
        (0x30, bytes((signal,))),
        (0x31, bytes((satellites,))),
        (0xE4, bytes((0 if external else 1, max(0, min(100, round(battery)))))),
    ]


def register_body(device_id: str) -> bytes:
    """0x0100 (2013): province, city, maker[5], model[20], terminal ID[7], plate colour, plate."""
    return (
        struct.pack(">HH", 0, 0)
        + b"SINOT"
        + b"ST-901A+".ljust(20, b"\x00")
        + device_id[-7:].encode("ascii").rjust(7, b"0")
        + b"\x01"
        + f"SIM-{device_id[-4:]}".encode("ascii")
    )


def general_response(serial: int, message_id: int, result: int) -> bytes:
    """0x0001 body: the answered platform serial, the answered ID, the result."""
    return struct.pack(">HHB", serial & 0xFFFF, message_id, result)


class ServerFrames:
    """What one connection of a terminal receives, cut into checked frames by the package.

    ``split`` returns the frames (a ``Frame``, or a ``DecodeError`` for one that fails its
    escaping, checksum or length check) and the unfinished rest; bytes outside frames are
    dropped and counted in ``stats``. ``final``: nothing follows (a datagram).
    """

    def __init__(self) -> None:
        self.stats = CodecStats()

    def split(self, buffer: bytes, *, final: bool) -> tuple[list[Frame | DecodeError], bytes]:
        frames: list[Frame | DecodeError] = []
        rest = split(buffer, frames, self.stats, final=final)
        return frames, buffer[rest:]


def parse(data: bytes) -> Frame:
    """The one frame ``data`` holds; ``ValueError`` with the package's reason otherwise."""
    frames, _ = ServerFrames().split(data, final=True)
    if len(frames) != 1:
        raise ValueError(f"{len(frames)} frames, not one")
    (found,) = frames
    if isinstance(found, DecodeError):
        raise ValueError(found.reason)
    return found
