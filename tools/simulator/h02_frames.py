"""H02 frames as a tracker writes them, and the server's frames cut with the protocol package.

Text frames ``*HQ,<id>,<type>,…#`` and the 32-byte binary ``$`` report (docs/protocol/h02.md
§3, §6, §7). The status bits are the codec's own (``H02Status``): the word is active-low, a
cleared bit is an active condition. What the server sends is framed by the package's H02
framer, so there is one H02 framing in the repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from custom_components.sinotrack.protocol import CodecStats, DecodeError
from custom_components.sinotrack.protocol.h02 import KNOTS_TO_KMH, H02Status
from custom_components.sinotrack.protocol.h02.framing import Framer

from .fix import Fix

ALRM_LOW_BATTERY: Final = 2  # ALRM types: 1 SOS, 2 low battery, 3 geofence
ACK_STYLES: Final = ("DONE", "OK", "80", "echo")


def status_word(
    *,
    ignition: bool,
    power_cut: bool = False,
    immobilized: bool = False,
    vibration: bool = False,
    sos: bool = False,
    armed: bool = False,
) -> int:
    """The active-low status word (``FFFFFBFF`` = parked, nothing else going on)."""
    word = 0xFFFFFFFF
    for active, bit in (
        (not ignition, H02Status.ACC_OFF),  # set = ignition on
        (power_cut, H02Status.BACKUP_BATTERY),
        (immobilized, H02Status.ENGINE_CUT),
        (vibration, H02Status.THEFT_ALARM),
        (sos, H02Status.ROBBERY_ALARM),
        (armed, H02Status.ARMED),
    ):
        if active:
            word &= ~int(bit)
    return word


def _minutes(value: float) -> tuple[int, int]:
    """``(degrees, minutes x 10000)`` of an absolute coordinate, rounded to 1e-4 minutes."""
    degrees, rest = divmod(round(abs(value) * 600_000), 600_000)
    return degrees, rest


def coordinate(value: float, degree_digits: int) -> str:
    """``DDMM.MMMM`` (latitude, 2 digits) or ``DDDMM.MMMM`` (longitude, 3 digits)."""
    degrees, rest = _minutes(value)
    return f"{degrees:0{degree_digits}d}{rest // 10000:02d}.{rest % 10000:04d}"


def fix_fields(fix: Fix) -> str:
    """``HHMMSS,A,lat,N,lon,E,speed(knots),course,DDMMYY`` of the text frames."""
    t = fix.when.astimezone(UTC)
    knots = min(fix.speed_kmh / KNOTS_TO_KMH, 999.99)
    return (
        f"{t:%H%M%S},{'A' if fix.valid else 'V'},"
        f"{coordinate(fix.latitude, 2)},{'N' if fix.latitude >= 0 else 'S'},"
        f"{coordinate(fix.longitude, 3)},{'E' if fix.longitude >= 0 else 'W'},"
        f"{knots:06.2f},{round(fix.course) % 360:03d},{t:%d%m%y}"
    )


def position(
    device_id: str, fix: Fix, status: int, *, kind: str = "V1", extras: Sequence[str] = ()
) -> bytes:
    """A text report: ``*HQ,<id>,V1,<fix>,<status>[,extras]#``."""
    parts = [f"*HQ,{device_id}", kind, fix_fields(fix), f"{status:08X}", *extras]
    return (",".join(parts) + "#").encode("ascii")


def alarm(device_id: str, alarm_type: int, fix: Fix, status: int) -> bytes:
    """``*HQ,<id>,ALRM,<type>,<fix>,<status>#``."""
    return f"*HQ,{device_id},ALRM,{alarm_type},{fix_fields(fix)},{status:08X}#".encode("ascii")


def link(
    device_id: str, when: datetime, *, signal: int, satellites: int, battery: int, status: int
) -> bytes:
    """``LINK`` keep-alive: time, rssi, satellites, battery %, steps, turnovers, date, status."""
    t = when.astimezone(UTC)
    return (
        f"*HQ,{device_id},LINK,{t:%H%M%S},{signal},{satellites},{battery},0,0,"
        f"{t:%d%m%y},{status:08X}#"
    ).encode("ascii")


def bcd(digits: str) -> bytes:
    """Packed BCD of an even number of decimal digits."""
    if len(digits) % 2 or not digits.isdigit() or not digits.isascii():
        raise ValueError(f"not an even number of digits: {digits!r}")
    return bytes.fromhex(digits)


def battery_byte(percent: float) -> int:
    """The binary battery byte: a percentage from 7 up; lower values mean the 1-6 scale, so
    a nearly empty battery is sent as 1 (= 0 %)."""
    value = round(percent)
    return max(7, min(100, value)) if value >= 7 else 1


def binary_position(
    device_id: str, fix: Fix, status: int, battery_percent: float, *, sequence: int = 0
) -> bytes:
    """A 32-byte ``$`` frame: ID, time, date, latitude, battery, longitude + flags, speed
    (knots) + course, status, trailer ``FF 00 <sequence>``."""
    if len(device_id) != 10 or not device_id.isdigit():
        raise ValueError(f"binary frames carry a 10-digit ID, not {device_id!r}")
    t = fix.when.astimezone(UTC)
    lat_deg, lat_min = _minutes(fix.latitude)
    lon_deg, lon_min = _minutes(fix.longitude)
    flags = (2 if fix.valid else 0) | (4 if fix.latitude >= 0 else 0)
    flags |= 8 if fix.longitude >= 0 else 0
    knots = min(round(fix.speed_kmh / KNOTS_TO_KMH), 999)
    return (
        b"$"
        + bcd(device_id)
        + bcd(f"{t:%H%M%S%d%m%y}")
        + bcd(f"{lat_deg:02d}{lat_min:06d}")
        + bytes((battery_byte(battery_percent),))
        + bytes.fromhex(f"{lon_deg:03d}{lon_min:06d}{flags:X}")
        + bcd(f"{knots:03d}{round(fix.course) % 360:03d}")
        + status.to_bytes(4, "big")
        + bytes((0xFF, 0x00, sequence & 0xFF))
    )


def ack(
    device_id: str,
    word: str,
    tag: str | None,
    style: str,
    *,
    fix: Fix | None,
    status: int,
    params: Sequence[str] = (),
    success: bool = True,
) -> bytes:
    """A ``V4`` acknowledgement in the device's style.

    ``DONE``/``OK``/``80``: ``V4,<word>,<result>,<tag>,<fix>,<status>`` for S20, SCF and
    unknown commands (``ERROR``/``01`` when ``success`` is false); D1 and S71 echo their
    parameters instead of a result word, as TianQin firmware does (``V4,D1,60,1,<tag>,…``)
    unless the style is ``80``. ``echo``: ``V4,<word>,<tag>,<params>`` without a fix (CJ730).
    """
    head = f"*HQ,{device_id},V4,{word}"
    if style == "echo" or fix is None:
        parts = [head, *([tag] if tag else []), *params]
        return (",".join(parts) + "#").encode("ascii")
    if style == "80":
        result = ["80" if success else "01"]
    elif word in ("D1", "S71") and success:
        result = list(params)
    else:
        result = [(style if success else "ERROR")]
    parts = [head, *result, tag or fix.when.astimezone(UTC).strftime("%H%M%S")]
    return (",".join([*parts, fix_fields(fix), f"{status:08X}"]) + "#").encode("ascii")


def short_ack(device_id: str, word: str) -> bytes:
    """``*HQ,<id>,V4,CR#`` and the like: acknowledgements without a fix."""
    return f"*HQ,{device_id},V4,{word}#".encode("ascii")


class ServerFrames:
    """What one connection of a tracker receives, cut into frames by the package's framer.

    ``split`` returns the complete frames (``bytes``, or a ``DecodeError`` for a piece that
    cannot be one) and the unfinished rest; junk between frames is dropped and counted in
    ``stats``. ``final``: nothing follows (a datagram), so an unfinished frame is an error.
    """

    def __init__(self) -> None:
        self.framer = Framer()
        self.stats = CodecStats()

    def split(self, buffer: bytes, *, final: bool) -> tuple[list[bytes | DecodeError], bytes]:
        frames, rest = self.framer.split(buffer, self.stats, final=final)
        return frames, buffer[rest:]


def fields_of(frame: bytes) -> list[str]:
    """The comma-separated fields of a text frame ``*HQ,<id>,<word>,…#`` (ASCII only)."""
    if frame[:1] != b"*" or frame[-1:] != b"#":
        raise ValueError("not a text frame")
    try:
        return frame[1:-1].decode("ascii").split(",")
    except UnicodeDecodeError:
        raise ValueError("not ASCII") from None
