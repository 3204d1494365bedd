"""Flat fast paths for the two reports nearly all H02 traffic is made of.

``fix_fast``: a text position in the standard layout (``V1,HHMMSS,A,DDMM.MMMM,N,DDDMM.MMMM,E,
speed,course,DDMMYY,status[,extras]``, also the no-dot coordinate shape of §3.4).
``binary_fast``: a ``$`` frame in the layout its length suggests (8-byte ID for 42-byte frames,
else 5-byte).

Each decodes and validates every field exactly as the general decoder (``h02_decode``) does and
returns the same Position, or None for anything it does not recognise, including the first
sighting of a date or status word (the general path fills those caches); the caller then runs
the general path, which decides and gives the reason for a rejection.
``tests/protocol/test_h02_fast.py`` checks that both paths agree.

Fix times come from ``datetime.fromisoformat("YYYYMMDDTHHMMSSZ")`` (one call, UTC): the date part
is cached per date, the time is the report's own six digits. Python 3.14 reads hour 24 as the
next midnight, which the general path rejects, hence the ``< "24"`` checks.
"""

from __future__ import annotations

from datetime import datetime

from .fast import new_position
from .h02_values import BATTERY, ISO_DATES, STATUS_BY_TEXT, text_status
from .model import Alarm, Flags, Position

PROTOCOL = "h02"
KNOTS_TO_KMH = 1.852
_NUMERIC = "0123456789."

_fromiso = datetime.fromisoformat


def h02_position(  # noqa: PLR0917 - positional on purpose: the hot path
    device_id: str,
    message_type: str,
    fix_time: datetime | None,
    valid: bool,
    latitude: float,
    longitude: float,
    speed_kmh: float,
    course: float,
    status: int | None,
    flags: Flags,
    alarms: frozenset[Alarm],
    battery: int | None,
    stored: bool,
    extras: tuple[str, ...],
) -> Position:
    """A Position with the fields H02 carries (no altitude, voltages, odometer, signal)."""
    return new_position(
        PROTOCOL,
        device_id,
        message_type,
        fix_time,
        valid,
        latitude,
        longitude,
        speed_kmh,
        course,
        None,
        status,
        flags,
        alarms,
        battery,
        None,
        None,
        None,
        None,
        None,
        stored,
        extras,
    )


def h02_extras(f: list[str], start: int, spaced: bool) -> tuple[str, ...]:
    """The fields from ``f[start]`` on (cell data and the like), trimmed if the frame has spaces."""
    if start >= len(f):
        return ()
    return tuple(map(str.strip, f[start:])) if spaced else tuple(f[start:])


def fix_fast(f: list[str], mtype: str, body: str) -> Position | None:
    """A text position in the standard layout; ``f`` is ``body`` (between ``*`` and ``#``)
    split on commas, ``mtype`` its message type. None: not this layout, let ``fix_block`` decide.
    """
    try:
        time_text, flag, lat_text, ns, lon_text, ew, speed_text, course_text, ddmmyy, st = f[3:13]
        info = STATUS_BY_TEXT[st]
        if (
            info is None
            # Digits and dots only (float() takes more: "1_0", "1e3", " 1"); one strip for both.
            or (lat_text + lon_text).strip(_NUMERIC)
            or len(time_text) != 6
            or not time_text.isdigit()
            or time_text >= "24"
        ):
            return None
        fix_time = _fromiso(f"{ISO_DATES[ddmmyy]}{time_text}Z")
        # DDMM.MMMM, or DDMMMMMM without the dot (§3.4): two digits before the dot start minutes.
        # divmod gives the same degrees and (exact) minutes as fix_block's // and -.
        deg, minutes = divmod(float(lat_text) if "." in lat_text else float(lat_text) / 1e4, 100.0)
        lat = deg + minutes / 60.0
        if minutes >= 60.0 or lat > 90.0:
            return None
        deg, minutes = divmod(float(lon_text) if "." in lon_text else float(lon_text) / 1e4, 100.0)
        lon = deg + minutes / 60.0
        if minutes >= 60.0 or lon > 180.0:
            return None
        if ns != "N":
            if ns != "S":
                return None
            lat = -lat
        if ew != "E":
            if ew != "W":
                return None
            lon = -lon
        speed = float(speed_text)
        course = float(course_text)
        if not (0.0 <= speed <= 2000.0 and 0.0 <= course <= 360.0):
            return None
    except (ValueError, KeyError):
        return None
    status, flags, alarms = info
    return h02_position(
        f[1],
        mtype,
        fix_time,
        flag == "A" or flag.isdigit(),
        lat,
        lon,
        speed * KNOTS_TO_KMH,
        course,
        status,
        flags,
        alarms,
        None,
        False,
        h02_extras(f, 13, " " in body),
    )


def binary_fast(frame: bytes) -> Position | None:
    """A ``$`` frame (§5) in the layout its length suggests; None: let ``decode_binary`` decide.

    A frame this accepts also has the header framing checks before decoding (``_bin_head``):
    ID, time and date BCD digits, a time of day.
    """
    h = frame.hex()
    if len(frame) == 42:  # 8-byte ID: 15 digits and a pad nibble
        device_id = h[2:17]
        o, x = 3, 6
    elif len(frame) >= 32:  # the shortest frame the framing cuts
        device_id = h[2:12]
        o = x = 0
    else:
        return None
    # The time, date and coordinate fields are checked digit by digit below: by
    # fromisoformat, by the date cache (valid dates only) and by int(), which accepts exactly
    # the decimal ones of a hex string.
    day = ISO_DATES.get(h[18 + x : 24 + x])
    time_text = h[12 + x : 18 + x]
    if day is None or time_text >= "24" or not device_id.isdigit():
        return None
    try:
        fix_time = _fromiso(f"{day}{time_text}Z")
        deg, lat_min = divmod(int(h[24 + x : 32 + x]), 1000000)  # DD MMmmmm
        lon_deg, lon_min = divmod(int(h[34 + x : 43 + x]), 1000000)  # DDD MMmmmm
        knots, course = divmod(int(h[44 + x : 50 + x]), 1000)
    except ValueError:
        return None
    lat = deg + lat_min / 600000.0
    lon = lon_deg + lon_min / 600000.0
    if lat > 90.0 or lon > 180.0 or lat_min >= 600000 or lon_min >= 600000:
        return None
    nibble = frame[21 + o] & 0x0F  # the flags nibble after the longitude
    if not nibble & 0x4:
        lat = -lat
    if not nibble & 0x8:
        lon = -lon
    word = h[50 + x : 58 + x]
    info = STATUS_BY_TEXT.get(word) or text_status(word)
    if info is None:  # cannot happen for 8 hex digits; keeps the types honest
        return None
    status, flags, alarms = info
    return h02_position(
        device_id,
        "binary",
        fix_time,
        bool(nibble & 0x2),
        lat,
        lon,
        knots * KNOTS_TO_KMH,
        float(course),
        status,
        flags,
        alarms,
        BATTERY[frame[16 + o]],
        False,
        (h[58 + x :],) if len(frame) > 29 + o else (),
    )
