#!/usr/bin/env python3
"""Simulated SinoTrack trackers: H02 text, H02 binary and JT/T 808 against a tracker port.

Standard library only (any Python >= 3.11), so it runs anywhere without installing anything::

    scripts/simulate                                   3 trackers (one per protocol), 5 minutes
    scripts/simulate --trackers 20 --speedup 10 --alarm random --duration 120
    scripts/simulate --protocol jt808 --transport udp --alarm power_cut

Every tracker drives a loop through Amsterdam (accelerating, braking for corners and traffic
lights, parking with the ignition off), reports as often as a real device does (every 10 s
while driving, every 60 s parked, a heartbeat every 180 s; all divided by ``--speedup``),
answers the commands the server sends (H02 ``S20`` engine cut/restore with status bit 27,
``CR``, ``D1``, ``S71``, ``SCF``, ``CQ``; JT/T 808 0x8105 F0/F1, 0x8201, 0x8103, 0x8104,
0x8202, 0x8300, 0x8500) and checks the replies the server owes it (H02 ``V4,V1`` time sync and
``R12``; JT/T 808 0x8100 and 0x8001). Lost connections are re-opened with a bounded backoff.
It stops by itself after ``--duration`` seconds (or on Ctrl-C) and prints a summary (``--json``:
one JSON object); the exit code is 0 unless nothing got through (no report sent, or the server
never answered while sends failed: UDP to a closed port).

Identities: tracker ``k`` (from 0) is ``--first-id + k``, a 10-digit number. H02 trackers send
it as is. JT/T 808 trackers send it as the 12-digit BCD terminal phone number, zero-padded
(``4106011602`` -> ``004106011602``); the integration strips the leading zeros, so the
device ID Home Assistant shows is the same 10-digit number for every protocol.

Times: H02 fix times are UTC. JT/T 808 times are Beijing time (GMT+8) as the standard says,
which is what the integration's codec assumes by default.

Alarms (``--alarm`` or ``Simulator.trigger_alarm``) are reported at once. Vibration and SOS
clear their H02 status bits (0, 1; active-low) or set their JT/T 808 alarm bits (15, 0) for
three reports, then clear again, so the server sees one edge each. A power cut (H02 bit 19
cleared, JT/T 808 alarm bit 8) lasts 10-45 simulated minutes on the backup battery, which
drains 2 %/min (below 20 % that raises low battery by itself) and recharges afterwards. Low
battery is an H02 ``ALRM`` type 2 report (H02 binary trackers carry the battery byte in every
frame too; text trackers send it in their ``LINK`` heartbeat) or JT/T 808 alarm bit 18 (the
cheap-tracker meaning Traccar uses); JT/T 808 reports carry the battery in item 0xE4.

From Python (the end-to-end test, benchmarks, a soak test; ``scripts`` is a namespace package,
so the repository root must be on ``sys.path``, as it is under pytest)::

    from scripts.simulator import SimConfig, Simulator, run

    summary = await run(SimConfig(port=port, trackers=3, duration=10, speedup=20))

    sim = Simulator(SimConfig(port=port, duration=60, speedup=50, parked=True))
    task = asyncio.create_task(sim.run())
    sim.trigger_alarm(sim.tracker_ids[0], "sos")      # reported at once
    sim.snapshot(sim.tracker_ids[0]).last_sent          # what the server was told last
    sim.stop(); summary = await task

``burst=True`` reports as fast as ``max_rate`` allows; ``chaos=P`` drops the connection or sends
junk between frames with probability ``P`` per frame; ``on_send`` sees every frame sent;
``Summary.as_dict()`` is JSON-ready. Network traffic goes to loopback only unless
``allow_remote`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import random
import signal
import string
import struct
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

# --- constants ------------------------------------------------------------------------------

PROTOCOLS: Final = ("h02", "h02-binary", "jt808")
PROTOCOL_CHOICES: Final = (*PROTOCOLS, "mixed")
TRANSPORTS: Final = ("tcp", "udp")
ALARMS: Final = ("vibration", "power_cut", "sos", "low_battery")
ALARM_CHOICES: Final = (*ALARMS, "random", "none")
ACK_STYLES: Final = ("DONE", "OK", "80", "echo")

KMH_PER_KNOT: Final = 1.852
EARTH_RADIUS_M: Final = 6_371_000.0
BEIJING: Final = timezone(timedelta(hours=8))

DRIVE_INTERVAL_S: Final = 10.0  # simulated seconds between reports while the ignition is on
PARK_INTERVAL_S: Final = 60.0  # ... while parked
HEARTBEAT_INTERVAL_S: Final = 180.0
ALARM_REPORTS: Final = 3  # reports an alarm condition stays set before it clears
POWER_CUT_S: Final = (600.0, 2700.0)  # how long a power cut lasts (simulated seconds)
BATTERY_DRAIN_PER_S: Final = 2.0 / 60  # % per simulated second on the backup battery
BATTERY_CHARGE_PER_S: Final = 1.0 / 60
LOW_BATTERY_PERCENT: Final = 20.0
RANDOM_ALARM_CHANCE: Final = 0.02  # per report, with --alarm random
ACCEL_MS2: Final = 1.5
DECEL_MS2: Final = 2.5
CORNER_KMH: Final = 25.0
LIGHT_CHANCE: Final = 0.15  # a red light at a waypoint that is not a parking place
MAX_SPEED_KMH: Final = 90.0

HANDSHAKE_TIMEOUT_S: Final = 5.0
CONNECT_TIMEOUT_S: Final = 5.0
BACKOFF_BASE_S: Final = 0.25
BACKOFF_MAX_S: Final = 5.0
SHUTDOWN_GRACE_S: Final = 3.0
PROGRESS_INTERVAL_S: Final = 60.0  # real seconds between progress lines
PROGRESS_TRACKERS: Final = 10  # trackers listed in a progress report
MAX_TRACKERS: Final = 5000
MAX_RATE: Final = 100_000.0
MAX_BUFFER: Final = 8192  # server bytes buffered without a complete frame
ERROR_SAMPLES: Final = 10
TIME_SYNC_TOLERANCE_S: Final = 300.0
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True, slots=True)
class Waypoint:
    latitude: float
    longitude: float
    limit_kmh: float  # speed limit on the way to this point
    parking: bool = False  # the vehicle parks here (ignition off) for a while


# A loop through Amsterdam: Centraal, the eastern docks, the A10 ring, Zuid, the canals.
ROUTE: Final = (
    Waypoint(52.37880, 4.90010, 30, parking=True),  # Amsterdam Centraal
    Waypoint(52.37610, 4.90950, 50),  # Prins Hendrikkade
    Waypoint(52.37350, 4.91700, 50),  # Oosterdok
    Waypoint(52.36610, 4.91630, 50),  # Plantage / Artis
    Waypoint(52.36080, 4.90760, 50),  # Weesperplein
    Waypoint(52.34670, 4.91780, 50, parking=True),  # Amstel station
    Waypoint(52.33700, 4.91000, 80),  # A10 Amstel
    Waypoint(52.33800, 4.88900, 90),  # A10 RAI
    Waypoint(52.33860, 4.87240, 90, parking=True),  # Zuid / WTC
    Waypoint(52.34350, 4.85470, 50),  # Olympisch Stadion
    Waypoint(52.36070, 4.86000, 50),  # Overtoom
    Waypoint(52.36410, 4.88250, 30),  # Leidseplein
    Waypoint(52.37450, 4.88380, 30),  # Westerkerk
    Waypoint(52.37310, 4.89260, 30, parking=True),  # Dam
)


# --- H02 frames (device side) ---------------------------------------------------------------

H02_IGNITION_ON: Final = 1 << 10  # active-low word: bit 10 set = ignition on
H02_VIBRATION: Final = 1 << 0  # cleared = vibration (theft) alarm
H02_SOS: Final = 1 << 1  # cleared = SOS (robbery) alarm
H02_ARMED: Final = 1 << 9  # cleared = armed
H02_EXTERNAL_POWER: Final = 1 << 19  # cleared = running on the backup battery (power cut)
H02_ENGINE_ENABLED: Final = 1 << 27  # cleared = immobilizer engaged (S20 cut)
H02_ALRM_LOW_BATTERY: Final = 2


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS fix as a tracker reports it; ``when`` is UTC."""

    when: datetime
    latitude: float
    longitude: float
    speed_kmh: float = 0.0
    course: float = 0.0
    valid: bool = True
    altitude_m: int = 0


def h02_status(
    *,
    ignition: bool,
    power_cut: bool = False,
    immobilized: bool = False,
    vibration: bool = False,
    sos: bool = False,
    armed: bool = False,
) -> int:
    """The active-low H02 status word (``FFFFFBFF`` = parked, nothing else going on)."""
    word = 0xFFFFFFFF
    for active, bit in (
        (not ignition, H02_IGNITION_ON),
        (power_cut, H02_EXTERNAL_POWER),
        (immobilized, H02_ENGINE_ENABLED),
        (vibration, H02_VIBRATION),
        (sos, H02_SOS),
        (armed, H02_ARMED),
    ):
        if active:
            word &= ~bit
    return word & 0xFFFFFFFF


def _minutes(value: float) -> tuple[int, int]:
    """``(degrees, minutes x 10000)`` of an absolute coordinate, rounded to 1e-4 minutes."""
    degrees, rest = divmod(round(abs(value) * 600_000), 600_000)
    return degrees, rest


def h02_coordinate(value: float, degree_digits: int) -> str:
    """``DDMM.MMMM`` (latitude, 2 digits) or ``DDDMM.MMMM`` (longitude, 3 digits)."""
    degrees, rest = _minutes(value)
    return f"{degrees:0{degree_digits}d}{rest // 10000:02d}.{rest % 10000:04d}"


def h02_fix_fields(fix: Fix) -> str:
    """``HHMMSS,A,lat,N,lon,E,speed(knots),course,DDMMYY`` of the text frames."""
    t = fix.when.astimezone(UTC)
    knots = min(fix.speed_kmh / KMH_PER_KNOT, 999.99)
    return (
        f"{t:%H%M%S},{'A' if fix.valid else 'V'},"
        f"{h02_coordinate(fix.latitude, 2)},{'N' if fix.latitude >= 0 else 'S'},"
        f"{h02_coordinate(fix.longitude, 3)},{'E' if fix.longitude >= 0 else 'W'},"
        f"{knots:06.2f},{round(fix.course) % 360:03d},{t:%d%m%y}"
    )


def h02_text_position(
    device_id: str, fix: Fix, status: int, *, kind: str = "V1", extras: Sequence[str] = ()
) -> bytes:
    """A text report: ``*HQ,<id>,V1,<fix>,<status>[,extras]#``."""
    fields = [f"*HQ,{device_id}", kind, h02_fix_fields(fix), f"{status:08X}", *extras]
    return (",".join(fields) + "#").encode("ascii")


def h02_alarm(device_id: str, alarm_type: int, fix: Fix, status: int) -> bytes:
    """``*HQ,<id>,ALRM,<type>,<fix>,<status>#`` (1 SOS, 2 low battery, 3 geofence)."""
    return f"*HQ,{device_id},ALRM,{alarm_type},{h02_fix_fields(fix)},{status:08X}#".encode("ascii")


def h02_link(
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


def h02_battery_byte(percent: float) -> int:
    """The binary battery byte: a percentage from 7 up; lower values mean the 1-6 scale, so
    a nearly empty battery is sent as 1 (= 0 %)."""
    value = round(percent)
    return max(7, min(100, value)) if value >= 7 else 1


def h02_binary_position(
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
    knots = min(round(fix.speed_kmh / KMH_PER_KNOT), 999)
    return (
        b"$"
        + bcd(device_id)
        + bcd(f"{t:%H%M%S%d%m%y}")
        + bcd(f"{lat_deg:02d}{lat_min:06d}")
        + bytes((h02_battery_byte(battery_percent),))
        + bytes.fromhex(f"{lon_deg:03d}{lon_min:06d}{flags:X}")
        + bcd(f"{knots:03d}{round(fix.course) % 360:03d}")
        + status.to_bytes(4, "big")
        + bytes((0xFF, 0x00, sequence & 0xFF))
    )


def h02_ack(
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
        fields = [head, *([tag] if tag else []), *params]
        return (",".join(fields) + "#").encode("ascii")
    if style == "80":
        result = ["80" if success else "01"]
    elif word in ("D1", "S71") and success:
        result = list(params)
    else:
        result = [(style if success else "ERROR")]
    fields = [head, *result, tag or fix.when.astimezone(UTC).strftime("%H%M%S")]
    return (",".join([*fields, h02_fix_fields(fix), f"{status:08X}"]) + "#").encode("ascii")


def h02_short_ack(device_id: str, word: str) -> bytes:
    """``*HQ,<id>,V4,CR#`` and the like: acknowledgements without a fix."""
    return f"*HQ,{device_id},V4,{word}#".encode("ascii")


def split_h02(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete ``*…#`` frames in ``buffer`` and the unfinished rest (junk before ``*`` dropped)."""
    frames: list[bytes] = []
    pos = 0
    while True:
        start = buffer.find(b"*", pos)
        if start < 0:
            return frames, b""
        end = buffer.find(b"#", start)
        if end < 0:
            return frames, buffer[start:]
        frames.append(buffer[start : end + 1])
        pos = end + 1


# --- JT/T 808 frames (device side) ----------------------------------------------------------

JT_FLAG: Final = 0x7E
JT_STATUS_ACC: Final = 1 << 0
JT_STATUS_FIX: Final = 1 << 1
JT_STATUS_SOUTH: Final = 1 << 2
JT_STATUS_WEST: Final = 1 << 3
JT_STATUS_OIL_CUT: Final = 1 << 10
JT_STATUS_GPS: Final = 1 << 18
JT_ALARM_SOS: Final = 1 << 0
JT_ALARM_POWER_CUT: Final = 1 << 8
JT_ALARM_VIBRATION: Final = 1 << 15
JT_ALARM_LOW_BATTERY: Final = 1 << 18
JT_RESULT_OK: Final = 0
JT_RESULT_UNSUPPORTED: Final = 3


def xor_checksum(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def jt808_escape(content: bytes) -> bytes:
    """``7D`` -> ``7D 01`` then ``7E`` -> ``7D 02`` (everything between the flags)."""
    return content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def jt808_unescape(content: bytes) -> bytes:
    """Undo ``jt808_escape``; ``ValueError`` when a ``7D`` is followed by anything else."""
    out = bytearray()
    k = 0
    while k < len(content):
        byte = content[k]
        if byte == 0x7D:
            nxt = content[k + 1] if k + 1 < len(content) else -1
            if nxt not in (1, 2):
                raise ValueError("7D not followed by 01 or 02")
            out.append(0x7D if nxt == 1 else 0x7E)
            k += 2
        else:
            out.append(byte)
            k += 1
    return bytes(out)


def jt808_phone(device_id: str) -> bytes:
    """The 6-byte BCD terminal phone number: the ID zero-padded to 12 digits."""
    if not device_id.isdigit() or len(device_id) > 12:
        raise ValueError(f"JT/T 808 terminal IDs are up to 12 digits, not {device_id!r}")
    return bcd(device_id.zfill(12))


def jt808_frame(message_id: int, body: bytes, phone: bytes, serial: int) -> bytes:
    """``7E | ID, attributes, phone, serial | body | XOR | 7E`` (2013 header), escaped."""
    if len(body) > 0x3FF:
        raise ValueError("body too long for one packet")
    content = struct.pack(">HH", message_id, len(body)) + phone + struct.pack(">H", serial & 0xFFFF)
    content += body
    return bytes((JT_FLAG,)) + jt808_escape(content + bytes((xor_checksum(content),))) + b"\x7e"


@dataclass(frozen=True, slots=True)
class Jt808Frame:
    """One frame as received: header fields and the body (un-escaped, checksum verified)."""

    message_id: int
    phone: str  # the terminal ID digits as sent
    serial: int
    body: bytes
    version: int | None = None  # 2019 protocol version; None for 2011/2013 headers


def jt808_parse(frame: bytes) -> Jt808Frame:
    """Parse ``7E … 7E``; ``ValueError`` on bad escaping, checksum, or a short frame."""
    if len(frame) < 2 or frame[0] != JT_FLAG or frame[-1] != JT_FLAG:
        raise ValueError("not a 7E-delimited frame")
    content = jt808_unescape(frame[1:-1])
    if len(content) < 13:
        raise ValueError(f"frame of {len(content)} bytes is too short")
    if xor_checksum(content):
        raise ValueError("bad checksum")
    message_id, attr = struct.unpack_from(">HH", content)
    version: int | None = None
    if attr & 0x4000:
        version, phone, head = content[4], content[5:15].hex(), 17
    else:
        phone, head = content[4:10].hex(), 12
    serial = int.from_bytes(content[head - 2 : head], "big")
    if attr & 0x2000:  # sub-packaged: total and index follow the serial
        head += 4
    if len(content) < head + 1:
        raise ValueError("frame shorter than its header")
    body = content[head:-1]
    if len(body) != attr & 0x3FF:
        raise ValueError(f"length field {attr & 0x3FF}, body {len(body)}")
    return Jt808Frame(message_id, phone, serial, body, version)


def split_jt808(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete ``7E … 7E`` frames and the unfinished rest (a ``7E 7E`` pair is a boundary)."""
    frames: list[bytes] = []
    pos = 0
    while True:
        start = buffer.find(b"\x7e", pos)
        if start < 0:
            return frames, b""
        end = buffer.find(b"\x7e", start + 1)
        if end < 0:
            return frames, buffer[start:]
        if end == start + 1:  # the closing flag of a frame we never saw
            pos = end
            continue
        frames.append(buffer[start : end + 1])
        pos = end + 1


def jt808_time(when: datetime) -> bytes:
    """BCD ``YYMMDDhhmmss`` in Beijing time (the standard's GMT+8)."""
    return bcd(when.astimezone(BEIJING).strftime("%y%m%d%H%M%S"))


def jt808_words(
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
    status = JT_STATUS_GPS
    status |= JT_STATUS_ACC if ignition else 0
    status |= JT_STATUS_FIX if fix.valid else 0
    status |= JT_STATUS_SOUTH if fix.latitude < 0 else 0
    status |= JT_STATUS_WEST if fix.longitude < 0 else 0
    status |= JT_STATUS_OIL_CUT if immobilized else 0
    alarm = JT_ALARM_SOS if sos else 0
    alarm |= JT_ALARM_POWER_CUT if power_cut else 0
    alarm |= JT_ALARM_VIBRATION if vibration else 0
    alarm |= JT_ALARM_LOW_BATTERY if low_battery else 0
    return alarm, status


def jt808_location_body(
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
    body += jt808_time(fix.when)
    for item_id, value in items:
        body += bytes((item_id, len(value))) + value
    return body


def jt808_items(
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


def jt808_register_body(device_id: str) -> bytes:
    """0x0100 (2013): province, city, maker[5], model[20], terminal ID[7], plate colour, plate."""
    return (
        struct.pack(">HH", 0, 0)
        + b"SINOT"
        + b"ST-901A+".ljust(20, b"\x00")
        + device_id[-7:].encode("ascii").rjust(7, b"0")
        + b"\x01"
        + f"SIM-{device_id[-4:]}".encode("ascii")
    )


def jt808_general_response(serial: int, message_id: int, result: int) -> bytes:
    """0x0001 body: the answered platform serial, the answered ID, the result."""
    return struct.pack(">HHB", serial & 0xFFFF, message_id, result)


# --- the vehicle ----------------------------------------------------------------------------


def _distance_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """Metres and degrees (clockwise from north) between two close points."""
    dy = math.radians(lat2 - lat1) * EARTH_RADIUS_M
    dx = math.radians(lon2 - lon1) * EARTH_RADIUS_M * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy), math.degrees(math.atan2(dx, dy)) % 360


class Vehicle:
    """A car driving the route: speeds, stops, parking, the engine cut. Simulated seconds."""

    def __init__(self, rng: random.Random, index: int, *, parked: bool, start_time: float) -> None:
        self.rng = rng
        shift_lat = rng.uniform(-0.0006, 0.0006)
        shift_lon = rng.uniform(-0.0009, 0.0009)
        points = [
            Waypoint(p.latitude + shift_lat, p.longitude + shift_lon, p.limit_kmh, p.parking)
            for p in ROUTE
        ]
        if index % 2:  # every other car drives the loop the other way round
            points.reverse()
        self.route = points
        self.factor = rng.uniform(0.8, 1.0)  # how close to the limit this driver goes
        start = (index * 5) % len(points)
        self.target = (start + 1) % len(points)
        self.latitude = points[start].latitude
        self.longitude = points[start].longitude
        self.course = _distance_bearing(
            self.latitude,
            self.longitude,
            points[self.target].latitude,
            points[self.target].longitude,
        )[1]
        self.speed_ms = 0.0
        self.odometer_m = rng.uniform(5_000_000, 90_000_000)
        self.always_parked = parked
        self.engine_cut = False
        self.t = start_time
        self.stop_at_target = self._plan_stop()
        if parked or rng.random() < 0.5:
            self.phase = "parked"
            self.phase_until = math.inf if parked else start_time + rng.uniform(20, 120)
        else:
            self.phase = "driving"
            self.phase_until = math.inf

    @property
    def speed_kmh(self) -> float:
        return self.speed_ms * 3.6

    @property
    def ignition(self) -> bool:
        return self.phase in ("driving", "waiting")

    def _plan_stop(self) -> bool:
        return self.route[self.target].parking or self.rng.random() < LIGHT_CHANCE

    def advance(self, t: float) -> None:
        """Move on to simulated time ``t`` (in steps of at most a second)."""
        dt = t - self.t
        if dt <= 0:
            return
        steps = min(max(1, math.ceil(dt)), 3600)
        h = dt / steps
        for _ in range(steps):
            self.t += h
            self._step(h)
        self.t = t

    def cut_engine(self, cut: bool) -> None:
        self.engine_cut = cut
        if not cut and self.phase == "parked" and not self.always_parked:
            self.phase_until = self.t + self.rng.uniform(30, 90)

    def _step(self, h: float) -> None:
        if self.engine_cut and self.phase != "parked":
            self.speed_ms = max(0.0, self.speed_ms - DECEL_MS2 * h)
            self._move(self.speed_ms * h)
            if self.speed_ms == 0.0:
                self.phase, self.phase_until = "parked", math.inf
            return
        if self.phase == "parked":
            self.speed_ms = 0.0
            if self.t >= self.phase_until and not self.engine_cut:
                self.phase, self.phase_until = "driving", math.inf
            return
        if self.phase == "waiting":
            self.speed_ms = 0.0
            if self.t >= self.phase_until:
                self.phase = "driving"
            return
        goal = self.route[self.target]
        distance, bearing = _distance_bearing(
            self.latitude, self.longitude, goal.latitude, goal.longitude
        )
        limit = min(goal.limit_kmh, MAX_SPEED_KMH) * self.factor / 3.6
        end_speed = 0.0 if self.stop_at_target else CORNER_KMH / 3.6
        brake = math.sqrt(end_speed**2 + 2 * DECEL_MS2 * max(distance - 2.0, 0.0))
        wanted = min(limit, brake)
        if self.speed_ms < wanted:
            self.speed_ms = min(wanted, self.speed_ms + ACCEL_MS2 * h)
        else:
            self.speed_ms = max(wanted, self.speed_ms - DECEL_MS2 * h)
        self.speed_ms = max(self.speed_ms, 1.0)  # creep the last metres to a stop line
        travel = self.speed_ms * h
        self.course = bearing
        if travel < distance:
            self._move(travel)
            return
        self.latitude, self.longitude = goal.latitude, goal.longitude
        self.odometer_m += distance
        stopping = self.stop_at_target
        self.target = (self.target + 1) % len(self.route)
        self.stop_at_target = self._plan_stop()
        if stopping:
            self.speed_ms = 0.0
            if goal.parking:
                self.phase = "parked"
                self.phase_until = (
                    math.inf if self.always_parked else self.t + self.rng.uniform(60, 240)
                )
            else:
                self.phase, self.phase_until = "waiting", self.t + self.rng.uniform(10, 40)

    def _move(self, metres: float) -> None:
        if metres <= 0:
            return
        rad = math.radians(self.course)
        self.latitude += math.degrees(metres * math.cos(rad) / EARTH_RADIUS_M)
        self.longitude += math.degrees(
            metres * math.sin(rad) / (EARTH_RADIUS_M * math.cos(math.radians(self.latitude)))
        )
        self.odometer_m += metres


# --- statistics and results -----------------------------------------------------------------


@dataclass(slots=True)
class Stats:
    """Running counters, shared by every tracker of one run."""

    reports: Counter[str] = field(default_factory=Counter)  # per protocol
    heartbeats: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)  # "V4,V1", "R12", "0x8001" …
    commands: Counter[str] = field(default_factory=Counter)  # "S20", "CR", "0x8105" …
    commands_answered: int = 0
    alarms: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    reconnects: int = 0
    chaos_drops: int = 0
    garbage_sent: int = 0
    frames_sent: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    errors: int = 0
    error_samples: deque[str] = field(default_factory=lambda: deque(maxlen=ERROR_SAMPLES))

    def error(self, message: str) -> None:
        self.errors += 1
        self.error_samples.append(message)


def _plural(count: int, noun: str) -> str:
    """ "1 tracker", "3 trackers"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))


@dataclass(frozen=True, slots=True)
class Summary:
    """What a run did; ``format()`` is the text the command line prints."""

    target: str
    transport: str
    trackers: int
    protocols: dict[str, int]  # trackers per protocol
    elapsed_s: float
    speedup: float
    reports_sent: dict[str, int]  # per protocol
    heartbeats_sent: dict[str, int]
    replies_received: dict[str, int]
    commands_received: dict[str, int]
    commands_answered: int
    alarms_sent: dict[str, int]
    connects: int
    reconnects: int
    chaos_drops: int
    garbage_sent: int
    frames_sent: int
    bytes_sent: int
    bytes_received: int
    errors: int
    error_samples: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every field plus ``total_reports``, ``delivered`` and ``exit_code``."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["error_samples"] = list(self.error_samples)
        data.update(
            total_reports=self.total_reports, delivered=self.delivered, exit_code=self.exit_code
        )
        return data

    @property
    def total_reports(self) -> int:
        return sum(self.reports_sent.values())

    @property
    def delivered(self) -> bool:
        """Whether reports got through: some were sent, and the server answered something
        (or nothing went wrong: a server may stay silent, but UDP to a closed port errs)."""
        if not self.total_reports:
            return False
        return bool(self.replies_received) or not self.errors

    @property
    def exit_code(self) -> int:
        """0 unless nothing could be sent (see ``delivered``)."""
        return 0 if self.delivered else 1

    def format(self) -> str:
        def listing(values: dict[str, int], *, total: bool = True) -> str:
            if not values:
                return "none"
            parts = ", ".join(f"{k} {v}" for k, v in values.items())
            if total and len(values) > 1:
                return f"{parts} (total {sum(values.values())})"
            return parts

        lines = [
            "SinoTrack simulator summary",
            f"  target            {self.target} over {self.transport}",
            f"  trackers          {self.trackers} ({listing(self.protocols, total=False)})",
            f"  ran               {self.elapsed_s:.1f} s at speedup {self.speedup:g}",
            f"  reports sent      {listing(self.reports_sent)}",
            f"  heartbeats sent   {listing(self.heartbeats_sent)}",
            f"  replies received  {listing(self.replies_received)}",
            f"  commands          received {sum(self.commands_received.values())}"
            + (
                f" ({listing(self.commands_received, total=False)})"
                if self.commands_received
                else ""
            )
            + f", answered {self.commands_answered}",
            f"  alarms sent       {listing(self.alarms_sent)}",
            f"  connections       {self.connects} opened, {self.reconnects} reconnects"
            + (
                f", {self.chaos_drops} dropped on purpose, {self.garbage_sent} junk frames"
                if self.chaos_drops or self.garbage_sent
                else ""
            ),
            f"  traffic           {self.frames_sent} frames, {self.bytes_sent} bytes out, "
            f"{self.bytes_received} bytes in",
            f"  errors            {self.errors}",
        ]
        lines.extend(f"    {sample}" for sample in self.error_samples)
        if not self.delivered:
            lines.append("  NOTHING GOT THROUGH: is a listener running on the target port?")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class TrackerSnapshot:
    """One tracker right now: what it last told the server and what the car is doing."""

    tracker_id: str  # the device ID the integration derives (and shows)
    protocol: str  # "h02", "h02-binary" or "jt808"
    terminal_id: str  # as sent: the H02 ID, or the 12-digit JT/T 808 phone number
    connected: bool
    reports_sent: int
    last_sent: Fix | None  # the fix of the last position report sent
    last_status: int | None  # H02 status word / JT/T 808 status DWORD of that report
    last_alarm_word: int | None  # JT/T 808 alarm DWORD of that report
    latitude: float
    longitude: float
    speed_kmh: float
    course: float
    phase: str  # "driving", "waiting" (red light), "parked"
    ignition: bool
    immobilized: bool
    armed: bool
    power_cut: bool
    battery_percent: float
    odometer_km: float
    active_alarms: tuple[str, ...]
    drive_interval_s: float


# --- configuration --------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class SimConfig:
    """Everything a run needs. Intervals are simulated seconds, divided by ``speedup``."""

    host: str = "127.0.0.1"
    port: int = 8888
    trackers: int = 3
    protocol: str = "mixed"  # h02 | h02-binary | jt808 | mixed (round robin over the three)
    transport: str = "tcp"  # tcp | udp
    duration: float = 300.0  # real seconds
    speedup: float = 1.0
    max_rate: float = 200.0  # reports (and heartbeats) per second, all trackers together
    alarm: str = "none"  # vibration | power_cut | sos | low_battery | random | none
    alarm_after: float | None = None  # real seconds before an on-demand alarm; None: auto
    first_id: int = 4106011600
    seed: int | None = None
    quiet: bool = True
    allow_remote: bool = False
    ack_style: str = "DONE"  # DONE | OK | 80 | echo: how H02 trackers acknowledge commands
    parked: bool = False  # every car stays parked (ignition off, speed 0): immobilizer tests
    burst: bool = False  # report as fast as max_rate allows (benchmarks)
    chaos: float = 0.0  # per frame: probability of junk before it or a dropped connection
    max_reconnects: int = 100  # per tracker
    progress_s: float = PROGRESS_INTERVAL_S  # real seconds between progress lines (not quiet)
    printer: Callable[[str], None] | None = None  # where event lines go (default stdout)
    # Called for every frame sent: (tracker ID, "report" | "heartbeat" | "answer" |
    # "session" | "junk", frame). For benchmarks; keep it cheap.
    on_send: Callable[[str, str, bytes], None] | None = None

    def validate(self) -> None:
        """``ValueError`` for anything out of range (and for a non-loopback host)."""
        if not self.allow_remote and not _is_loopback(self.host):
            raise ValueError(
                f"refusing to send to {self.host}: only to loopback addresses (127.0.0.1, ::1, "
                "localhost) unless --allow-remote is given (allow_remote=True from Python)"
            )
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not 1-65535")
        if not 1 <= self.trackers <= MAX_TRACKERS:
            raise ValueError(f"trackers must be 1-{MAX_TRACKERS}")
        if self.protocol not in PROTOCOL_CHOICES:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOL_CHOICES)}")
        if self.transport not in TRANSPORTS:
            raise ValueError("transport must be tcp or udp")
        if not 0 < self.duration <= 7 * 86400:
            raise ValueError("duration must be more than 0 s and at most a week")
        if not 0.01 <= self.speedup <= 100_000:
            raise ValueError("speedup must be 0.01-100000")
        if not 0 < self.max_rate <= MAX_RATE:
            raise ValueError(f"max_rate must be more than 0 and at most {MAX_RATE:g}")
        if self.alarm not in ALARM_CHOICES:
            raise ValueError(f"alarm must be one of {', '.join(ALARM_CHOICES)}")
        if self.ack_style not in ACK_STYLES:
            raise ValueError(f"ack_style must be one of {', '.join(ACK_STYLES)}")
        if not 0.0 <= self.chaos <= 1.0:
            raise ValueError("chaos is a probability, 0-1")
        if self.max_reconnects < 0:
            raise ValueError("max_reconnects must not be negative")
        if self.progress_s <= 0:
            raise ValueError("progress_s must be more than 0")
        last = self.first_id + self.trackers - 1
        if self.first_id < 1_000_000_000 or last > 9_999_999_999:
            raise ValueError("tracker IDs must stay 10-digit numbers (1000000000-9999999999)")

    def protocol_of(self, index: int) -> str:
        if self.protocol == "mixed":
            return PROTOCOLS[index % len(PROTOCOLS)]
        return self.protocol


# --- one tracker ----------------------------------------------------------------------------


class _RateLimiter:
    """Spaces sends ``1/rate`` apart across every tracker (and always yields)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        slot = max(now, self.next)
        self.next = slot + self.interval
        await asyncio.sleep(slot - now if slot > now else 0)


class SessionEnded(Exception):
    """The connection is gone (closed by the server, chaos, a reboot command)."""


class SimTracker:
    """One simulated device: its car, its protocol and its answers.

    The frame logic is synchronous (``report_frames``, ``heartbeat_frame``, ``receive``) so it
    can be tested without sockets; ``Simulator`` drives it over TCP or UDP.
    """

    def __init__(
        self,
        index: int,
        config: SimConfig,
        stats: Stats,
        *,
        sim_clock: Callable[[], float],
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        say: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.index = index
        self.config = config
        self.stats = stats
        self.protocol = config.protocol_of(index)
        self.device_id = str(config.first_id + index)
        self.terminal_id = self.device_id.zfill(12) if self.protocol == "jt808" else self.device_id
        self.phone = jt808_phone(self.device_id) if self.protocol == "jt808" else b""
        seed = f"{config.seed}-{index}" if config.seed is not None else None
        self.rng = random.Random(seed)
        self.sim_clock = sim_clock
        self.wall_clock = wall_clock
        self.say = say
        self.vehicle = Vehicle(self.rng, index, parked=config.parked, start_time=sim_clock())
        self.battery = self.rng.uniform(60, 100)
        self.signal = self.rng.randint(18, 31)
        self.satellites = self.rng.randint(6, 12)
        self.armed = False
        self.power_cut_until = -math.inf
        self.alarm_reports: dict[str, int] = {}  # alarm -> reports it stays set
        self.pending_alarms: list[str] = []  # to report at once
        self.low_battery_sent = False
        self.drive_interval = DRIVE_INTERVAL_S
        self.park_interval = PARK_INTERVAL_S
        self.heartbeat_interval = HEARTBEAT_INTERVAL_S
        self.tracking_until = -math.inf  # JT/T 808 0x8202 temporary tracking
        self.tracking_interval = DRIVE_INTERVAL_S
        # Session state.
        self.connected = False
        self.serial = 0
        self.auth_code: bytes | None = None
        self.sent_serials: dict[int, int] = {}  # our serial -> message ID (recent ones)
        self.waiters: dict[int, asyncio.Future[Jt808Frame]] = {}  # platform ID -> future
        self.buffer = b""
        self.report_now = False
        self.reboot = False
        self.reports_sent = 0
        self.heartbeats_sent = 0
        self.replies_received = 0  # the server's answers to this tracker (not its commands)
        self.session_reports = 0
        self.binary_sequence = 0
        self.last_sent: Fix | None = None
        self.last_status: int | None = None
        self.last_alarm_word: int | None = None
        self.wake = asyncio.Event()  # something for the session loop to do
        self.reported = asyncio.Event()  # the first report went out

    # --- state ----------------------------------------------------------------------------

    @property
    def power_cut(self) -> bool:
        return self.vehicle.t < self.power_cut_until or "power_cut" in self.alarm_reports

    def advance(self) -> None:
        """Bring the car and the battery up to the current simulated time."""
        before = self.vehicle.t
        self.vehicle.advance(self.sim_clock())
        dt = self.vehicle.t - before
        if self.power_cut:
            self.battery = max(0.0, self.battery - BATTERY_DRAIN_PER_S * dt)
        else:
            self.battery = min(100.0, self.battery + BATTERY_CHARGE_PER_S * dt)
        if self.rng.random() < 0.2:
            self.signal = max(5, min(31, self.signal + self.rng.choice((-1, 1))))
            self.satellites = max(4, min(14, self.satellites + self.rng.choice((-1, 1))))
        if self.battery < LOW_BATTERY_PERCENT and self.power_cut and not self.low_battery_sent:
            self.trigger_alarm("low_battery")
        elif self.battery > LOW_BATTERY_PERCENT + 10:
            self.low_battery_sent = False

    def trigger_alarm(self, alarm: str) -> None:
        """Raise ``alarm`` on the next report, which is sent at once."""
        if alarm not in ALARMS:
            raise ValueError(f"unknown alarm {alarm!r}; one of {', '.join(ALARMS)}")
        self._raise(alarm)
        self.report_now = True
        self.wake.set()

    def _raise(self, alarm: str) -> None:
        if alarm == "power_cut":
            self.power_cut_until = self.vehicle.t + self.rng.uniform(*POWER_CUT_S)
        elif alarm == "low_battery":
            self.low_battery_sent = True
            self.battery = min(self.battery, LOW_BATTERY_PERCENT - 5)
        self.pending_alarms.append(alarm)

    def interval(self) -> float:
        """Simulated seconds until the next report."""
        if self.config.burst:
            return 0.0
        if self.vehicle.t < self.tracking_until:
            return self.tracking_interval
        return self.drive_interval if self.vehicle.ignition else self.park_interval

    def fix(self) -> Fix:
        v = self.vehicle
        return Fix(self.wall_clock(), v.latitude, v.longitude, v.speed_kmh, v.course, True, 2)

    def snapshot(self) -> TrackerSnapshot:
        v = self.vehicle
        return TrackerSnapshot(
            tracker_id=self.device_id,
            protocol=self.protocol,
            terminal_id=self.terminal_id,
            connected=self.connected,
            reports_sent=self.reports_sent,
            last_sent=self.last_sent,
            last_status=self.last_status,
            last_alarm_word=self.last_alarm_word,
            latitude=v.latitude,
            longitude=v.longitude,
            speed_kmh=v.speed_kmh,
            course=v.course,
            phase=v.phase,
            ignition=v.ignition,
            immobilized=v.engine_cut,
            armed=self.armed,
            power_cut=self.power_cut,
            battery_percent=self.battery,
            odometer_km=v.odometer_m / 1000,
            active_alarms=tuple(sorted(self.alarm_reports)),
            drive_interval_s=self.drive_interval,
        )

    def _status_h02(self) -> int:
        active = self.alarm_reports
        return h02_status(
            ignition=self.vehicle.ignition,
            power_cut=self.power_cut,
            immobilized=self.vehicle.engine_cut,
            vibration="vibration" in active,
            sos="sos" in active,
            armed=self.armed,
        )

    def _words_jt808(self, fix: Fix) -> tuple[int, int]:
        active = self.alarm_reports
        return jt808_words(
            ignition=self.vehicle.ignition,
            fix=fix,
            immobilized=self.vehicle.engine_cut,
            power_cut=self.power_cut,
            vibration="vibration" in active,
            sos="sos" in active,
            low_battery="low_battery" in active,
        )

    def _next_serial(self, message_id: int) -> int:
        serial = self.serial
        self.serial = (self.serial + 1) & 0xFFFF
        self.sent_serials[serial] = message_id
        if len(self.sent_serials) > 512:
            del self.sent_serials[next(iter(self.sent_serials))]
        return serial

    def jt808(self, message_id: int, body: bytes) -> bytes:
        """A frame from this terminal with the next serial."""
        return jt808_frame(message_id, body, self.phone, self._next_serial(message_id))

    def _location_body(self, fix: Fix) -> tuple[bytes, int, int]:
        alarm, status = self._words_jt808(fix)
        items = jt808_items(
            odometer_km=self.vehicle.odometer_m / 1000,
            signal=self.signal,
            satellites=self.satellites,
            battery=self.battery,
            external=not self.power_cut,
        )
        return jt808_location_body(fix, alarm, status, items), alarm, status

    # --- frames the tracker sends ---------------------------------------------------------

    def report_frames(self) -> list[bytes]:
        """The next position report (with any alarm that is due), as frames to send."""
        self.advance()
        if (
            self.config.alarm == "random"
            and not self.pending_alarms
            and self.rng.random() < RANDOM_ALARM_CHANCE
        ):
            self._raise(self.rng.choice(ALARMS))
        for alarm in self.pending_alarms:
            self.alarm_reports[alarm] = max(self.alarm_reports.get(alarm, 0), ALARM_REPORTS)
            self.stats.alarms[alarm] += 1
            self.say(f"{self.device_id} {self.protocol}: alarm {alarm}")
        new_alarms, self.pending_alarms = self.pending_alarms, []
        fix = self.fix()
        frames: list[bytes] = []
        if self.protocol == "jt808":
            body, alarm_word, status = self._location_body(fix)
            frames.append(self.jt808(0x0200, body))
            self.last_alarm_word = alarm_word
        else:
            status = self._status_h02()
            if "low_battery" in new_alarms:
                frames.append(h02_alarm(self.device_id, H02_ALRM_LOW_BATTERY, fix, status))
            elif self.protocol == "h02-binary":
                self.binary_sequence += 1
                frames.append(
                    h02_binary_position(
                        self.device_id, fix, status, self.battery, sequence=self.binary_sequence
                    )
                )
            else:
                frames.append(h02_text_position(self.device_id, fix, status))
        self.last_sent, self.last_status = fix, status
        self.reports_sent += 1
        self.session_reports += 1
        self.reported.set()
        self.stats.reports[self.protocol] += 1
        for alarm in list(self.alarm_reports):
            self.alarm_reports[alarm] -= 1
            if self.alarm_reports[alarm] <= 0:
                del self.alarm_reports[alarm]
        return frames

    def heartbeat_frame(self) -> bytes:
        self.advance()
        self.heartbeats_sent += 1
        self.stats.heartbeats[self.protocol] += 1
        if self.protocol == "jt808":
            return self.jt808(0x0002, b"")
        return h02_link(
            self.device_id,
            self.wall_clock(),
            signal=self.signal,
            satellites=self.satellites,
            battery=round(self.battery),
            status=self._status_h02(),
        )

    def register_frame(self) -> bytes:
        return self.jt808(0x0100, jt808_register_body(self.device_id))

    def auth_frame(self) -> bytes:
        return self.jt808(0x0102, self.auth_code or b"")

    def garbage_frame(self) -> bytes:
        """Junk for ``chaos``: a line of noise, or a frame the server must reject."""
        noise = "".join(self.rng.choice(string.ascii_lowercase + " ") for _ in range(12))
        if self.rng.random() < 0.5:
            return f"sim {noise}\r\n".encode("ascii")
        if self.protocol == "jt808":  # an unknown message with a wrong checksum
            frame = bytearray(jt808_frame(0x0F0F, b"\x01\x02", self.phone, 0))
            frame[-2] ^= 0x55
            if frame[-2] in (0x7D, 0x7E):
                frame[-2] ^= 0x01
            return bytes(frame)
        return f"*HQ,{self.device_id},V1,{noise.replace(' ', '')}#".encode("ascii")

    # --- what the server sends ------------------------------------------------------------

    def receive(self, data: bytes, *, datagram: bool = False) -> list[bytes]:
        """Take bytes from the server; returns the frames to answer with, in order."""
        self.stats.bytes_received += len(data)
        buffer = data if datagram else self.buffer + data
        if self.protocol == "jt808":
            frames, rest = split_jt808(buffer)
        else:
            frames, rest = split_h02(buffer)
        if datagram and rest:
            self.stats.error(f"{self.device_id}: incomplete datagram {rest[:40]!r}")
            rest = b""
        if len(rest) > MAX_BUFFER:
            self.stats.error(f"{self.device_id}: {len(rest)} bytes without a frame dropped")
            rest = b""
        if not datagram:
            self.buffer = rest
        out: list[bytes] = []
        for frame in frames:
            try:
                if self.protocol == "jt808":
                    out.extend(self._jt808_in(jt808_parse(frame)))
                else:
                    out.extend(self._h02_in(frame))
            except ValueError as err:
                self.stats.error(f"{self.device_id}: bad frame from the server ({err}): {frame!r}")
        return out

    # H02 ------------------------------------------------------------------------------------

    def _h02_in(self, frame: bytes) -> list[bytes]:
        text = frame.decode("ascii")
        f = text[1:-1].split(",")
        if len(f) < 3:
            raise ValueError("too few fields")
        if f[1] != self.device_id:
            raise ValueError(f"addressed to {f[1]!r}")
        word = f[2].strip().upper()
        if word == "V4":  # a reply: V4,V1,<yyyyMMddHHmmss> time sync, V4,NBR …
            kind = f"V4,{f[3]}" if len(f) > 3 else "V4"
            if kind in ("V4,V1", "V4,NBR"):
                self._check_time_sync(f[4] if len(f) > 4 else "")
            self._replied(kind)
            return []
        if word == "R12":
            if len(f) < 4 or len(f[3]) != 6 or not f[3].isdigit():
                raise ValueError("R12 without HHMMSS")
            self._replied("R12")
            return []
        if word in ("HTBT", "V0", "LINK"):
            self._replied(word)
            return []
        return self._h02_command(word, f[3:])

    def _replied(self, kind: str) -> None:
        self.stats.replies[kind] += 1
        self.replies_received += 1

    def _check_time_sync(self, stamp: str) -> None:
        try:
            when = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"time sync {stamp!r} is not yyyyMMddHHmmss") from None
        skew = abs((when - self.wall_clock()).total_seconds())
        if skew > TIME_SYNC_TOLERANCE_S:
            self.stats.error(f"{self.device_id}: server clock is {skew:.0f} s off")

    def _h02_command(self, word: str, rest: list[str]) -> list[bytes]:
        self.stats.commands[word] += 1
        tag = rest[0] if rest and len(rest[0]) == 6 and rest[0].isdigit() else None
        params = rest[1:] if tag is not None else rest
        self.advance()
        answer: list[bytes] = []
        if word == "S20":
            if len(params) < 2 or params[1] not in ("0", "1"):
                answer.append(self._h02_ack(word, tag, params, success=False))
            else:
                cut = params[1] == "1"
                self.vehicle.cut_engine(cut)
                self.say(f"{self.device_id} h02: engine {'cut' if cut else 'restored'} (S20)")
                answer.append(self._h02_ack(word, tag, params))
        elif word == "CR":
            answer.append(h02_short_ack(self.device_id, "CR"))
            self.report_now = True
        elif word in ("D1", "S71"):
            seconds = params[0] if word == "D1" else (params[1] if len(params) > 1 else "")
            ok = seconds.isdigit() and 1 <= int(seconds) <= 65535
            if ok:
                self.drive_interval = float(seconds)
            answer.append(self._h02_ack(word, tag, params, success=ok))
        elif word == "SCF":
            ok = len(params) >= 2 and params[0] in ("0", "1")
            if ok:
                self.armed = params[0] == "0"
            answer.append(self._h02_ack(word, tag, params, success=ok))
        elif word == "CQ":
            answer.append(h02_short_ack(self.device_id, "CQ"))
            self.reboot = True
        else:
            answer.append(self._h02_ack(word, tag, params, success=False))
        self.stats.commands_answered += 1
        self.wake.set()  # the session loop sends what is due (CR's report) or reboots (CQ)
        return answer

    def _h02_ack(
        self, word: str, tag: str | None, params: list[str], *, success: bool = True
    ) -> bytes:
        return h02_ack(
            self.device_id,
            word,
            tag,
            self.config.ack_style,
            fix=self.fix(),
            status=self._status_h02(),
            params=params,
            success=success,
        )

    # JT/T 808 -------------------------------------------------------------------------------

    def _jt808_in(self, frame: Jt808Frame) -> list[bytes]:
        if frame.phone.lstrip("0") != self.device_id:
            raise ValueError(f"addressed to terminal {frame.phone}")
        mid = frame.message_id
        if mid == 0x8001:
            self._platform_ack(frame)
            return []
        if mid == 0x8100:
            if len(frame.body) < 3:
                raise ValueError("0x8100 body too short")
            self._replied("0x8100")
            self._resolve(mid, frame)
            return []
        if mid == 0x8109:
            self._replied("0x8109")
            return []
        return self._jt808_command(frame)

    def _platform_ack(self, frame: Jt808Frame) -> None:
        if len(frame.body) < 5:
            raise ValueError("0x8001 body too short")
        serial, answered, result = struct.unpack_from(">HHB", frame.body)
        self._replied("0x8001")
        sent = self.sent_serials.get(serial)
        if sent is None:
            self.stats.error(f"{self.device_id}: 0x8001 for serial {serial} never sent")
        elif sent != answered:
            self.stats.error(
                f"{self.device_id}: 0x8001 names 0x{answered:04X} for serial {serial} "
                f"(was 0x{sent:04X})"
            )
        elif result not in (0, 4):
            self.stats.error(f"{self.device_id}: 0x8001 result {result} for 0x{answered:04X}")
        if answered == 0x0102:
            self._resolve(0x8001, frame)

    def _resolve(self, message_id: int, frame: Jt808Frame) -> None:
        waiter = self.waiters.pop(message_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)

    def _jt808_command(self, frame: Jt808Frame) -> list[bytes]:
        mid = frame.message_id
        name = f"0x{mid:04X}"
        self.stats.commands[name] += 1
        self.advance()
        body = frame.body
        result = JT_RESULT_OK
        answer: list[bytes] = []
        if mid == 0x8105 and body[:1] in (b"\xf0", b"\xf1"):
            cut = body[0] == 0xF0
            self.vehicle.cut_engine(cut)
            self.say(f"{self.device_id} jt808: engine {'cut' if cut else 'restored'} (0x8105)")
            self.report_now = True
        elif mid == 0x8105 and body[:1] == b"\x04":
            self.reboot = True
        elif mid == 0x8201:
            location, _, _ = self._location_body(self.fix())
            body_0201 = struct.pack(">H", frame.serial) + location
            self.stats.commands_answered += 1
            return [self.jt808(0x0201, body_0201)]
        elif mid == 0x8103:
            self._set_parameters(body)
        elif mid == 0x8104:
            params = (
                (0x0001, round(self.heartbeat_interval)),
                (0x0027, round(self.park_interval)),
                (0x0029, round(self.drive_interval)),
            )
            reply = struct.pack(">HB", frame.serial, len(params))
            reply += b"".join(struct.pack(">IBI", pid, 4, value) for pid, value in params)
            self.stats.commands_answered += 1
            return [self.jt808(0x0104, reply)]
        elif mid == 0x8202 and len(body) >= 2:
            seconds = int.from_bytes(body[:2], "big")
            valid = int.from_bytes(body[2:6], "big") if len(body) >= 6 else 0
            self.tracking_interval = float(seconds or DRIVE_INTERVAL_S)
            self.tracking_until = self.vehicle.t + valid if seconds else -math.inf
        elif mid in (0x8300, 0x8500):
            pass
        else:
            result = JT_RESULT_UNSUPPORTED
        answer.append(self.jt808(0x0001, jt808_general_response(frame.serial, mid, result)))
        self.stats.commands_answered += 1
        self.wake.set()
        return answer

    def _set_parameters(self, body: bytes) -> None:
        if not body:
            raise ValueError("0x8103 without parameters")
        pos = 1
        for _ in range(body[0]):
            if pos + 5 > len(body):
                raise ValueError("0x8103 parameter list runs past the body")
            pid, size = struct.unpack_from(">IB", body, pos)
            value = body[pos + 5 : pos + 5 + size]
            pos += 5 + size
            if size != 4:
                continue
            number = float(int.from_bytes(value, "big"))
            if number <= 0:
                continue
            if pid == 0x0029:
                self.drive_interval = number
            elif pid == 0x0027:
                self.park_interval = number
            elif pid == 0x0001:
                self.heartbeat_interval = number


# --- transports -----------------------------------------------------------------------------


class _Link:
    """A connection of one tracker: TCP stream or UDP socket."""

    def __init__(self, tracker: SimTracker) -> None:
        self.tracker = tracker
        self.closed = asyncio.Event()
        self.lock = asyncio.Lock()

    async def send(self, data: bytes, kind: str = "session") -> None:
        raise NotImplementedError

    def sent(self, data: bytes, kind: str) -> None:
        stats = self.tracker.stats
        stats.frames_sent += 1
        stats.bytes_sent += len(data)
        observer = self.tracker.config.on_send
        if observer is not None:
            observer(self.tracker.device_id, kind, data)

    async def close(self) -> None:
        raise NotImplementedError

    def lost(self) -> None:
        self.closed.set()
        self.tracker.connected = False
        self.tracker.wake.set()


class _TcpLink(_Link):
    def __init__(
        self, tracker: SimTracker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super().__init__(tracker)
        self.reader = reader
        self.writer = writer
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        tracker = self.tracker
        try:
            while True:
                data = await self.reader.read(4096)
                if not data:
                    break
                for answer in tracker.receive(data):
                    await self.send(answer, "answer")
        except (ConnectionError, OSError, SessionEnded):
            pass
        finally:
            self.lost()

    async def send(self, data: bytes, kind: str = "session") -> None:
        if self.closed.is_set():
            raise SessionEnded
        async with self.lock:
            try:
                self.writer.write(data)
                await self.writer.drain()
            except (ConnectionError, OSError) as err:
                self.lost()
                raise SessionEnded from err
        self.sent(data, kind)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.lost()


class _UdpLink(_Link, asyncio.DatagramProtocol):
    def __init__(self, tracker: SimTracker) -> None:
        super().__init__(tracker)
        self.transport: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: Any) -> None:
        transport = self.transport
        for answer in self.tracker.receive(data, datagram=True):
            if transport is not None and not transport.is_closing():
                transport.sendto(answer)
                self.sent(answer, "answer")

    def error_received(self, exc: Exception) -> None:
        self.tracker.stats.error(f"{self.tracker.device_id}: UDP {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost()

    async def send(self, data: bytes, kind: str = "session") -> None:
        if self.closed.is_set() or self.transport is None:
            raise SessionEnded
        self.transport.sendto(data)
        self.sent(data, kind)

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.lost()


# --- the run --------------------------------------------------------------------------------


class Simulator:
    """A run of ``config.trackers`` trackers; see the module docstring for the hooks.

    Use it on one event loop: ``trigger_alarm``, ``snapshot`` and ``stop`` are not thread-safe
    (from another thread, go through ``loop.call_soon_threadsafe``).
    """

    def __init__(self, config: SimConfig) -> None:
        config.validate()
        self.config = config
        self.stats = Stats()
        self._started: float | None = None
        self._finished: float | None = None
        self._stop = asyncio.Event()
        self._limiter = _RateLimiter(config.max_rate)
        self.trackers: dict[str, SimTracker] = {}
        for index in range(config.trackers):
            tracker = SimTracker(index, config, self.stats, sim_clock=self.sim_time, say=self._say)
            self.trackers[tracker.device_id] = tracker

    # --- hooks ----------------------------------------------------------------------------

    @property
    def tracker_ids(self) -> list[str]:
        """Device IDs as the integration shows them, in tracker order."""
        return list(self.trackers)

    @property
    def running(self) -> bool:
        return self._started is not None and self._finished is None

    def trigger_alarm(self, tracker_id: str, alarm: str) -> None:
        """Make ``tracker_id`` report ``alarm`` at once (vibration, power_cut, sos, low_battery)."""
        self.trackers[tracker_id].trigger_alarm(alarm)

    def snapshot(self, tracker_id: str) -> TrackerSnapshot:
        tracker = self.trackers[tracker_id]
        if self.running:
            tracker.advance()
        return tracker.snapshot()

    def snapshots(self) -> dict[str, TrackerSnapshot]:
        return {tracker_id: self.snapshot(tracker_id) for tracker_id in self.trackers}

    def stop(self) -> None:
        """End the run early (``run`` returns its summary shortly after)."""
        self._stop.set()
        for tracker in self.trackers.values():
            tracker.wake.set()

    def sim_time(self) -> float:
        """Simulated seconds since the start."""
        if self._started is None:
            return 0.0
        end = self._finished if self._finished is not None else time.monotonic()
        return (end - self._started) * self.config.speedup

    def summary(self) -> Summary:
        stats = self.stats
        started = self._started or time.monotonic()
        elapsed = (self._finished or time.monotonic()) - started
        protocols = Counter(t.protocol for t in self.trackers.values())
        return Summary(
            target=f"{self.config.host}:{self.config.port}",
            transport=self.config.transport,
            trackers=len(self.trackers),
            protocols=_counts(protocols),
            elapsed_s=elapsed if self._started is not None else 0.0,
            speedup=self.config.speedup,
            reports_sent=_counts(stats.reports),
            heartbeats_sent=_counts(stats.heartbeats),
            replies_received=_counts(stats.replies),
            commands_received=_counts(stats.commands),
            commands_answered=stats.commands_answered,
            alarms_sent=_counts(stats.alarms),
            connects=stats.connects,
            reconnects=stats.reconnects,
            chaos_drops=stats.chaos_drops,
            garbage_sent=stats.garbage_sent,
            frames_sent=stats.frames_sent,
            bytes_sent=stats.bytes_sent,
            bytes_received=stats.bytes_received,
            errors=stats.errors,
            error_samples=tuple(stats.error_samples),
        )

    # --- running --------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.config.quiet:
            return
        elapsed = time.monotonic() - self._started if self._started is not None else 0.0
        line = f"[{elapsed:7.1f}s] {message}"
        if self.config.printer is not None:
            self.config.printer(line)
        else:
            print(line, flush=True)

    async def run(self) -> Summary:
        """Run until ``duration`` is over or ``stop()``; always returns a summary."""
        if self._started is not None:
            raise RuntimeError("a Simulator runs once")
        self._started = time.monotonic()
        self._stop.clear()
        for tracker in self.trackers.values():
            tracker.vehicle.t = 0.0
        cfg = self.config
        self._say(
            f"{_plural(cfg.trackers, 'tracker')} -> {cfg.host}:{cfg.port} over {cfg.transport} "
            f"for {cfg.duration:g} s (speedup {cfg.speedup:g})"
        )
        tasks = [
            asyncio.create_task(self._tracker_main(tracker), name=f"sim-{tracker.device_id}")
            for tracker in self.trackers.values()
        ]
        if cfg.alarm in ALARMS:
            tasks.append(asyncio.create_task(self._alarm_on_demand(cfg.alarm)))
        if not cfg.quiet:
            tasks.append(asyncio.create_task(self._progress()))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), cfg.duration)
        finally:
            self.stop()
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for task in tasks:
                if not task.cancelled() and task.exception() is not None:
                    self.stats.error(f"internal error: {task.exception()!r}")
            self._finished = time.monotonic()
        return self.summary()

    async def _progress(self) -> None:
        """Every ``progress_s`` (a minute): what was sent and answered, in all and per tracker,
        so a long run is not silent between "connected" and the summary."""
        while not self._stop.is_set():
            await self._sleep(self.config.progress_s)
            if self._stop.is_set():
                return
            for line in self.progress_lines():
                self._say(line)

    def progress_lines(self) -> list[str]:
        """The progress report: a line in all, then one per tracker (the first few of many)."""
        trackers = list(self.trackers.values())
        connected = sum(t.connected for t in trackers)
        lines = [
            f"progress: {_plural(len(trackers), 'tracker')} ({connected} connected) sent "
            f"{_plural(sum(t.reports_sent for t in trackers), 'report')} and "
            f"{_plural(sum(t.heartbeats_sent for t in trackers), 'heartbeat')}, "
            f"{sum(t.replies_received for t in trackers)} answered"
        ]
        for tracker in trackers[:PROGRESS_TRACKERS]:
            lines.append(
                f"  {tracker.device_id} {tracker.protocol}: sent "
                f"{_plural(tracker.reports_sent, 'report')} and "
                f"{_plural(tracker.heartbeats_sent, 'heartbeat')}, "
                f"{tracker.replies_received} answered"
                + ("" if tracker.connected else ", not connected")
            )
        if len(trackers) > PROGRESS_TRACKERS:
            lines.append(f"  … and {_plural(len(trackers) - PROGRESS_TRACKERS, 'tracker')} more")
        return lines

    async def _alarm_on_demand(self, alarm: str) -> None:
        """Each tracker raises ``alarm`` once, a bit after the start (after its first report)."""
        delay = self.config.alarm_after
        if delay is None:
            delay = min(3.0, self.config.duration / 3)
        await self._sleep(delay)
        for tracker in self.trackers.values():
            if self._stop.is_set():
                return
            if tracker.reports_sent == 0:  # wait a little for its first report
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(tracker.reported.wait(), 2.0)
            tracker.trigger_alarm(alarm)
            await self._sleep(0.05)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), max(0.0, seconds))

    async def _tracker_main(self, tracker: SimTracker) -> None:
        failures = 0
        attempts = 0
        while not self._stop.is_set():
            link = await self._connect(tracker)
            attempts += 1
            if link is not None:
                tracker.session_reports = 0
                try:
                    await self._session(tracker, link)
                except SessionEnded:
                    pass
                except (ConnectionError, OSError, TimeoutError) as err:
                    tracker.stats.error(f"{tracker.device_id}: {err!r}")
                finally:
                    await link.close()
                if tracker.session_reports:
                    failures = 0
            if self._stop.is_set():
                return
            if attempts > self.config.max_reconnects:
                tracker.stats.error(f"{tracker.device_id}: gave up after {attempts} connections")
                return
            failures += 1
            tracker.stats.reconnects += 1
            tracker.reboot = False
            delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** min(failures - 1, 10))
            await self._sleep(delay * tracker.rng.uniform(0.5, 1.0))

    async def _connect(self, tracker: SimTracker) -> _Link | None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        try:
            if cfg.transport == "udp":
                udp = _UdpLink(tracker)
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: udp, remote_addr=(cfg.host, cfg.port)
                )
                udp.transport = transport
                link: _Link = udp
            else:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(cfg.host, cfg.port, limit=MAX_BUFFER),
                    CONNECT_TIMEOUT_S,
                )
                link = _TcpLink(tracker, reader, writer)
        except (OSError, TimeoutError) as err:
            tracker.stats.error(f"{tracker.device_id}: cannot connect: {err}")
            return None
        tracker.connected = True
        tracker.buffer = b""
        tracker.stats.connects += 1
        self._say(f"{tracker.device_id} {tracker.protocol}: connected over {cfg.transport}")
        return link

    async def _send(self, tracker: SimTracker, link: _Link, data: bytes, kind: str) -> None:
        rate = self.config.chaos
        if rate and tracker.rng.random() < rate / 2:
            await link.send(tracker.garbage_frame(), "junk")
            tracker.stats.garbage_sent += 1
        await link.send(data, kind)
        if rate and tracker.rng.random() < rate / 2:
            tracker.stats.chaos_drops += 1
            raise SessionEnded

    async def _handshake(self, tracker: SimTracker, link: _Link) -> None:
        """JT/T 808: register (first time only), then authenticate, each waiting its answer."""
        loop = asyncio.get_running_loop()
        if tracker.auth_code is None:
            waiter: asyncio.Future[Jt808Frame] = loop.create_future()
            tracker.waiters[0x8100] = waiter
            await link.send(tracker.register_frame())
            reply = await self._await_reply(tracker, link, waiter, "0x8100")
            result = reply.body[2]
            if result != 0:
                tracker.stats.error(f"{tracker.device_id}: registration refused ({result})")
                raise SessionEnded
            tracker.auth_code = reply.body[3:] or tracker.terminal_id.encode("ascii")
        waiter = loop.create_future()
        tracker.waiters[0x8001] = waiter
        await link.send(tracker.auth_frame())
        reply = await self._await_reply(tracker, link, waiter, "0x8001 for 0x0102")
        if reply.body[4] != 0:
            tracker.stats.error(f"{tracker.device_id}: authentication refused")
            tracker.auth_code = None  # register again next time
            raise SessionEnded

    async def _await_reply(
        self, tracker: SimTracker, link: _Link, waiter: asyncio.Future[Jt808Frame], what: str
    ) -> Jt808Frame:
        closed = asyncio.ensure_future(link.closed.wait())
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait(
                (waiter, closed, stopped),
                timeout=HANDSHAKE_TIMEOUT_S,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            closed.cancel()
            stopped.cancel()
        if waiter.done():
            return waiter.result()
        waiter.cancel()
        tracker.waiters.clear()
        if not self._stop.is_set() and not link.closed.is_set():
            tracker.stats.error(f"{tracker.device_id}: no {what} within {HANDSHAKE_TIMEOUT_S:g} s")
        raise SessionEnded

    async def _session(self, tracker: SimTracker, link: _Link) -> None:
        speedup = self.config.speedup
        if tracker.protocol == "jt808":
            await self._handshake(tracker, link)
        now = time.monotonic()
        next_report = now  # a tracker reports as soon as it is connected
        next_heartbeat = now + HEARTBEAT_INTERVAL_S / speedup * tracker.rng.uniform(0.3, 1.0)
        while not self._stop.is_set():
            if link.closed.is_set():
                raise SessionEnded
            if tracker.reboot:
                self._say(f"{tracker.device_id} {tracker.protocol}: rebooting")
                raise SessionEnded
            now = time.monotonic()
            if tracker.report_now or now >= next_report:
                tracker.report_now = False
                await self._limiter.acquire()
                for frame in tracker.report_frames():
                    await self._send(tracker, link, frame, "report")
                next_report = time.monotonic() + tracker.interval() / speedup
                continue
            if now >= next_heartbeat:
                await self._limiter.acquire()
                await self._send(tracker, link, tracker.heartbeat_frame(), "heartbeat")
                next_heartbeat = time.monotonic() + tracker.heartbeat_interval / speedup
                continue
            tracker.wake.clear()
            if tracker.report_now or tracker.reboot or link.closed.is_set():
                continue
            wait = min(next_report, next_heartbeat) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tracker.wake.wait(), wait)


async def run(config: SimConfig) -> Summary:
    """Run a simulation to its end and return what happened."""
    return await Simulator(config).run()


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> tuple[SimConfig, bool]:
    """The run's configuration, and whether the summary is wanted as JSON."""
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description="Simulated SinoTrack GPS trackers (H02 text, H02 binary, JT/T 808) "
        "driving around Amsterdam, reporting to a tracker port.",
        epilog="JT/T 808 trackers send the ID zero-padded to 12 digits; the integration strips "
        "the zeros, so every tracker shows up under its 10-digit ID.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="listener address (loopback only, see --allow-remote)")
    add("--port", type=int, default=8888)
    add("--trackers", type=int, default=3, help="number of trackers (default 3)")
    add("--protocol", choices=PROTOCOL_CHOICES, default="mixed", help="default: mixed")
    add("--transport", choices=TRANSPORTS, default="tcp")
    add("--duration", type=float, default=300.0, help="seconds to run (default 300)")
    add("--speedup", type=float, default=1.0, help="time compression: intervals / F")
    add("--max-rate", type=float, default=200.0, help="reports per second, in total (200)")
    add("--alarm", choices=ALARM_CHOICES, default="none", help="fire once after start, or random")
    add("--alarm-after", type=float, default=None, help="seconds before an on-demand alarm")
    add("--first-id", type=int, default=4106011600, help="ID of the first tracker (10 digits)")
    add("--seed", type=int, default=None, help="make the routes and alarms repeatable")
    add("--ack-style", choices=ACK_STYLES, default="DONE", help="H02 command answers")
    add("--parked", action="store_true", help="every car stays parked (ignition off)")
    add("--burst", action="store_true", help="report as fast as --max-rate allows")
    add("--chaos", type=float, default=0.0, help="per-frame chance of junk or a dropped link")
    add("--max-reconnects", type=int, default=100, help="per tracker (default 100)")
    add("--allow-remote", action="store_true", help="allow a host that is not loopback")
    add("--quiet", action="store_true", help="print only the summary")
    add("--json", action="store_true", help="the summary as one JSON object (implies --quiet)")
    args = parser.parse_args(argv)
    config = SimConfig(
        host=args.host,
        port=args.port,
        trackers=args.trackers,
        protocol=args.protocol,
        transport=args.transport,
        duration=args.duration,
        speedup=args.speedup,
        max_rate=args.max_rate,
        alarm=args.alarm,
        alarm_after=args.alarm_after,
        first_id=args.first_id,
        seed=args.seed,
        quiet=args.quiet or args.json,
        allow_remote=args.allow_remote,
        ack_style=args.ack_style,
        parked=args.parked,
        burst=args.burst,
        chaos=args.chaos,
        max_reconnects=args.max_reconnects,
    )
    try:
        config.validate()
    except ValueError as err:
        parser.error(str(err))
    return config, args.json


async def _main(config: SimConfig) -> Summary:
    simulator = Simulator(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, simulator.stop)
    return await simulator.run()


def main(argv: Sequence[str] | None = None) -> int:
    config, as_json = parse_args(argv)
    summary = asyncio.run(_main(config))
    print(json.dumps(summary.as_dict()) if as_json else summary.format(), flush=True)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
