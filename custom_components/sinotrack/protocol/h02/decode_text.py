"""H02 text frames: the inside of one ``*…#`` frame in, one typed message out.

Reference: docs/protocol/h02.md §3 (grammar and types), §4 (V6/V8), §5 (status word), §7
(acknowledgements). Raises ``ProtocolError`` for what it cannot make sense of; a field that is
merely unreadable becomes None (with a reason in ``Position.warnings`` where the model has one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from ..model import (
    NO_FLAGS,
    Alarm,
    Cell,
    CellReport,
    CommandAck,
    DeviceIdentity,
    Flags,
    Heartbeat,
    Message,
    Position,
    ProtocolError,
    WifiAccessPoint,
    new_position,
)
from .fields import MAX_ID, coordinate, fix_time, hex_uint, number, sint, uint
from .values import CLASSIC, FOUR_G, HEX_DIGITS, NO_ALARMS, StatusInfo, StatusTable

PROTOCOL: Final = "h02"
KNOTS_TO_KMH: Final = 1.852
MAX_KNOTS: Final = 2000.0
FOUR_G_TYPES: Final = frozenset({"V6", "V8"})  # always read with the 4G status table (§4)

TextResult = Message | tuple[Position, ...]  # a BC batch gives several stored positions
Handler = Callable[[list[str], str, StatusTable], Message]

_DIGITS: Final = "0123456789"
_VALIDITY: Final = frozenset({"A", "V", "B", ""})


def _is6(text: str) -> bool:
    return len(text) == 6 and not text.strip(_DIGITS)


def decode_text(body: str, four_g: bool, now: Callable[[], datetime]) -> TextResult:
    """Decode the inside of one text frame (between ``*`` and ``#``).

    ``four_g``: read status words with the 4G table (the codec's dialect; V6/V8 always are).
    ``now`` is only called for BC points, whose time stamps carry no month or year.
    """
    f = body.split(",")
    if len(f) < 3:
        raise ProtocolError("text frame without a type")
    dev = f[1]
    # is_device_id, written out (every message): as sent, " 12 " is not an ID either.
    if not (0 < len(dev) <= MAX_ID and dev.isdigit() and dev.isascii()):
        raise ProtocolError("device id is not 1-20 digits")
    if " " in body:  # spaces around the other fields (§3.5): trimmed once, for every field
        f = [field.strip() for field in f]
    mtype = f[2]
    table = FOUR_G if four_g else CLASSIC
    handler = _HANDLERS.get(mtype)
    if handler is None:
        mtype = mtype.upper()
        handler = _HANDLERS.get(mtype)
    if handler is not None:
        return handler(f, dev, table)
    if 2 <= len(mtype) <= 4 and mtype[0] == "V" and mtype.isalnum() and mtype.isascii():
        return _position_block(f, 3, mtype, dev, FOUR_G if mtype in FOUR_G_TYPES else table)
    if mtype == "SMS":
        return _sms(body, dev)
    if mtype == "BC":
        return _bc(body, dev, table, now())
    raise ProtocolError("unsupported message type")


# --- the position block ------------------------------------------------------------------------


class _Tail(NamedTuple):
    """What a report decodes from the fields after its status word (V6, V8: §4)."""

    mcc: int | None = None
    mnc: int | None = None
    cells: tuple[Cell, ...] = ()
    wifi: tuple[WifiAccessPoint, ...] = ()
    satellites: int | None = None
    signal: int | None = None
    power_voltage: float | None = None
    battery_percent: int | None = None
    iccid: str | None = None
    warnings: tuple[str, ...] = ()


_NO_TAIL: Final = _Tail()


def _position_block(  # noqa: PLR0917
    f: list[str],
    i: int,
    mtype: str,
    dev: str,
    table: StatusTable,
    has_time: bool = True,
    b_valid: bool = False,
) -> Position:
    """The position block that starts at ``f[i]`` (§3.6): time, validity, latitude,
    longitude, speed, course, date, status, then the fields after it (kept raw in ``extras``;
    V6 and V8 decode theirs too)."""
    n = len(f)
    if has_time:
        time_text = f[i] if i < n else ""
        i += 1
    else:
        time_text = ""
    if i + 7 > n:
        raise ProtocolError(f"{mtype}: too few fields")
    flag, lat_text, ns, lon_text, ew, speed_text, course_text = f[i : i + 7]
    latitude = coordinate(lat_text, ns, "N", "S", 90.0)
    longitude = coordinate(lon_text, ew, "E", "W", 180.0)
    speed = number(speed_text, "speed", MAX_KNOTS) * KNOTS_TO_KMH
    course = number(course_text, "course", 360.0)

    j = i + 7  # the date
    date_text = f[j] if j < n else ""
    if 0 < len(date_text) <= 3 and not date_text.strip(_DIGITS) and j + 1 < n and _is6(f[j + 1]):
        j += 1  # an optional small integer ("battery" slot) before the date
        date_text = f[j]
    elif len(date_text) == 14 and _is6(date_text[:6]) and HEX_DIGITS.issuperset(date_text[6:]):
        f[j : j + 1] = date_text[:6], date_text[6:]  # the 4G document's missing comma (§7.2)
        n += 1
        date_text = f[j]
    when, warning = fix_time(time_text, date_text)

    k = j + 4 if mtype == "V19" else j + 1  # V19: phone, IP/short id, ICCID before the status
    info = table.text(f[k]) if k < n else None
    if info is None and k != j + 1 and j + 1 < n:
        k = j + 1
        info = table.text(f[k])
    if info is None:
        status, flags, alarms, k = None, NO_FLAGS, NO_ALARMS, j
    else:
        status, flags, alarms = info
    extras = tuple(f[k + 1 :])
    tail = _TAILS[mtype](extras) if mtype in _TAILS else _NO_TAIL
    warnings = tail.warnings if warning is None else (warning, *tail.warnings)
    return new_position(
        PROTOCOL,
        dev,
        mtype,
        when,
        flag == "A" or (b_valid and flag == "B") or (flag.isdigit() and flag.isascii()),  # valid
        latitude,
        longitude,
        speed,
        course,
        None,  # altitude_m
        status,
        flags,
        alarms,
        tail.battery_percent,
        None,  # battery_voltage
        tail.power_voltage,
        None,  # odometer_km
        tail.signal,
        tail.satellites,
        False,  # stored
        extras,
        tail.iccid,
        tail.mcc,
        tail.mnc,
        tail.cells,
        tail.wifi,
        warnings,
    )


def _without_empty_last(extras: tuple[str, ...], sizes: frozenset[int]) -> tuple[str, ...]:
    """The tail without the empty field some firmwares end it with (``…,F,#``, §4), unless
    it has one of its ``sizes`` as it is (then the last value itself is empty)."""
    if extras and not extras[-1] and len(extras) not in sizes:
        return extras[:-1]
    return extras


_V8_SIZES: Final = frozenset({8, 10, 12, 14})  # cell, 0-3 Wi-Fi pairs, four readings
_V6_SIZES: Final = frozenset({4, 5})  # cell, ICCID


def _serving_cell(
    fields: tuple[str, ...], warnings: list[str]
) -> tuple[int | None, int | None, tuple[Cell, ...]]:
    """``mcc,mnc,lac,cellid`` in decimal (§4): zeros mean unknown (no MCC/MNC, no cell)."""
    mcc, mnc = uint(fields[0], 999), uint(fields[1], 999)
    lac, cid = uint(fields[2], 0xFFFF), uint(fields[3], 0xFFFFFFFF)
    if mcc is None or mnc is None or lac is None or cid is None:
        warnings.append("unreadable serving cell")
        return None, None, ()
    cells = (Cell(lac, cid),) if lac or cid else ()
    return (mcc, mnc, cells) if mcc else (None, None, cells)


def _reading(text: str, high: int, what: str, warnings: list[str]) -> int | None:
    value = uint(text, high)
    if value is None and text:
        warnings.append(f"unreadable {what}")
    return value


def _v8_tail(extras: tuple[str, ...]) -> _Tail:
    """``mcc,mnc,lac,cellid,[bssid,rssi]x0-3,satellites,csq,voltage,battery`` (§4.2), read
    from the end: the last four fields are always satellites, CSQ, 0.1 V and percent."""
    fields = _without_empty_last(extras, _V8_SIZES)
    pairs, odd = divmod(len(fields) - 8, 2)
    if len(fields) < 8 or odd or pairs > 3:
        return _Tail(warnings=(f"V8 tail of {len(fields)} fields not understood",))
    warnings: list[str] = []
    mcc, mnc, cells = _serving_cell(fields[:4], warnings)
    wifi = []
    for k in range(4, 4 + 2 * pairs, 2):
        bssid, rssi = fields[k], uint(fields[k + 1], 255)
        if len(bssid) == 12 and HEX_DIGITS.issuperset(bssid) and rssi is not None:
            wifi.append(WifiAccessPoint(bssid, rssi))
        else:
            warnings.append("unreadable Wi-Fi access point")
    satellites, csq, decivolts, battery = fields[-4:]
    volts = _reading(decivolts, 999, "supply voltage", warnings)
    signal = uint(csq, 31)  # CSQ 0-31; 99 is the modem's own "not known"
    if signal is None and csq not in ("", "99"):
        warnings.append("unreadable signal")
    return _Tail(
        mcc=mcc,
        mnc=mnc,
        cells=cells,
        wifi=tuple(wifi),
        satellites=_reading(satellites, 99, "satellite count", warnings),
        signal=signal,
        power_voltage=None if volts is None else round(volts / 10.0, 1),
        battery_percent=_reading(battery, 100, "battery percent", warnings),
        warnings=tuple(warnings),
    )


def _v6_tail(extras: tuple[str, ...]) -> _Tail:
    """``mcc,mnc,lac,cellid,ICCID`` (§4.1): the ICCID without its ``F`` filler, 18-22 digits."""
    fields = _without_empty_last(extras, _V6_SIZES)
    if len(fields) < 4:
        return _Tail(warnings=(f"V6 tail of {len(fields)} fields not understood",))
    warnings: list[str] = []
    mcc, mnc, cells = _serving_cell(fields[:4], warnings)
    iccid = fields[4].rstrip("Ff") if len(fields) > 4 else ""
    if not (18 <= len(iccid) <= 22 and not iccid.strip(_DIGITS)):
        warnings.append("ICCID is not 18-22 digits")
        iccid = ""
    if len(fields) > 5:
        warnings.append(f"V6 tail of {len(fields)} fields not understood")
    return _Tail(mcc=mcc, mnc=mnc, cells=cells, iccid=iccid or None, warnings=tuple(warnings))


_TAILS: Final[dict[str, Callable[[tuple[str, ...]], _Tail]]] = {"V6": _v6_tail, "V8": _v8_tail}


# --- acknowledgements (§7) ----------------------------------------------------------------------

_RESULT_WORDS: Final = {"DONE": True, "OK": True, "SUCCESS": True, "ERROR": False, "FAIL": False}
# Answers that echo the command's first parameter where others put a result code: the D1
# interval (``V4,D1,30,65535,…``) and the S71 sub-command (``V4,S71,01,…``, §7.2).
_ECHOES_FIRST_PARAMETER: Final = frozenset({"D1", "S71"})


def _result(command: str, params: tuple[str, ...]) -> tuple[str | None, bool | None]:
    """The result style of §7.1: words (DONE/OK/ERROR) or a 2-hex-digit return code.

    Codes 80-FF are successes and 00-02 the documented failures (failed, unsupported, out
    of range). 03-7F are documented as failures too but cannot be told from a numeric
    parameter the device echoes, so success stays unknown.
    """
    if not params:
        return None, None
    first = params[0]
    word = first.upper()
    if word in _RESULT_WORDS:
        return first, _RESULT_WORDS[word]
    if command in _ECHOES_FIRST_PARAMETER:
        return None, None
    if len(first) == 2 and HEX_DIGITS.issuperset(first):
        code = int(first, 16)
        if code >= 0x80:
            return first, True
        return first, (False if code <= 0x02 else None)
    return None, None


def _v4(f: list[str], dev: str, table: StatusTable) -> CommandAck:
    """``V4,CMD,[params…,]cmdHHMMSS,HHMMSS,S,…`` or a short echo without a fix (§7.1)."""
    n = len(f)
    if n < 4:
        raise ProtocolError("V4 without a command")
    command = f[3].upper()
    if not (0 < len(command) <= 16 and command.isalnum() and command.isascii()):
        raise ProtocolError("V4 with a bad command word")
    position = None
    for k in range(4, n - 2):
        if _is6(f[k]) and _is6(f[k + 1]) and f[k + 2] in _VALIDITY:
            position = _position_block(f, k + 1, "V4", dev, table)
            tag: str | None = f[k]
            params = tuple(f[4:k])
            break
    else:  # short echo: the tag is the first 6-digit field, if any
        rest = f[4:]
        tag = next((x for x in rest if _is6(x)), None)
        if tag is not None:
            rest.remove(tag)
        params = tuple(rest)
    result, success = _result(command, params)
    return CommandAck(PROTOCOL, dev, command, tag, result, success, params, position)


# --- cell reports, heartbeats, text ------------------------------------------------------------


def _cell(lac: str, cid: str, rssi: str, *, hexadecimal: bool = False) -> Cell | None:
    if hexadecimal:
        lac_v, cid_v = hex_uint(lac, 0xFFFF), hex_uint(cid, 0xFFFFFFFF)
    else:
        lac_v, cid_v = uint(lac, 0xFFFF), uint(cid, 0xFFFFFFFF)
    if lac_v is None or cid_v is None:
        return None
    return Cell(lac_v, cid_v, sint(rssi, -255, 255))


_NO_STATUS: Final[tuple[None, Flags, frozenset[Alarm]]] = (None, NO_FLAGS, NO_ALARMS)


def _status(
    text: str | None, table: StatusTable
) -> StatusInfo | tuple[None, Flags, frozenset[Alarm]]:
    """The status word of a field that should hold one (None: the message has none)."""
    info = table.text(text) if text is not None else None
    return _NO_STATUS if info is None else info


def _cell_report(  # noqa: PLR0917
    dev: str,
    kind: str,
    time_text: str,
    date_text: str,
    mcc: int | None,
    mnc: int | None,
    cells: tuple[Cell, ...],
    status: str | None,
    table: StatusTable,
) -> CellReport:
    """A cell-tower report; ``status`` is the status word as sent (None: the message has none)."""
    word, flags, alarms = _status(status, table)
    when = fix_time(time_text, date_text)[0]
    return CellReport(PROTOCOL, dev, kind, when, mcc, mnc, cells, word, flags, alarms)


def _nbr(f: list[str], dev: str, table: StatusTable) -> CellReport:
    """``NBR,HHMMSS,MCC,MNC,delay,count,{lac,cid,rssi}xcount,DDMMYY,status[,n]``."""
    if len(f) < 8:
        raise ProtocolError("NBR: too few fields")
    count = uint(f[7], 64) or 0
    end = 8 + 3 * count
    if end + 1 >= len(f):
        raise ProtocolError("NBR: cell count does not match")
    cells = tuple(c for k in range(8, end, 3) if (c := _cell(f[k], f[k + 1], f[k + 2])))
    mcc, mnc = uint(f[4], 999), uint(f[5], 999)
    return _cell_report(dev, "NBR", f[3], f[end], mcc, mnc, cells, f[end + 1], table)


def _v3(f: list[str], dev: str, table: StatusTable) -> CellReport:
    """``V3,HHMMSS,MCCMNC,count,{lac,cid,rx,?}xcount,batt,n,X,DDMMYY,status``."""
    if len(f) < 6:
        raise ProtocolError("V3: too few fields")
    operator = f[4]
    count = uint(f[5], 64) or 0
    end = 6 + 4 * count
    if end + 4 >= len(f):
        raise ProtocolError("V3: cell count does not match")
    cells = tuple(c for k in range(6, end, 4) if (c := _cell(f[k], f[k + 1], f[k + 2])))
    mcc, mnc = uint(operator[:3], 999), uint(operator[3:], 999)
    return _cell_report(dev, "V3", f[3], f[end + 3], mcc, mnc, cells, f[end + 4], table)


def _base(f: list[str], dev: str, table: StatusTable) -> CellReport:
    """``BASE,HHMMSS,mcc,mnc,lac,cid,DDMMYY,status`` (decimal)."""
    if len(f) < 10:
        raise ProtocolError("BASE: too few fields")
    cell = _cell(f[6], f[7], "")
    cells = (cell,) if cell and (cell.lac or cell.cid) else ()
    mcc, mnc = uint(f[4], 999), uint(f[5], 999)
    return _cell_report(dev, "BASE", f[3], f[8], mcc, mnc, cells, f[9], table)


def _bs(f: list[str], dev: str, table: StatusTable) -> CellReport:
    """``BS,HHMMSS,mcc,mnc,{lac,cid,rssi}…,DDMMYY,status[,n]`` (hex cell ids, best effort)."""
    if len(f) < 6:
        raise ProtocolError("BS: too few fields")
    k = len(f) - 1
    while k > 6 and table.text(f[k]) is None:
        k -= 1
    end = k - 1 if k > 6 else len(f)
    cells = tuple(
        c
        for j in range(6, end - 2, 3)
        if (c := _cell(f[j], f[j + 1], f[j + 2], hexadecimal=True)) and c.cid
    )
    date_text = f[end] if end < len(f) else ""
    mcc, mnc = hex_uint(f[4], 0xFFF), hex_uint(f[5], 0xFFF)
    status = f[k] if k > 6 else None
    return _cell_report(dev, "BS", f[3], date_text, mcc, mnc, cells, status, table)


def _link(f: list[str], dev: str, table: StatusTable) -> Heartbeat:
    """``LINK,HHMMSS,rssi,satellites,battery%,steps,turnovers,DDMMYY,status``."""
    if len(f) < 11:
        raise ProtocolError("LINK: too few fields")
    status, flags, alarms = _status(f[10], table)
    return Heartbeat(
        PROTOCOL,
        dev,
        "LINK",
        device_time=fix_time(f[3], f[9])[0],
        status=status,
        flags=flags,
        alarms=alarms,
        battery_percent=uint(f[6], 100),
        signal=uint(f[4], 255),
        satellites=uint(f[5], 99),
    )


def _heartbeat(mtype: str) -> Handler:
    """``HTBT[,battery%]``, ``V0``, ``XT[,…]``."""

    def decode(f: list[str], dev: str, table: StatusTable) -> Heartbeat:
        battery = uint(f[3], 100) if mtype == "HTBT" and len(f) > 3 else None
        return Heartbeat(PROTOCOL, dev, mtype, battery_percent=battery)

    return decode


def _sms(body: str, dev: str) -> DeviceIdentity:
    """Free text (e.g. the CXZT reply); the first line names model and firmware on SinoTrack."""
    text = body.split(",", 3)[3] if body.count(",") >= 3 else ""
    first = text.split("\n", 1)[0].strip()
    model = None
    if first[:1].isalpha():
        end = 0
        while end < len(first) and first[end].isalnum():
            end += 1
        model = first[:end] if any(ch.isdigit() for ch in first[:end]) else None
    return DeviceIdentity(PROTOCOL, dev, "SMS", text=text, model=model, firmware=first or None)


_ALRM_TYPES: Final = {"1": Alarm.SOS, "2": Alarm.LOW_BATTERY, "3": Alarm.GEOFENCE}


def _alrm(f: list[str], dev: str, table: StatusTable) -> Position | Heartbeat:
    """``ALRM,type,HHMMSS,S,lat,…`` -> the fix with that alarm, or a heartbeat without one."""
    if len(f) < 4:
        raise ProtocolError("ALRM without a type")
    alarm = _ALRM_TYPES.get(f[3])
    extra = frozenset((alarm,)) if alarm else NO_ALARMS
    try:
        pos = _position_block(f, 4, "ALRM", dev, table)
    except ProtocolError:
        time_text = f[4] if len(f) > 4 else ""
        date_text = f[12] if len(f) > 12 else ""
        status, flags, alarms = _status(f[13] if len(f) > 13 else None, table)
        return Heartbeat(
            PROTOCOL,
            dev,
            "ALRM",
            device_time=fix_time(time_text, date_text)[0],
            status=status,
            flags=flags,
            alarms=alarms | extra,
        )
    return replace(pos, alarms=pos.alarms | extra) if extra else pos


def _vp1(f: list[str], dev: str, table: StatusTable) -> Position | CellReport:
    """``VP1,A|B,lat,NS,lon,EW,speed,course,DDMMYY[,status…]`` or the LBS form ``VP1,V,mcc,…``."""
    if len(f) > 6 and f[5] not in ("N", "S"):
        # LBS: V,mcc,mnc,lac,cid,rssiYlac,cid,rssiY…
        cells = []
        for group in ",".join(f[6:]).split("Y"):
            part = group.strip(",").split(",")
            if len(part) >= 2 and (
                cell := _cell(part[0], part[1], part[2] if len(part) > 2 else "")
            ):
                cells.append(cell)
        mcc, mnc = uint(f[4], 999), uint(f[5], 999)
        return _cell_report(dev, "VP1", "", "", mcc, mnc, tuple(cells), None, table)
    return _position_block(f, 3, "VP1", dev, table, has_time=False, b_valid=True)


def _bc_time(text: str, now: datetime) -> datetime | None:
    """``DDHHmmss`` of a blind-spot point: month and year are the latest that fit before now."""
    if len(text) != 8 or text.strip(_DIGITS):
        return None
    day, hour, minute, second = (int(text[k : k + 2]) for k in range(0, 8, 2))
    year, month = now.year, now.month
    for _ in range(3):
        try:
            when = datetime(year, month, day, hour, minute, second, 0, UTC)
        except ValueError:
            when = None
        if when is not None and when <= now + timedelta(days=1):
            return when
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _bc(body: str, dev: str, table: StatusTable, now: datetime) -> tuple[Position, ...]:
    """Blind-spot batch: ``BC,`` then ``S,lat,NS,lon,EW,speed,course,DDHHmmss,status,…;…``."""
    text = body.split(",", 3)[3] if body.count(",") >= 3 else ""
    points = []
    for chunk in text.split(";"):
        p = [field.strip() for field in chunk.split(",")]
        if len(p) < 8:
            continue
        try:
            latitude = coordinate(p[1], p[2], "N", "S", 90.0)
            longitude = coordinate(p[3], p[4], "E", "W", 180.0)
            speed = number(p[5], "speed", MAX_KNOTS) * KNOTS_TO_KMH
            course = number(p[6], "course", 360.0)
        except ProtocolError:
            continue
        status, flags, alarms = _status(p[8] if len(p) > 8 else None, table)
        points.append(
            Position(
                protocol=PROTOCOL,
                device_id=dev,
                message_type="BC",
                fix_time=_bc_time(p[7], now),
                valid=p[0] == "A",
                latitude=latitude,
                longitude=longitude,
                speed_kmh=speed,
                course=course,
                status=status,
                flags=flags,
                alarms=alarms,
                stored=True,  # a blind-spot batch: rare, built the plain way
                extras=tuple(p[9:]),
            )
        )
    if not points:
        raise ProtocolError("BC without a decodable point")
    return tuple(points)


def _v1(f: list[str], dev: str, table: StatusTable) -> Position:
    """The standard report (§3.1): the position block right after the type."""
    return _position_block(f, 3, "V1", dev, table)


_HANDLERS: Final[dict[str, Handler]] = {
    "V1": _v1,
    "V4": _v4,
    "V3": _v3,
    "VP1": _vp1,
    "NBR": _nbr,
    "LINK": _link,
    "BASE": _base,
    "BS": _bs,
    "ALRM": _alrm,
    "HTBT": _heartbeat("HTBT"),
    "V0": _heartbeat("V0"),
    "XT": _heartbeat("XT"),
}
