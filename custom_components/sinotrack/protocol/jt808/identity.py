"""JT/T 808 identity: which digits name a device (docs/protocol/jt808.md §4).

Every identity that leaves this module is ASCII digits of bounded length, so it is safe as a
Home Assistant name or unique ID; anything else is refused with ``ProtocolError``.
"""

from __future__ import annotations

from typing import Final

from ..model import ProtocolError

IMEI_PREFIX_DIGITS: Final = 14  # a binary terminal ID carries the IMEI without its Luhn digit
BINARY_ID_BYTES: Final = 6


def is_digits(text: str) -> bool:
    """ASCII decimal digits only (``str.isdigit`` alone also takes Arabic-Indic or
    fullwidth digits)."""
    return text.isascii() and text.isdigit()


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
    """Whether ``digits`` ends with its Luhn check digit."""
    return len(digits) > 1 and is_digits(digits) and luhn(digits[:-1]) == int(digits[-1])


def terminal_id(id_bytes: bytes) -> tuple[str, str]:
    """``(full, device_id)`` of a terminal-ID field (§4).

    ``full`` is what Traccar calls the unique ID (and sends as the auth code): the 12 or 20
    digits of a BCD field. ``device_id`` drops the leading zeros, so the 2013 and 2019 forms
    of one number agree ("" when the field is all zeros: the caller looks for an IMEI).
    A field that is not BCD is an IMEI as a 48-bit big-endian integer: its 14 digits
    (zero-padded) and the Luhn digit make the 15-digit ID. A non-BCD field of another size,
    or one whose value has more than 14 digits, names nothing: ``ProtocolError``.
    """
    digits = bcd_digits(id_bytes)
    if digits is None:
        if len(id_bytes) != BINARY_ID_BYTES:
            raise ProtocolError(f"terminal ID of {len(id_bytes)} bytes is not BCD")
        value = int.from_bytes(id_bytes)
        if value >= 10**IMEI_PREFIX_DIGITS:
            raise ProtocolError("binary terminal ID has more than 14 digits: not an IMEI")
        first = f"{value:0{IMEI_PREFIX_DIGITS}d}"
        digits = first + str(luhn(first))
    return digits, digits.lstrip("0")
