"""JT/T 808 message bodies: location reports with their additional items, session messages.

Reference: ``jt808.md`` (sections cited as §n). Pure functions over un-escaped bodies; the
framing, the session state and the replies live in ``jt808``. Every read is bounded by the
body it is given, so a short or lying body raises ``ProtocolError`` (or is kept raw), never
``IndexError``.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Final

from .fast import new_position
from .model import (
    Alarm,
    CommandAck,
    DeviceInfo,
    Flags,
    Heartbeat,
    Position,
    ProtocolError,
)

PROTOCOL: Final = "jt808"
LOCATION_BASE: Final = 28  # alarm, status, lat, lon, altitude, speed, course, BCD time (§2.2)

# BCD byte -> 0..99, or -1 when a nibble is not a decimal digit.
_BCD: Final = tuple(
    (b >> 4) * 10 + (b & 15) if (b >> 4) <= 9 and (b & 15) <= 9 else -1 for b in range(256)
)
_BASE = struct.Struct(">IIIIhHH")

# Alarm DWORD -> neutral alarms (§4: Traccar's default branch plus the suggested user alarms).
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


def bcd_digits(data: bytes) -> str | None:
    """The decimal digits of packed BCD bytes, or None if a nibble is not a digit."""
    text = data.hex()
    return text if text.isdigit() else None


def luhn(digits: str) -> int:
    """The Luhn check digit for ``digits`` (IMEIs end with one)."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def luhn_ok(digits: str) -> bool:
    return len(digits) > 1 and digits.isdigit() and luhn(digits[:-1]) == int(digits[-1])


def terminal_id(id_bytes: bytes) -> tuple[str, str]:
    """``(full, device_id)`` of a terminal-ID field.

    ``full`` is what Traccar calls the unique ID (and sends as the auth code): the 12 or 20
    digits of the BCD field. ``device_id`` drops the leading zeros, so the 2013 and 2019
    forms of one number agree ("" when the field is all zeros: the caller looks for an IMEI).
    Binary (non-BCD) 6-byte fields are the first 14 IMEI digits as a 48-bit integer; the
    Luhn digit completes the IMEI (§6). Other non-BCD fields become their decimal value.
    """
    digits = bcd_digits(id_bytes)
    if digits is None:
        value = int.from_bytes(id_bytes)
        if len(id_bytes) == 6:
            first = f"{value:014d}"
            digits = first + str(luhn(first))
        else:
            digits = str(value)
    return digits, digits.lstrip("0")


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
    """Battery, voltage and identity items (§2.5, as Traccar reads them); True if used.

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
    elif iid == 0xE4 and size >= 2:
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
    elif iid == 0xF6 and size == 8:  # all-zero-ID devices put their IMEI here (§6)
        digits = bcd_digits(value)
        if digits is None:
            return False
        _imei(digits.lstrip("0"), acc)
        return False
    elif iid == 0xF8 and size >= 19:  # type, IMEI BCD[8], ICCID BCD[10], model
        digits = bcd_digits(value[1:9])
        if digits is not None:
            _imei(digits.lstrip("0"), acc)
        acc.extra("iccid=" + value[9:19].hex())
        return False
    else:
        return False
    return True


def _imei(digits: str, acc: _Items) -> None:
    if 14 <= len(digits) <= 16:
        acc.imei = digits
        acc.extra("imei=" + digits)


def _item_eb(value: bytes, acc: _Items) -> None:
    """0xEB: a time-zone string, or sub-items {length WORD, type WORD, value} (§2.5)."""
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
            acc.extra("iccid=" + sub.hex().rstrip("f"))
        elif kind == 0x00D5 and n:
            digits = _printable(sub)
            if digits is not None and digits.isdigit():
                _imei(digits.lstrip("0"), acc)
        pos = stop


def _fixed_tail(body: bytes, pos: int) -> _Items:
    """An 18-byte vendor tail that is not ID/length items (§2.5 special case).

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
) -> tuple[Position, str | None]:
    """A 0x0200 body (also inside 0x0201/0x0704) from ``pos`` to ``end`` (§2.2).

    ``device_id`` None means the terminal ID was all zeros: an IMEI item names the device,
    else ``fallback_id``. Returns the position and the IMEI found in its items, if any.
    Items are read in place: mileage, RSSI and satellites (nearly every report) inline,
    everything else through ``_vendor_item``; an item longer than what is left is kept raw.
    """
    if end - pos < LOCATION_BASE:
        raise ProtocolError(f"location body of {end - pos} bytes, need {LOCATION_BASE}")
    alarm, status, lat, lon, altitude, speed, course = _BASE.unpack_from(body, pos)
    fix_time = bcd_time(body, pos + 22, shift)
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
        if p > end:  # the declared length runs past the body: keep what is there, raw
            acc = acc or _Items()
            acc.extra(f"0x{iid:02X}={body[start:end].hex()}")
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
        if end - items == 18:
            acc = _fixed_tail(body, items)
            odometer, signal, satellites = acc.odometer_km, acc.signal, None
        elif p < end:  # one stray byte
            acc = acc or _Items()
            acc.extra("tail=" + body[p:end].hex())
    alarms = alarms_of(alarm) if alarm else _NO_ALARMS
    battery_percent = battery_voltage = power_voltage = imei = None
    extras: tuple[str, ...] = ()
    if acc is not None:
        if acc.alarms:
            alarms = alarms | acc.alarms
        if acc.signal is not None:
            signal = acc.signal
        if acc.satellites is not None:
            satellites = acc.satellites
        battery_percent, battery_voltage = acc.battery_percent, acc.battery_voltage
        power_voltage, imei = acc.power_voltage, acc.imei
        if acc.extras:
            extras = tuple(acc.extras)
    return new_position(
        PROTOCOL,
        device_id if device_id is not None else imei or fallback_id,
        message_type,
        fix_time,
        bool(status & STATUS_FIX),
        -lat / 1e6 if status & STATUS_SOUTH else lat / 1e6,
        -lon / 1e6 if status & STATUS_WEST else lon / 1e6,
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
    ), imei


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
    """0x0100 fields; the 2011/2013 layouts differ in the model length (§1.4)."""
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


def decode_register(body: bytes, device_id: str, edition_2019: bool) -> DeviceInfo:
    """0x0100 -> DeviceInfo: model, and maker/terminal ID/plate as text."""
    f = register_fields(body, edition_2019)
    ident = str(f["terminal_id"])
    text = ", ".join(
        f"{key}={f[key]}" for key in ("maker", "terminal_id", "plate") if f[key] not in ("", 0)
    )
    return DeviceInfo(
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


def decode_attributes(body: bytes, device_id: str, edition_2019: bool) -> DeviceInfo:
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
    return DeviceInfo(
        protocol=PROTOCOL,
        device_id=device_id,
        message_type="0x0107",
        text=text or None,
        model=model or None,
        firmware=firmware or None,
        iccid=iccid if iccid.strip("0") else None,
    )


def decode_transparent(body: bytes, device_id: str) -> DeviceInfo:
    """0x0900: type BYTE + content, kept as text (printable) or hex."""
    if not body:
        raise ProtocolError("empty 0x0900 body")
    content = body[1:]
    text = _printable(content)
    shown = text if text is not None else "hex:" + content.hex()
    return DeviceInfo(
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
    "luhn",
    "other",
    "register_fields",
    "terminal_id",
]
