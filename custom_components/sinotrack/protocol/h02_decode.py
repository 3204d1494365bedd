"""H02 message decoding: one complete frame in, typed messages out (h02.md §3-§5).

Framing, replies and commands live in ``h02.py``; this module only turns the bytes of one
frame into model objects and raises ``ProtocolError`` for anything it cannot make sense of.
This is the general path, with a reason for every rejection; the usual V1 and binary reports
take the flat fast paths of ``h02_fast`` first, which hand back to this module whatever they do
not recognise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from .h02_fast import KNOTS_TO_KMH, PROTOCOL, fix_fast, h02_extras, h02_position
from .h02_values import (
    DATES,
    HEX_DIGITS,
    NO_ALARMS,
    STATUS_BY_INT,
    battery_percent,
    parse_date,
    status_info,
    text_status,
)
from .model import (
    NO_FLAGS,
    Alarm,
    Cell,
    CellReport,
    CommandAck,
    DeviceInfo,
    Flags,
    Heartbeat,
    Message,
    Position,
    ProtocolError,
)

# --- field helpers ------------------------------------------------------------------------------


def _is6(text: str) -> bool:
    return len(text) == 6 and text.isdigit()


def _coord(value: str, hemi: str, positive: str, negative: str, limit: float) -> float:
    """Degrees from any §3.4 shape: ``DDMM.MMMM``, short degrees, no dot, ``-DD-MM.MMMM``."""
    if hemi == positive:
        sign = 1.0
    elif hemi == negative:
        sign = -1.0
    else:
        raise ProtocolError(f"bad hemisphere {hemi[:8]!r}")
    if value[:1] == "-":  # "dash" form: -DD-MM.MMMM (the hemisphere still decides the sign)
        dash = value.find("-", 1)
        deg_text, min_text = value[1:dash], value[dash + 1 :]
        if dash < 2 or not deg_text.isdigit() or not min_text.replace(".", "", 1).isdigit():
            raise ProtocolError(f"bad coordinate {value[:16]!r}")
        degrees = float(deg_text)
        minutes = float(min_text)
    else:
        if not value.replace(".", "", 1).isdigit():
            raise ProtocolError(f"bad coordinate {value[:16]!r}")
        # Two digits before the dot (or the 6th-to-last digit without a dot) start the minutes.
        raw = float(value) if "." in value else float(value) / 10000.0
        degrees = raw // 100.0
        minutes = raw - degrees * 100.0
    result = degrees + minutes / 60.0
    if minutes >= 60.0 or result > limit:  # also the 9999.9999 no-fix filler
        raise ProtocolError(f"coordinate out of range {value[:16]!r}")
    return sign * result


def _number(text: str, what: str, limit: float) -> float:
    """A speed or course: empty means 0, spaces are tolerated, junk and nonsense are errors."""
    try:
        value = float(text)
    except ValueError:
        if text.strip():
            raise ProtocolError(f"bad {what} {text[:16]!r}") from None
        return 0.0
    if not 0.0 <= value <= limit:  # also NaN and infinities
        raise ProtocolError(f"{what} out of range {text[:16]!r}")
    return value


def _time_date(time_text: str, date_text: str) -> datetime | None:
    """UTC from ``HHMMSS`` + ``DDMMYY``: no date -> None, no time -> midnight, junk -> None."""
    if len(date_text) != 6 or not date_text.isdigit():
        return None
    if time_text:
        if len(time_text) < 6 or not time_text[:6].isdigit():
            return None
        hhmmss = int(time_text[:6])
    else:
        hhmmss = 0
    ddmmyy = int(date_text)
    day, rest = divmod(ddmmyy, 10000)
    month, year = divmod(rest, 100)
    hour, rest = divmod(hhmmss, 10000)
    minute, second = divmod(rest, 100)
    try:
        return datetime(2000 + year, month, day, hour, minute, second, 0, UTC)
    except ValueError:
        return None


def _int_or_none(text: str, base: int = 10) -> int | None:
    try:
        return int(text, base)
    except ValueError:
        return None


def _strip_all(items: list[str]) -> tuple[str, ...]:
    return tuple(map(str.strip, items))


# --- text messages ------------------------------------------------------------------------------


def fix_block(  # noqa: PLR0917
    f: list[str],
    i: int,
    mtype: str,
    dev: str,
    spaced: bool = True,
    has_time: bool = True,
    b_valid: bool = False,
) -> Position:
    """The position block that starts at ``f[i]`` (h02.md §3.7 steps 4-7).

    The general (slower) path behind ``fix_fast``: every shape and slot of §3.4/§3.7, with
    a reason for every rejection. ``spaced``: the frame contains spaces to trim.
    """
    n = len(f)
    try:
        if has_time:
            time_text = f[i]
            i += 1
        else:
            time_text = ""
        flag, lat_text, ns, lon_text, ew, speed_text, course_text = f[i : i + 7]
    except (ValueError, IndexError):
        raise ProtocolError(f"{mtype}: too few fields") from None
    valid = flag == "A" or (b_valid and flag == "B") or flag.isdigit()

    lat = _coord(lat_text, ns, "N", "S", 90.0)
    lon = _coord(lon_text, ew, "E", "W", 180.0)
    try:
        speed = float(speed_text)
        if not 0.0 <= speed <= 2000.0:
            raise ProtocolError(f"speed out of range {speed_text[:16]!r}")
    except ValueError:
        speed = _number(speed_text, "speed", 2000.0)
    try:
        course = float(course_text)
        if not 0.0 <= course <= 360.0:
            raise ProtocolError(f"course out of range {course_text[:16]!r}")
    except ValueError:
        course = _number(course_text, "course", 360.0)

    j = i + 7  # the date slot
    date_text = f[j] if j < n else ""
    if 0 < len(date_text) <= 3 and date_text.isdigit() and j + 1 < n and _is6(f[j + 1]):
        j += 1  # an optional small integer ("battery" slot) before the date
        date_text = f[j]
    ymd = DATES.get(date_text) or parse_date(date_text)
    fix_time = None
    if ymd is not None:
        if len(time_text) == 6 and time_text.isdigit():
            hour, rest = divmod(int(time_text), 10000)
            minute, second = divmod(rest, 100)
            try:
                fix_time = datetime(ymd[0], ymd[1], ymd[2], hour, minute, second, 0, UTC)
            except ValueError:
                fix_time = None
        else:
            fix_time = _time_date(time_text, date_text)

    k = j + 4 if mtype == "V19" else j + 1  # V19: phone, IP/short id, ICCID before the status
    info = text_status(f[k]) if k < n else None
    if info is None and k != j + 1 and j + 1 < n:
        k = j + 1
        info = text_status(f[k])
    if info is not None:
        status, flags, alarms = info
    else:
        status, flags, alarms, k = None, NO_FLAGS, NO_ALARMS, j
    k += 1
    return h02_position(
        dev,
        mtype,
        fix_time,
        valid,
        lat,
        lon,
        speed * KNOTS_TO_KMH,
        course,
        status,
        flags,
        alarms,
        None,
        False,
        h02_extras(f, k, spaced),
    )


_RESULT_WORDS = {"DONE": True, "OK": True, "SUCCESS": True, "ERROR": False, "FAIL": False}


def _result(params: tuple[str, ...]) -> tuple[str | None, bool | None]:
    """The result style of §3.3: words (DONE/OK/ERROR) or a 2-hex-digit return code.

    Codes 80-FF are successes and 00-02 the documented failures (failed, unsupported, out
    of range). 03-7F are documented as failures too but cannot be told from a numeric
    parameter the device echoes (``V4,D1,60,…``, ``V4,S71,22,…``), so success stays unknown.
    """
    if not params:
        return None, None
    first = params[0]
    word = first.upper()
    if word in _RESULT_WORDS:
        return first, _RESULT_WORDS[word]
    if len(first) == 2 and HEX_DIGITS.issuperset(first):
        code = int(first, 16)
        if code >= 0x80:
            return first, True
        return first, (False if code <= 0x02 else None)
    return None, None


def _v4(f: list[str], dev: str) -> CommandAck:
    """``V4,CMD,[params…,]cmdHHMMSS,HHMMSS,S,…`` or a short echo without a fix (§3.3)."""
    n = len(f)
    if n < 4:
        raise ProtocolError("V4 without a command")
    command = f[3].strip().upper()
    position = None
    for k in range(4, n - 2):
        if _is6(f[k]) and _is6(f[k + 1]) and f[k + 2] in ("A", "V", "B", ""):
            position = fix_block(f, k + 1, "V4", dev)
            tag: str | None = f[k]
            params = tuple(f[4:k])
            break
    else:  # short echo: the tag is the first 6-digit field, if any
        rest = f[4:]
        tag = next((x for x in rest if _is6(x)), None)
        if tag is not None:
            rest.remove(tag)
        params = tuple(rest)
    result, success = _result(params)
    return CommandAck(PROTOCOL, dev, command, tag, result, success, params, position)


def _cell(lac: str, cid: str, rssi: str, base: int = 10) -> Cell | None:
    lac_v, cid_v = _int_or_none(lac, base), _int_or_none(cid, base)
    if lac_v is None or cid_v is None:
        return None
    return Cell(lac_v, cid_v, _int_or_none(rssi))


def _status_fields(text: str) -> tuple[int | None, Flags, frozenset[Alarm]]:
    info = text_status(text)
    return info if info is not None else (None, NO_FLAGS, NO_ALARMS)


def _cell_report(
    dev: str,
    kind: str,
    when: datetime | None,
    *,
    mcc: int | None,
    mnc: int | None,
    cells: tuple[Cell, ...],
    status: str | None,
) -> CellReport:
    """A cell-tower report; ``status`` is the status word as sent (None: the message has none)."""
    word, flags, alarms = (
        _status_fields(status) if status is not None else (None, NO_FLAGS, NO_ALARMS)
    )
    return CellReport(PROTOCOL, dev, kind, when, mcc, mnc, cells, word, flags, alarms)


def _nbr(f: list[str], dev: str) -> CellReport:
    """``NBR,HHMMSS,MCC,MNC,delay,count,{lac,cid,rssi}xcount,DDMMYY,status[,n]``."""
    if len(f) < 8:
        raise ProtocolError("NBR: too few fields")
    count = _int_or_none(f[7]) or 0
    end = 8 + 3 * count
    if count < 0 or end + 1 >= len(f):
        raise ProtocolError("NBR: cell count does not match")
    cells = tuple(c for k in range(8, end, 3) if (c := _cell(f[k], f[k + 1], f[k + 2])))
    when = _time_date(f[3], f[end])
    mcc, mnc = _int_or_none(f[4]), _int_or_none(f[5])
    return _cell_report(dev, "NBR", when, mcc=mcc, mnc=mnc, cells=cells, status=f[end + 1])


def _v3(f: list[str], dev: str) -> CellReport:
    """``V3,HHMMSS,MCCMNC,count,{lac,cid,rx,?}xcount,batt,n,X,DDMMYY,status``."""
    if len(f) < 6:
        raise ProtocolError("V3: too few fields")
    operator = f[4]
    count = _int_or_none(f[5]) or 0
    end = 6 + 4 * count
    if count < 0 or end + 4 >= len(f):
        raise ProtocolError("V3: cell count does not match")
    cells = tuple(c for k in range(6, end, 4) if (c := _cell(f[k], f[k + 1], f[k + 2])))
    when = _time_date(f[3], f[end + 3])
    mcc, mnc = _int_or_none(operator[:3]), _int_or_none(operator[3:])
    return _cell_report(dev, "V3", when, mcc=mcc, mnc=mnc, cells=cells, status=f[end + 4])


def _base(f: list[str], dev: str) -> CellReport:
    """``BASE,HHMMSS,mcc,mnc,lac,cid,DDMMYY,status`` (decimal)."""
    if len(f) < 10:
        raise ProtocolError("BASE: too few fields")
    cell = _cell(f[6], f[7], "")
    cells = (cell,) if cell and (cell.lac or cell.cid) else ()
    when = _time_date(f[3], f[8])
    mcc, mnc = _int_or_none(f[4]), _int_or_none(f[5])
    return _cell_report(dev, "BASE", when, mcc=mcc, mnc=mnc, cells=cells, status=f[9])


def _bs(f: list[str], dev: str) -> CellReport:
    """``BS,HHMMSS,mcc,mnc,{lac,cid,rssi}…,DDMMYY,status[,n]`` (hex cell ids, best effort)."""
    if len(f) < 6:
        raise ProtocolError("BS: too few fields")
    k = len(f) - 1
    while k > 6 and text_status(f[k]) is None:
        k -= 1
    end = k - 1 if k > 6 else len(f)
    cells = tuple(
        c for j in range(6, end - 2, 3) if (c := _cell(f[j], f[j + 1], f[j + 2], 16)) and c.cid
    )
    when = _time_date(f[3], f[end]) if end < len(f) else None
    mcc, mnc = _int_or_none(f[4], 16), _int_or_none(f[5], 16)
    return _cell_report(
        dev, "BS", when, mcc=mcc, mnc=mnc, cells=cells, status=f[k] if k > 6 else None
    )


def _link(f: list[str], dev: str) -> Heartbeat:
    """``LINK,HHMMSS,rssi,satellites,battery%,steps,turnovers,DDMMYY,status``."""
    if len(f) < 11:
        raise ProtocolError("LINK: too few fields")
    status, flags, alarms = _status_fields(f[10])
    return Heartbeat(
        PROTOCOL,
        dev,
        "LINK",
        device_time=_time_date(f[3], f[9]),
        status=status,
        flags=flags,
        alarms=alarms,
        battery_percent=_int_or_none(f[6]),
        signal=_int_or_none(f[4]),
        satellites=_int_or_none(f[5]),
    )


def _heartbeat(f: list[str], dev: str, mtype: str) -> Heartbeat:
    """``HTBT[,battery%]``, ``V0``, ``XT[,…]``."""
    battery = _int_or_none(f[3]) if mtype == "HTBT" and len(f) > 3 else None
    return Heartbeat(PROTOCOL, dev, mtype, battery_percent=battery)


def _sms(text: str, dev: str) -> DeviceInfo:
    """Free text (e.g. the CXZT reply); the first line names model and firmware on SinoTrack."""
    body = text.split(",", 3)[3] if text.count(",") >= 3 else ""
    first = body.split("\n", 1)[0].strip()
    model = None
    if first[:1].isalpha():
        end = 0
        while end < len(first) and first[end].isalnum():
            end += 1
        model = first[:end] if any(ch.isdigit() for ch in first[:end]) else None
    return DeviceInfo(PROTOCOL, dev, "SMS", text=body, model=model, firmware=first or None)


_ALRM_TYPES = {"1": Alarm.SOS, "2": Alarm.LOW_BATTERY, "3": Alarm.GEOFENCE}


def _alrm(f: list[str], dev: str) -> Position | Heartbeat:
    """``ALRM,type,HHMMSS,S,lat,…`` -> the fix with that alarm, or a heartbeat without one."""
    if len(f) < 4:
        raise ProtocolError("ALRM without a type")
    alarm = _ALRM_TYPES.get(f[3].strip())
    extra = frozenset((alarm,)) if alarm else NO_ALARMS
    try:
        pos = fix_block(f, 4, "ALRM", dev)
    except ProtocolError:
        time_text = f[4] if len(f) > 4 else ""
        date_text = f[12] if len(f) > 12 else ""
        status, flags, alarms = _status_fields(f[13] if len(f) > 13 else "")
        return Heartbeat(
            PROTOCOL,
            dev,
            "ALRM",
            device_time=_time_date(time_text, date_text),
            status=status,
            flags=flags,
            alarms=alarms | extra,
        )
    return replace(pos, alarms=pos.alarms | extra)


def _bc_time(text: str, now: datetime) -> datetime | None:
    """``DDHHmmss`` of a blind-spot point: month and year are the latest that fit before now."""
    if len(text) != 8 or not text.isdigit():
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


def _bc(text: str, dev: str, now: datetime) -> tuple[Position, ...]:
    """Blind-spot batch: ``BC,`` then ``S,lat,NS,lon,EW,speed,course,DDHHmmss,status,…;…``."""
    body = text.split(",", 3)[3] if text.count(",") >= 3 else ""
    points = []
    for chunk in body.split(";"):
        p = chunk.strip().split(",")
        if len(p) < 8:
            continue
        try:
            lat = _coord(p[1], p[2], "N", "S", 90.0)
            lon = _coord(p[3], p[4], "E", "W", 180.0)
            speed = _number(p[5], "speed", 2000.0) * KNOTS_TO_KMH
            course = _number(p[6], "course", 360.0)
        except ProtocolError:
            continue
        status, flags, alarms = _status_fields(p[8] if len(p) > 8 else "")
        points.append(
            h02_position(
                dev,
                "BC",
                _bc_time(p[7], now),
                p[0] == "A",
                lat,
                lon,
                speed,
                course,
                status,
                flags,
                alarms,
                None,
                True,
                _strip_all(p[9:]),
            )
        )
    if not points:
        raise ProtocolError("BC without a decodable point")
    return tuple(points)


def _vp1(f: list[str], dev: str) -> Position | CellReport:
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
        mcc, mnc = _int_or_none(f[4]), _int_or_none(f[5])
        return _cell_report(dev, "VP1", None, mcc=mcc, mnc=mnc, cells=tuple(cells), status=None)
    return fix_block(f, 3, "VP1", dev, has_time=False, b_valid=True)


TextResult = Message | tuple[Position, ...]


def decode_fields(f: list[str], body: str, now: Callable[[], datetime]) -> TextResult:
    """Decode a text frame split on commas (``body`` is the frame between ``*`` and ``#``).

    BC batches give a tuple of stored positions. ``now`` is only called for BC points,
    whose time stamps carry no month or year.
    """
    if len(f) < 3:
        raise ProtocolError("text frame without a type")
    mtype = f[2]
    handler = _HANDLERS.get(mtype)
    if handler is None:
        mtype = mtype.strip().upper()
        handler = _HANDLERS.get(mtype)
        if handler is None:
            if mtype[:1] == "V" and mtype[1:].isalnum():
                if mtype != "V19" and (pos := fix_fast(f, mtype, body)):
                    return pos
                return fix_block(f, 3, mtype, f[1], " " in body)
            if mtype == "SMS":
                return _sms(body, f[1])
            if mtype == "BC":
                return _bc(body, f[1], now())
            raise ProtocolError(f"unsupported message type {mtype[:8]!r}")
    return handler(f, f[1])


def decode_text(body: str, now: Callable[[], datetime]) -> TextResult:
    """Decode the inside of one text frame (between ``*`` and ``#``) into a message."""
    f = body.split(",")
    if len(f) > 2 and f[2] == "V1":  # nearly every report
        return fix_fast(f, "V1", body) or fix_block(f, 3, "V1", f[1], " " in body)
    return decode_fields(f, body, now)


_HANDLERS: dict[str, Callable[[list[str], str], Message]] = {
    "V4": _v4,
    "V3": _v3,
    "VP1": _vp1,
    "NBR": _nbr,
    "LINK": _link,
    "BASE": _base,
    "BS": _bs,
    "ALRM": _alrm,
    "HTBT": lambda f, dev: _heartbeat(f, dev, "HTBT"),
    "V0": lambda f, dev: _heartbeat(f, dev, "V0"),
    "XT": lambda f, dev: _heartbeat(f, dev, "XT"),
}


# --- binary frames ----------------------------------------------------------------------------


def _binary_layout(frame: bytes, h: str, o: int) -> Position | None:
    """Decode with the ID ``o`` bytes longer than 5 (0 or 3); None if the fields do not fit."""
    x = 2 * o
    head = h[12 + x : 32 + x]  # time, date, latitude
    tail = h[34 + x : 43 + x] + h[44 + x : 50 + x]  # longitude, speed, course
    if len(frame) < 29 + o or not head.isdigit() or not tail.isdigit():
        return None
    ymd = DATES.get(head[6:12]) or parse_date(head[6:12])
    if ymd is None:
        return None
    hour, rest = divmod(int(head[0:6]), 10000)
    minute, second = divmod(rest, 100)
    lat_min = int(head[14:20])
    lon_min = int(tail[3:9])
    lat = int(head[12:14]) + lat_min / 600000.0
    lon = int(tail[0:3]) + lon_min / 600000.0
    if lat > 90.0 or lon > 180.0 or lat_min >= 600000 or lon_min >= 600000:
        return None
    try:
        fix_time = datetime(ymd[0], ymd[1], ymd[2], hour, minute, second, 0, UTC)
    except ValueError:
        return None
    flags_nibble = int(h[43 + x], 16)
    if not flags_nibble & 0x4:
        lat = -lat
    if not flags_nibble & 0x8:
        lon = -lon
    status, flags, alarms = STATUS_BY_INT.get(
        word := int.from_bytes(frame[25 + o : 29 + o])
    ) or status_info(word)
    return h02_position(
        h[2 : 12 + x - (1 if o else 0)],  # long form: 15 digits and a pad nibble
        "binary",
        fix_time,
        bool(flags_nibble & 0x2),
        lat,
        lon,
        int(tail[9:12]) * KNOTS_TO_KMH,
        float(int(tail[12:15])),
        status,
        flags,
        alarms,
        battery_percent(frame[16 + o]),
        False,
        (frame[29 + o :].hex(),) if len(frame) > 29 + o else (),
    )


def decode_binary(frame: bytes) -> Position:
    """Decode a ``$`` frame (§5): the 8-byte-ID layout for 42-byte frames, else the 5-byte one.

    If the fields do not fit the layout the length suggests, the other one is tried.
    """
    h = frame.hex()
    first, second = (3, 0) if len(frame) == 42 else (0, 3)
    pos = _binary_layout(frame, h, first) or _binary_layout(frame, h, second)
    if pos is None:
        raise ProtocolError("binary frame with invalid time, date or coordinates")
    return pos
