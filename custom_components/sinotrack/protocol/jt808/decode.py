"""JT/T 808 message bodies: location reports with their additional items, session messages.

Reference: docs/protocol/jt808.md (sections cited as §n). Pure functions over checked,
un-escaped bodies; the framing, the session state and the replies live elsewhere in this
package. Every read is bounded by the body it is given, and a body that cannot be what it
claims (coordinates off the globe, items running past the body) raises ``ProtocolError``,
never ``IndexError`` and never a position.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Final

from ..model import (
    Alarm,
    CommandAck,
    DeviceIdentity,
    Flags,
    Heartbeat,
    Position,
    ProtocolError,
)
from .identity import bcd_digits, is_digits, luhn_ok

PROTOCOL: Final = "jt808"
LOCATION_BASE: Final = 28  # alarm, status, lat, lon, altitude, speed, course, BCD time (§5)
FIXED_TAIL: Final = 18  # a vendor tail that is not ID/length items (§6)
MAX_LATITUDE: Final = 90_000_000  # degrees x 1e6; the sign is in the status word
MAX_LONGITUDE: Final = 180_000_000

# BCD byte -> 0..99, or -1 when a nibble is not a decimal digit.
_BCD: Final = tuple(
    (b >> 4) * 10 + (b & 15) if (b >> 4) <= 9 and (b & 15) <= 9 else -1 for b in range(256)
)
_BASE = struct.Struct(">IIIIhHH")

# Alarm DWORD -> neutral alarms (§5: Traccar's default branch plus the suggested user alarms).
_ALARM_BITS: Final = (
    (1 << 0, Alarm.SOS),
    (1 << 1, Alarm.OVERSPEED),
    (1 << 2, Alarm.FATIGUE),
    (1 << 4, Alarm.FAULT),  # GNSS module fault
    (1 << 5 | 1 << 6, Alarm.GPS_ANTENNA),  # antenna cut / short circuit
    (1 << 7, Alarm.LOW_BATTERY),  # main power under-voltage
    (1 << 8, Alarm.POWER_CUT),
    (0b111 << 9, Alarm.FAULT),  # LCD / TTS / camera
    (1 << 15, Alarm.VIBRATION),  # reserved in 2013, vibration on cheap trackers
    (0b11 << 16, Alarm.TAMPER),  # likewise
    (1 << 18, Alarm.LOW_BATTERY),  # likewise
    (1 << 20, Alarm.GEOFENCE),
    (1 << 27, Alarm.ILLEGAL_IGNITION),
    (1 << 28, Alarm.MOVEMENT),  # illegal displacement
    (0b11 << 29, Alarm.ACCIDENT),  # collision, rollover
    (1 << 31, Alarm.DOOR),  # illegal door opening
)
_ALARM_MASK: Final = sum({mask for mask, _ in _ALARM_BITS})
_NO_ALARMS: frozenset[Alarm] = frozenset()
_alarm_cache: dict[int, frozenset[Alarm]] = {0: _NO_ALARMS}
_CACHE_MAX: Final = 512

STATUS_ACC: Final = 1 << 0
STATUS_FIX: Final = 1 << 1
STATUS_SOUTH: Final = 1 << 2
STATUS_WEST: Final = 1 << 3
STATUS_OIL_CUT: Final = 1 << 10
STATUS_CIRCUIT_CUT: Final = 1 << 11
ALARM_POWER_CUT: Final = 1 << 8


def alarms_of(word: int) -> frozenset[Alarm]:
    """The neutral alarms of an alarm DWORD (cached: devices repeat the same few words)."""
    word &= _ALARM_MASK
    found = _alarm_cache.get(word)
    if found is None:
        found = frozenset(alarm for mask, alarm in _ALARM_BITS if word & mask)
        if len(_alarm_cache) >= _CACHE_MAX:
            _alarm_cache.clear()
            _alarm_cache[0] = _NO_ALARMS
        _alarm_cache[word] = found
    return found


def _make_flags(key: int) -> Flags:
    return Flags(
        ignition=bool(key & 1),
        external_power_cut=bool(key & 2),
        immobilizer_engaged=bool(key & 4),
    )


_FLAGS: Final = tuple(_make_flags(key) for key in range(8))


def flags_of(status: int, alarm: int) -> Flags:
    """Ignition (status bit0), immobiliser (oil bit10 or circuit bit11), power cut (alarm bit8)."""
    return _FLAGS[
        (status & STATUS_ACC)
        | (2 if alarm & ALARM_POWER_CUT else 0)
        | (4 if status & (STATUS_OIL_CUT | STATUS_CIRCUIT_CUT) else 0)
    ]


def bcd_time(data: bytes, off: int, shift: timedelta) -> datetime | None:
    """``YYMMDDhhmmss`` at ``off`` in the device's zone (``shift`` east of UTC) -> UTC."""
    bcd = _BCD
    year, month, day = bcd[data[off]], bcd[data[off + 1]], bcd[data[off + 2]]
    hour, minute, second = bcd[data[off + 3]], bcd[data[off + 4]], bcd[data[off + 5]]
    if min(year, month, day, hour, minute, second) < 0:
        return None
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=UTC) - shift
    except ValueError:  # month 0, day 31 of a short month, hour 24 …
        return None


def _text(raw: bytes) -> str:
    """A fixed-size text field: NUL padding removed; GBK (plates); hex when not text."""
    data = raw.strip(b"\x00 ")
    if not data:
        return ""
    try:
        text = data.decode("ascii") if data.isascii() else data.decode("gbk")
    except UnicodeDecodeError:
        return "hex:" + raw.hex()
    return text if text.isprintable() else "hex:" + raw.hex()


def _printable(data: bytes) -> str | None:
    """ASCII text without control characters (CR/LF/TAB trimmed at the ends), else None."""
    text = data.strip(b"\x00\r\n\t ")
    if text and text.isascii():
        decoded = text.decode("ascii")
        if decoded.isprintable():
            return decoded
    return None


def _percent(value: int) -> int | None:
    return value if value <= 100 else None  # 0xFF: charging, no level


class _Items:
    """What the additional items of one location report add to the base fields."""

    __slots__ = (
        "alarms",
        "battery_percent",
        "battery_voltage",
        "extras",
        "iccid",
        "imei",
        "odometer_km",
        "power_voltage",
        "satellites",
        "signal",
    )

    def __init__(self) -> None:
        self.odometer_km: float | None = None
        self.signal: int | None = None
        self.satellites: int | None = None
        self.battery_percent: int | None = None
        self.battery_voltage: float | None = None
        self.power_voltage: float | None = None
        self.imei: str | None = None
        self.iccid: str | None = None
        self.alarms: set[Alarm] | None = None
        self.extras: list[str] | None = None

    def extra(self, text: str) -> None:
        if self.extras is None:
            self.extras = [text]
        else:
            self.extras.append(text)

    def alarm(self, alarm: Alarm) -> None:
        if self.alarms is None:
            self.alarms = {alarm}
        else:
            self.alarms.add(alarm)


def _vendor_item(iid: int, value: bytes, acc: _Items) -> bool:
    """Battery, voltage and identity items (§6, as Traccar reads them); True if used.

    Items that carry more than what is taken from them stay in ``extras`` too.
    """
    size = len(value)
    if iid in (0x06, 0xD4, 0xE1, 0xE9) and size == 1:  # 0x06: cabin temperature in 2019 (len 2)
        acc.battery_percent = _percent(value[0])
    elif iid == 0xE1 and size == 2:
        acc.power_voltage = int.from_bytes(value) / 10
    elif iid == 0x56 and size >= 1:
        acc.battery_percent = _percent(value[0] * 10)
    elif iid == 0x68 and size == 2:
        acc.battery_percent = _percent(int.from_bytes(value) // 100)
    elif iid in (0x69, 0xD5) and size == 2:
        acc.battery_voltage = int.from_bytes(value) / 100
    elif iid == 0xE3 and size >= 4:
        acc.battery_percent = _percent(value[1])
        acc.battery_voltage = int.from_bytes(value[2:4]) / 100
    elif iid == 0xE4 and size == 2:  # charging flag, battery %
        acc.battery_percent = _percent(value[1])
    elif iid == 0xF7 and size >= 4:
        acc.battery_voltage = int.from_bytes(value[:4]) / 1000
        if size >= 6:
            acc.battery_percent = _percent(value[5])
    elif iid in (0x82, 0xD3) and size == 2:
        acc.power_voltage = int.from_bytes(value) / 10
    elif iid == 0xF1 and size == 4:
        acc.power_voltage = int.from_bytes(value) / 1000
    elif iid == 0xFE and size == 1:
        acc.battery_percent = _percent(value[0])
    elif iid == 0xFE and size == 2:
        acc.power_voltage = int.from_bytes(value) / 10
    elif iid == 0xEE and size == 6:
        acc.signal = value[0]
        acc.power_voltage = int.from_bytes(value[1:3]) / 1000
        acc.battery_voltage = int.from_bytes(value[3:5]) / 1000
        acc.satellites = value[5]
    elif iid == 0xEB:
        _item_eb(value, acc)
        return False
    elif iid == 0xF6 and size == 8:  # all-zero-ID devices put their IMEI here (§4)
        digits = bcd_digits(value)
        if digits is None:
            return False
        _imei(digits.lstrip("0"), acc)
        return False
    elif iid == 0xF8 and size >= 19:  # type, IMEI BCD[8], ICCID BCD[10], model
        digits = bcd_digits(value[1:9])
        if digits is not None:
            _imei(digits.lstrip("0"), acc)
        _iccid(value[9:19].hex(), acc)
        return False
    else:
        return False
    return True


def _imei(digits: str, acc: _Items) -> None:
    if 14 <= len(digits) <= 16 and is_digits(digits):
        acc.imei = digits
        acc.extra("imei=" + digits)


def _iccid(hex_digits: str, acc: _Items) -> None:
    """A BCD ICCID, ``f``-padded; kept as hex digits (some Chinese ICCIDs have an ``a``)."""
    iccid = hex_digits.rstrip("f")
    if iccid.strip("0"):
        acc.iccid = iccid


def _item_eb(value: bytes, acc: _Items) -> None:
    """0xEB: a time-zone string, or sub-items {length WORD, type WORD, value} (§6)."""
    text = _printable(value)
    if text is not None:
        acc.extra("timezone=" + text)
        return
    pos, end = 0, len(value)
    while pos + 4 <= end:
        size = int.from_bytes(value[pos : pos + 2])
        kind = int.from_bytes(value[pos + 2 : pos + 4])
        start, stop = pos + 4, pos + 2 + size
        if size < 2 or stop > end:
            return  # not sub-items after all (cells, a foreign layout): stays raw
        sub = value[start:stop]
        n = len(sub)
        if kind == 0x002D and n == 2:
            acc.battery_voltage = int.from_bytes(sub) / 1000
        elif kind == 0x002D and n == 4:
            acc.power_voltage = int.from_bytes(sub) / 1000
        elif kind == 0x00CE and n == 2:
            acc.power_voltage = int.from_bytes(sub) / 100
        elif kind in (0x00A8, 0x00E1) and n == 1:
            acc.battery_percent = _percent(sub[0])
        elif kind == 0x0089 and n == 4:  # active-low status bits
            word = int.from_bytes(sub)
            if not word & 1:
                acc.alarm(Alarm.POWER_CUT)
            if not word & (1 << 12):
                acc.alarm(Alarm.TAMPER)  # "removing": taken off the vehicle
        elif kind == 0x00C5 and n == 4 and not int.from_bytes(sub) & (1 << 6):
            acc.alarm(Alarm.VIBRATION)
        elif kind == 0x00B2 and n:
            _iccid(sub.hex(), acc)
        elif kind == 0x00D5 and n:
            digits = _printable(sub)
            if digits is not None:
                _imei(digits.lstrip("0"), acc)
        pos = stop


def _fixed_tail(body: bytes, pos: int) -> _Items:
    """An 18-byte vendor tail that is not ID/length items (§6, the special case).

    Skip 4, odometer DWORD km, battery WORD 0.1 V, area DWORD, RSSI BYTE, 3 reserved.
    """
    acc = _Items()
    acc.odometer_km = float(int.from_bytes(body[pos + 4 : pos + 8]))
    acc.battery_voltage = int.from_bytes(body[pos + 8 : pos + 10]) / 10
    acc.signal = body[pos + 14]
    acc.extra("tail=" + body[pos : pos + 18].hex())
    return acc


def decode_location(  # noqa: PLR0917 - positional: the hot path
    body: bytes,
    pos: int,
    end: int,
    device_id: str | None,
    fallback_id: str,
    message_type: str,
    shift: timedelta,
    stored: bool = False,
    warnings: tuple[str, ...] = (),
) -> tuple[Position, str | None]:
    """A 0x0200 body (also inside 0x0201/0x0704) from ``pos`` to ``end`` (§5, §6).

    ``device_id`` None means the terminal ID was all zeros: an IMEI item names the device,
    else ``fallback_id``. Returns the position and the IMEI found in its items, if any.
    Items are read in place: mileage, RSSI and satellites (nearly every report) inline,
    everything else through ``_vendor_item``. ``ProtocolError`` for a latitude beyond 90° or
    a longitude beyond 180°, and for items that do not end exactly at the end of the body
    (unless that is the 18-byte vendor tail). An impossible fix time is None, with the reason
    added to ``warnings``.
    """
    if end - pos < LOCATION_BASE:
        raise ProtocolError(f"location body of {end - pos} bytes, need {LOCATION_BASE}")
    alarm, status, lat, lon, altitude, speed, course = _BASE.unpack_from(body, pos)
    if lat > MAX_LATITUDE or lon > MAX_LONGITUDE:
        raise ProtocolError(f"impossible coordinates {lat / 1e6:.6f}, {lon / 1e6:.6f}")
    fix_time = bcd_time(body, pos + 22, shift)
    if fix_time is None:
        warnings = (*warnings, f"impossible fix time {body[pos + 22 : pos + 28].hex()}")
    odometer: float | None = None
    signal: int | None = None
    satellites: int | None = None
    acc: _Items | None = None
    items = p = pos + LOCATION_BASE
    while p + 2 <= end:
        iid = body[p]
        size = body[p + 1]
        start = p + 2
        p = start + size
        if p > end:  # the declared length runs past the body
            break
        if iid == 0x01 and size == 4:
            odometer = int.from_bytes(body[start:p]) / 10
        elif iid == 0x30 and size == 1:
            signal = body[start]
        elif iid == 0x31 and size == 1:
            satellites = body[start]
        else:
            acc = acc or _Items()
            if not _vendor_item(iid, body[start:p], acc):
                acc.extra(f"0x{iid:02X}={body[start:p].hex()}")
    if p != end and items < end:  # items that do not fit exactly
        if end - items != FIXED_TAIL:
            raise ProtocolError(f"additional items run past the body ({end - items} bytes)")
        acc = _fixed_tail(body, items)
        odometer, signal, satellites = acc.odometer_km, acc.signal, None
    alarms = alarms_of(alarm) if alarm else _NO_ALARMS
    battery_percent = battery_voltage = power_voltage = imei = iccid = None
    extras: tuple[str, ...] = ()
    if acc is not None:
        if acc.alarms:
            alarms = alarms | acc.alarms
        if acc.signal is not None:
            signal = acc.signal
        if acc.satellites is not None:
            satellites = acc.satellites
        battery_percent, battery_voltage = acc.battery_percent, acc.battery_voltage
        power_voltage, imei, iccid = acc.power_voltage, acc.imei, acc.iccid
        if acc.extras:
            extras = tuple(acc.extras)
    latitude = round(lat / 1e6, 6)  # the protocol's precision: no float noise downstream
    longitude = round(lon / 1e6, 6)
    position = Position(  # positional in model.Position's field order: the hot path
        PROTOCOL,
        device_id if device_id is not None else imei or fallback_id,
        message_type,
        fix_time,
        bool(status & STATUS_FIX),
        -latitude if status & STATUS_SOUTH else latitude,
        -longitude if status & STATUS_WEST else longitude,
        speed / 10,
        float(course),
        float(altitude),
        status,
        flags_of(status, alarm),
        alarms,
        battery_percent,
        battery_voltage,
        power_voltage,
        odometer,
        signal,
        satellites,
        stored,
        extras,
        iccid=iccid,
        warnings=warnings,
    )
    return position, imei


# --- session and identity messages -------------------------------------------------------


def decode_general_response(body: bytes, device_id: str) -> CommandAck:
    """0x0001: the terminal's answer to a platform message (reply serial, ID, result)."""
    if len(body) < 5:
        raise ProtocolError(f"0x0001 body of {len(body)} bytes, need 5")
    serial, answered, result = struct.unpack_from(">HHB", body)
    return CommandAck(
        protocol=PROTOCOL,
        device_id=device_id,
        command=f"0x{answered:04X}",
        tag=str(serial),
        result=str(result),
        success=result == 0,
    )


def decode_parameters(body: bytes, device_id: str) -> CommandAck:
    """0x0104: parameters answering a 0x8104 query, as ``0xID=hex`` params."""
    if len(body) < 3:
        raise ProtocolError(f"0x0104 body of {len(body)} bytes, need 3")
    serial = int.from_bytes(body[:2])
    params: list[str] = []
    pos, end = 3, len(body)
    for _ in range(body[2]):
        if pos + 5 > end:
            break
        pid, size = struct.unpack_from(">IB", body, pos)
        value = body[pos + 5 : pos + 5 + size]
        pos += 5 + size
        params.append(f"0x{pid:04X}={value.hex()}")
    return CommandAck(
        protocol=PROTOCOL,
        device_id=device_id,
        command="0x8104",
        tag=str(serial),
        result="0",
        success=True,
        params=tuple(params),
    )


def decode_heartbeat(body: bytes, device_id: str, message_type: str) -> Heartbeat:
    """0x0002 (vendor bodies of 2-3 bytes: battery %, RSSI, status) or 0x0003 logout."""
    battery = signal = None
    if message_type == "0x0002" and 2 <= len(body) <= 3:
        battery, signal = _percent(body[0]), body[1]
    return Heartbeat(
        protocol=PROTOCOL,
        device_id=device_id,
        message_type=message_type,
        battery_percent=battery,
        signal=signal,
    )


def register_fields(body: bytes, edition_2019: bool) -> dict[str, str | int]:
    """0x0100 fields; the 2011/2013 layouts differ in the model length (§7)."""
    if edition_2019:
        sizes = (11, 30, 30)
    elif len(body) >= 37:
        sizes = (5, 20, 7)
    else:
        sizes = (5, 8, 7)
    maker_len, model_len, id_len = sizes
    need = 4 + maker_len + model_len + id_len
    if len(body) < need:
        raise ProtocolError(f"0x0100 body of {len(body)} bytes, need {need}")
    province, city = struct.unpack_from(">HH", body)
    pos = 4
    maker = _text(body[pos : pos + maker_len])
    pos += maker_len
    model = _text(body[pos : pos + model_len])
    pos += model_len
    ident = _text(body[pos : pos + id_len])
    pos += id_len
    colour = body[pos] if pos < len(body) else 0
    plate = _text(body[pos + 1 :]) if pos + 1 < len(body) else ""
    return {
        "province": province,
        "city": city,
        "maker": maker,
        "model": model,
        "terminal_id": ident,
        "plate_colour": colour,
        "plate": plate,
    }


def decode_register(body: bytes, device_id: str, edition_2019: bool) -> DeviceIdentity:
    """0x0100 -> DeviceIdentity: model, and maker/terminal ID/plate as text."""
    f = register_fields(body, edition_2019)
    ident = str(f["terminal_id"])
    text = ", ".join(
        f"{key}={f[key]}" for key in ("maker", "terminal_id", "plate") if f[key] not in ("", 0)
    )
    return DeviceIdentity(
        protocol=PROTOCOL,
        device_id=device_id,
        message_type="0x0100",
        text=text or None,
        model=str(f["model"]) or None,
        imei=ident if len(ident) == 15 and luhn_ok(ident) else None,
    )


def auth_fields(body: bytes, edition_2019: bool) -> tuple[str, str | None, str | None]:
    """0x0102 ``(code, imei, firmware)``; 2019 adds length-prefixed code, IMEI, version."""
    if edition_2019 and body and len(body) >= 1 + body[0] + 15:
        size = body[0]
        code = _text(body[1 : 1 + size])
        imei = _text(body[1 + size : 16 + size]) or None
        firmware = _text(body[16 + size : 36 + size]) or None
        return code, imei, firmware
    return _text(body), None, None


def decode_attributes(body: bytes, device_id: str, edition_2019: bool) -> DeviceIdentity:
    """0x0107 terminal attributes -> model, firmware, ICCID (maker/hardware as text)."""
    maker_len, model_len, id_len = (11, 30, 30) if edition_2019 else (5, 20, 7)
    pos = 2
    need = pos + maker_len + model_len + id_len + 10
    if len(body) < need:
        raise ProtocolError(f"0x0107 body of {len(body)} bytes, need {need}")
    maker = _text(body[pos : pos + maker_len])
    pos += maker_len
    model = _text(body[pos : pos + model_len])
    pos += model_len + id_len
    iccid = body[pos : pos + 10].hex().rstrip("f")
    pos += 10
    hardware = firmware = ""
    if pos < len(body):
        size = body[pos]
        hardware = _text(body[pos + 1 : pos + 1 + size])
        pos += 1 + size
    if pos < len(body):
        size = body[pos]
        firmware = _text(body[pos + 1 : pos + 1 + size])
    text = ", ".join(f"{k}={v}" for k, v in (("maker", maker), ("hardware", hardware)) if v)
    return DeviceIdentity(
        protocol=PROTOCOL,
        device_id=device_id,
        message_type="0x0107",
        text=text or None,
        model=model or None,
        firmware=firmware or None,
        iccid=iccid if iccid.strip("0") else None,
    )


def decode_transparent(body: bytes, device_id: str) -> DeviceIdentity:
    """0x0900: type BYTE + content, kept as text (printable) or hex."""
    if not body:
        raise ProtocolError("empty 0x0900 body")
    content = body[1:]
    text = _printable(content)
    shown = text if text is not None else "hex:" + content.hex()
    return DeviceIdentity(
        protocol=PROTOCOL,
        device_id=device_id,
        message_type="0x0900",
        text=f"type=0x{body[0]:02X}, {shown}",
    )


def other(device_id: str, message_type: str) -> Heartbeat:
    """Any other message: proof of life, nothing more."""
    return Heartbeat(protocol=PROTOCOL, device_id=device_id, message_type=message_type)


__all__ = [
    "LOCATION_BASE",
    "PROTOCOL",
    "alarms_of",
    "auth_fields",
    "bcd_time",
    "decode_attributes",
    "decode_general_response",
    "decode_heartbeat",
    "decode_location",
    "decode_parameters",
    "decode_register",
    "decode_transparent",
    "flags_of",
    "other",
    "register_fields",
]
