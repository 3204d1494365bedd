"""Typed, protocol-neutral messages produced by the codecs.

Everything here is a value: frozen, slotted dataclasses. Times are timezone-aware UTC
``datetime`` objects, speeds are km/h (codecs convert once, at the edge), coordinates are
decimal degrees (south and west negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ProtocolError(ValueError):
    """Bad input: the one error type every codec raises for bytes it cannot decode."""


class Alarm(StrEnum):
    """User-facing alarms, shared by every protocol (they become the event types)."""

    VIBRATION = "vibration"
    SOS = "sos"
    OVERSPEED = "overspeed"
    POWER_CUT = "power_cut"
    LOW_BATTERY = "low_battery"
    GEOFENCE = "geofence"
    DOOR = "door"
    ILLEGAL_IGNITION = "illegal_ignition"
    GPS_ANTENNA = "gps_antenna"
    TAMPER = "tamper"
    MOVEMENT = "movement"
    ACCIDENT = "accident"
    FATIGUE = "fatigue"
    FAULT = "fault"


@dataclass(frozen=True, slots=True)
class Flags:
    """Vehicle state decoded from a status word; ``None`` means the protocol did not say."""

    ignition: bool | None = None
    external_power_cut: bool | None = None  # running on the backup battery
    immobilizer_engaged: bool | None = None  # engine/fuel cut active
    door_open: bool | None = None
    armed: bool | None = None


NO_FLAGS = Flags()


@dataclass(frozen=True, slots=True)
class Cell:
    """One GSM/LTE cell of a base-station (LBS) report."""

    lac: int
    cid: int
    rssi: int | None = None


@dataclass(frozen=True, slots=True)
class WifiAccessPoint:
    """A Wi-Fi access point a report lists (H02 V8): its BSSID and signal as sent."""

    bssid: str  # 12 hex digits, as sent
    rssi: int  # as sent (SinoTrack 4G: signal = rssi - 110 dBm)


@dataclass(frozen=True, slots=True)
class Position:
    """A location report (H02 V1/V2/V5/V6/V8/V19/VI1/VP1/binary, JT/T 808 0x0200 …)."""

    protocol: str
    device_id: str
    message_type: str
    fix_time: datetime | None  # None: the device sent no date, use the receive time
    valid: bool
    latitude: float
    longitude: float
    speed_kmh: float = 0.0
    course: float = 0.0
    altitude_m: float | None = None
    status: int | None = None  # the raw status word, as sent
    flags: Flags = NO_FLAGS
    alarms: frozenset[Alarm] = frozenset()
    battery_percent: int | None = None
    battery_voltage: float | None = None  # the tracker's own backup battery, V
    power_voltage: float | None = None  # the vehicle's supply, V
    odometer_km: float | None = None
    signal: int | None = None  # GSM signal, as the device reports it (usually CSQ 0-31)
    satellites: int | None = None
    stored: bool = False  # the device says this report was buffered and is sent late
    extras: tuple[str, ...] = ()  # vendor fields kept raw
    iccid: str | None = None  # the SIM's ICCID (H02 V6)
    mcc: int | None = None  # the serving cell (H02 V6/V8), when the report names one
    mnc: int | None = None
    cells: tuple[Cell, ...] = ()
    wifi: tuple[WifiAccessPoint, ...] = ()  # access points seen (H02 V8)
    warnings: tuple[str, ...] = ()  # why a field is missing (e.g. an impossible fix time)


class _PositionSlots:
    """A plain twin of ``Position``: the same slots in the same order (so the same layout)."""

    __slots__ = Position.__slots__


def new_position(  # noqa: PLR0917 - every field, in order: the decoders' hot path
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
    iccid: str | None,
    mcc: int | None,
    mnc: int | None,
    cells: tuple[Cell, ...],
    wifi: tuple[WifiAccessPoint, ...],
    warnings: tuple[str, ...],
) -> Position:
    """``Position(...)`` with every field given positionally, in the class's order, at a
    seventh of the cost: a frozen dataclass's ``__init__`` calls ``object.__setattr__`` once
    per field (about 2.4 µs for 27 fields with keywords, Python 3.14; the rest of a V1 decode
    is about as much). The twin is filled with plain slot stores and then becomes a
    ``Position``: a genuine frozen one (type, equality, hash, repr, pickling, ``replace``).
    ``tests/protocol/test_model.py`` checks it against the constructor field by field."""
    p: Any = _new(_PositionSlots)  # filled below: the attributes are Position's slots
    p.protocol = protocol
    p.device_id = device_id
    p.message_type = message_type
    p.fix_time = fix_time
    p.valid = valid
    p.latitude = latitude
    p.longitude = longitude
    p.speed_kmh = speed_kmh
    p.course = course
    p.altitude_m = altitude_m
    p.status = status
    p.flags = flags
    p.alarms = alarms
    p.battery_percent = battery_percent
    p.battery_voltage = battery_voltage
    p.power_voltage = power_voltage
    p.odometer_km = odometer_km
    p.signal = signal
    p.satellites = satellites
    p.stored = stored
    p.extras = extras
    p.iccid = iccid
    p.mcc = mcc
    p.mnc = mnc
    p.cells = cells
    p.wifi = wifi
    p.warnings = warnings
    p.__class__ = Position
    return p  # type: ignore[no-any-return]


_new = object.__new__


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A keep-alive, login or status report without a fix (H02 V0/HTBT/LINK, JT/T 808 0x0002)."""

    protocol: str
    device_id: str
    message_type: str
    device_time: datetime | None = None
    status: int | None = None
    flags: Flags = NO_FLAGS
    alarms: frozenset[Alarm] = frozenset()
    battery_percent: int | None = None
    battery_voltage: float | None = None
    power_voltage: float | None = None
    signal: int | None = None
    satellites: int | None = None


@dataclass(frozen=True, slots=True)
class CellReport:
    """A base-station report without GPS (H02 V3/NBR/BASE/BS)."""

    protocol: str
    device_id: str
    message_type: str
    device_time: datetime | None = None
    mcc: int | None = None
    mnc: int | None = None
    cells: tuple[Cell, ...] = ()
    status: int | None = None
    flags: Flags = NO_FLAGS
    alarms: frozenset[Alarm] = frozenset()
    battery_percent: int | None = None


@dataclass(frozen=True, slots=True)
class CommandAck:
    """The device's answer to a server command (H02 V4, JT/T 808 0x0001 …)."""

    protocol: str
    device_id: str
    command: str  # the acknowledged command: "S20", "CR" … or "0x8105" for JT/T 808
    tag: str | None = None  # what ties it to the command: the echoed HHMMSS, or the serial
    result: str | None = None  # "DONE", "OK", "80", "ERROR", "0" … as sent
    success: bool | None = None  # None: the device did not say
    params: tuple[str, ...] = ()  # the command's parameters/result fields, as sent
    position: Position | None = None  # the fix attached to the answer, if any


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Free text or identity the device sends (H02 SMS, JT/T 808 register/attributes …)."""

    protocol: str
    device_id: str
    message_type: str
    text: str | None = None
    model: str | None = None
    firmware: str | None = None
    imei: str | None = None
    iccid: str | None = None


Message = Position | Heartbeat | CellReport | CommandAck | DeviceIdentity


@dataclass(frozen=True, slots=True)
class Decoded:
    """One message out of a codec, with the exact bytes the device expects back (if any)."""

    message: Message
    reply: bytes | None = None
    raw: bytes = b""  # the frame it came from, for diagnostics


@dataclass(frozen=True, slots=True)
class ServerMessage:
    """A frame a server sent to a device, read by ``ServerReader`` (a relayed upstream's words).

    ``device_id``: the checked digits the frame addresses ("" for a JT/T 808 all-zero ID).
    ``name``: the H02 command word (``"S20"``, ``"V4"``, ``"R12"``) or the JT/T 808 message ID
    (``"0x8105"``). ``reply``: an answer to the device's own message (H02 ``V4`` time syncs and
    ``R12``, JT/T 808 0x8001/0x8100), not a command. ``engine_stop``: an immobilizer cut (or a
    form that may be one). ``raw``: the whole frame, as it would go to the device.
    """

    protocol: str
    device_id: str
    name: str
    reply: bool
    engine_stop: bool
    raw: bytes


@dataclass(frozen=True, slots=True)
class DecodeError:
    """A frame that could not be decoded; the codec goes on with the next one."""

    reason: str
    raw: bytes = b""


@dataclass(slots=True)
class CodecStats:
    """Running counters of one codec instance (one connection or UDP peer)."""

    frames: int = 0
    messages: int = 0
    errors: int = 0
    bytes_skipped: int = 0
    overflows: int = 0  # buffer cap hit without a complete frame
    checksum_errors: int = 0  # frames whose checksum is wrong (refused unless tolerated)
    length_errors: int = 0  # frames whose body-length field does not match the body (refused)


class CommandKind(StrEnum):
    ENGINE_STOP = "engine_stop"
    ENGINE_RESUME = "engine_resume"
    REQUEST_POSITION = "request_position"
    SET_INTERVAL = "set_interval"
    ARM = "arm"
    DISARM = "disarm"
    REBOOT = "reboot"
    RAW = "raw"


@dataclass(frozen=True, slots=True)
class Command:
    """What the integration asks a tracker to do; codecs turn it into bytes."""

    kind: CommandKind
    interval_s: int | None = None  # SET_INTERVAL
    text: str | None = None  # RAW: the command body (H02: "S20,1,1" …; JT/T 808: hex)


@dataclass(frozen=True, slots=True)
class EncodedCommand:
    """A command ready for the wire, with what its acknowledgement will carry."""

    command: Command
    data: bytes
    name: str  # the command word the ack names: "S20", "0x8105" …
    tag: str | None  # the time tag / serial the ack echoes, if the protocol has one
    extra: dict[str, str] = field(default_factory=dict)
