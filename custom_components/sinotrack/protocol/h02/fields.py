"""One text field in, one checked value out (docs/protocol/h02.md §3).

Every reader refuses what is not plainly the value: only ASCII digits (and a dot where a
fraction belongs), bounded lengths and ranges, so NaN, infinities, ``1e9``, ``1_0`` and
oversized numbers never pass. Errors are ``ProtocolError`` where the whole message is refused,
``None`` where one field is merely unreadable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ..model import ProtocolError
from .values import iso_day

_DIGITS: Final = "0123456789"
_DECIMAL: Final = "0123456789."
MAX_ID: Final = 20

# Rounding at decode (§3.2): minutes with 4 decimals resolve 1/600000 degree (0.19 m), 5
# decimals 1/6000000. Degrees with two more decimals than the minutes (6 for up to 4, 7 for 5)
# keep every distinct reading distinct and drop the float noise of the division
# (50.588550000000005 -> 50.58855). Indexed by the number of decimals of the minutes.
_ROUND: Final = (6, 6, 6, 6, 6, 7, *(8,) * 11)
_MAX_COORDINATE: Final = 16  # characters; more is junk, not precision


def is_device_id(text: str) -> bool:
    """A device ID is 1-20 ASCII digits (§2); anything else is refused, never echoed."""
    return 0 < len(text) <= MAX_ID and text.isdigit() and text.isascii()


def coordinate(value: str, hemi: str, positive: str, negative: str, limit: float) -> float:
    """Signed degrees from any §3.2 shape: ``DDMM.MMMM``, short degrees, no dot, ``-DD-MM.MMMM``.

    The hemisphere letter gives the sign; beyond ``limit`` (90 or 180), minutes of 60 and more,
    junk or an empty field refuse the message.
    """
    if hemi == positive:
        sign = 1.0
    elif hemi == negative:
        sign = -1.0
    else:
        raise ProtocolError("bad hemisphere")
    degrees = -1.0  # the plain shapes: from the number itself
    if value[:1] == "-":  # "dash" form: -DD-MM.MMMM (the hemisphere still decides the sign)
        dash = value.find("-", 1)
        degrees_text, value = value[1:dash], value[dash + 1 :]
        if dash < 2 or len(degrees_text) > 3 or degrees_text.strip(_DIGITS):
            raise ProtocolError("bad coordinate")
        degrees = float(degrees_text)
    # The number (minutes in the dash form) and its decimals; no dot means four implied. Read
    # in line, not in a helper: two coordinates in every report.
    if not 0 < len(value) <= _MAX_COORDINATE or value.strip(_DECIMAL):
        raise ProtocolError("bad coordinate")
    try:
        number = float(value)  # digits and dots only: no sign, exponent, "_", "nan" or "inf"
    except ValueError:  # two dots, or a dot alone
        raise ProtocolError("bad coordinate") from None
    dot = value.find(".")
    if dot < 0:
        number /= 10000.0
        decimals = 4
    else:
        decimals = len(value) - dot - 1
    if degrees < 0.0:  # the two digits before the dot (or before the last four): the minutes
        degrees, minutes = divmod(number, 100.0)
    else:
        minutes = number
    result = degrees + minutes / 60.0
    if minutes >= 60.0 or result > limit:  # also the 9999.9999 no-fix filler
        raise ProtocolError("coordinate out of range")
    return round(sign * result, _ROUND[decimals])


def number(text: str, what: str, limit: float) -> float:
    """A speed or course: empty means 0; digits and one dot only, within ``0..limit``."""
    if not text:
        return 0.0
    if text.strip(_DECIMAL) or not text.strip(".") or len(text) > 12 or text.count(".") > 1:
        raise ProtocolError(f"bad {what}")
    value = float(text)
    if value > limit:
        raise ProtocolError(f"{what} out of range")
    return value


def uint(text: str, high: int) -> int | None:
    """An unsigned decimal field of at most ``high``, or None (empty, junk, too large)."""
    if not text or len(text) > 10 or text.strip(_DIGITS):
        return None
    value = int(text)
    return value if value <= high else None


def sint(text: str, low: int, high: int) -> int | None:
    """A signed decimal field within ``low..high`` (a signal level such as ``-92``), or None."""
    value = uint(text[1:], -low) if text[:1] == "-" else uint(text, high)
    if value is None:
        return None
    return -value if text[:1] == "-" else value


def hex_uint(text: str, high: int) -> int | None:
    """An unsigned hexadecimal field of at most ``high``, or None."""
    if not text or len(text) > 8 or text.strip("0123456789abcdefABCDEF"):
        return None
    value = int(text, 16)
    return value if value <= high else None


_fromiso = datetime.fromisoformat


def fix_time(time_text: str, date_text: str) -> tuple[datetime | None, str | None]:
    """The UTC time of ``HHMMSS[.fff]`` + ``DDMMYY`` (§3.2), and why it is missing if it is.

    No date: ``(None, None)`` (the caller uses the receive time). No time: midnight. An
    impossible or unreadable time or date: ``(None, reason)``; the reason quotes the fields
    only when they are plain digits.
    """
    if not date_text:
        return None, None
    if len(date_text) != 6 or date_text.strip(_DIGITS):
        return None, "unreadable fix date"
    if not time_text:
        time_text = "000000"
    elif len(time_text) != 6 or time_text.strip(_DIGITS):
        # Some units add a fraction of a second: HHMMSS.fff.
        fraction = time_text[7:]
        if time_text[6:7] != "." or time_text[:6].strip(_DIGITS) or fraction.strip(_DIGITS):
            return None, "unreadable fix time"
        time_text = time_text[:6]
    day = iso_day(date_text)
    # Python 3.14 reads hour 24 as the next midnight: refuse it here, as 3.13 does.
    if day is not None and time_text < "24":
        try:
            return _fromiso(f"{day}{time_text}Z"), None
        except ValueError:
            pass
    return None, f"impossible fix time {time_text} {date_text}"
