"""JT/T 808 platform frames: replies to the terminal and commands (docs/protocol/jt808.md §8, §9).

``Replies`` is the platform side of one session: its serial counter (every reply and command
takes the next value, from 0) and the reply frames, which echo the request's edition,
terminal-ID bytes, serial and message ID. The command helpers are pure: they turn a ``Command``
into a message ID and body, pick the ID bytes to address a device with, and read RAW commands.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Final

from ..model import Command, CommandKind, ProtocolError
from .framing import (
    ATTR_2019,
    HEAD,
    HEAD_2013,
    HEAD_2019,
    MIN_CONTENT,
    build_frame,
    escape,
    unescape,
    xor,
)
from .identity import is_digits

_ACK_TAIL = struct.Struct(">HHHBB")  # serial, answered serial, answered ID, result, XOR

# ENGINE_STOP/ENGINE_RESUME variants, chosen by ``Command.text`` (§9; default "F0").
IMMOBILIZER_VARIANTS: Final = {
    "F0": "0x8105 command word 0xF0 (stop) / 0xF1 (resume): Traccar's default",
    "A006": "vendor 0xA006 'oil control': 0x01/0x00 + device time BCD (jt808.alternative)",
    "ASCII": "0x8105 with ASCII '#0;1' / '#0;0' (Traccar's VL300)",
    "W15L": "0x8105 command word 0x64 / 0x65 (Traccar's W15L)",
}


class Replies:
    """The platform serial of one session and the frames that use it."""

    __slots__ = ("_ack_key", "_ack_prefix", "_ack_xor", "_serial")

    def __init__(self) -> None:
        self._serial = 0
        self._ack_key: tuple[bytes, int | None] | None = None
        self._ack_prefix = b""
        self._ack_xor = 0

    def next_serial(self) -> int:
        serial = self._serial
        self._serial = (serial + 1) & 0xFFFF
        return serial

    def reply(self, message_id: int, body: bytes, id_bytes: bytes, version: int | None) -> bytes:
        """A platform frame to the terminal that sent ``id_bytes`` in edition ``version``."""
        return build_frame(message_id, body, id_bytes, version, self.next_serial())

    def general(self, answered: int, mid: int, id_bytes: bytes, version: int | None) -> bytes:
        """0x8001: the request's serial and ID, result 0 (§8).

        Sent for nearly every frame, so the part before the serial is kept with its XOR.
        """
        key = (id_bytes, version)
        if key != self._ack_key:
            if version is None:
                prefix = HEAD.pack(0x8001, 5) + id_bytes
            else:
                prefix = HEAD.pack(0x8001, 5 | ATTR_2019) + bytes((version,)) + id_bytes
            self._ack_key, self._ack_prefix, self._ack_xor = key, prefix, xor(prefix)
        serial = self.next_serial()
        check = (
            self._ack_xor
            ^ (serial >> 8)
            ^ (serial & 0xFF)
            ^ (answered >> 8)
            ^ (answered & 0xFF)
            ^ (mid >> 8)
            ^ (mid & 0xFF)
        )
        content = self._ack_prefix + _ACK_TAIL.pack(serial, answered, mid, 0, check)
        return b"\x7e" + escape(content) + b"\x7e"


def command_body(command: Command, now: datetime, shift: timedelta) -> tuple[int, bytes]:
    """The message ID and body of a (non-RAW) command (§9); ``shift``: the device's zone."""
    kind = command.kind
    if kind is CommandKind.ENGINE_STOP or kind is CommandKind.ENGINE_RESUME:
        return _immobilizer(command, now, shift)
    if kind is CommandKind.REQUEST_POSITION:
        return 0x8201, b""
    if kind is CommandKind.SET_INTERVAL:
        seconds = command.interval_s
        if not isinstance(seconds, int) or not 1 <= seconds <= 0xFFFFFFFF:
            raise ProtocolError(f"interval must be a positive number of seconds: {seconds!r}")
        return 0x8103, struct.pack(">BIBI", 1, 0x0029, 4, seconds)
    if kind is CommandKind.REBOOT:
        return 0x8105, b"\x04"
    if kind is CommandKind.SET_OVERSPEED:  # parameter 0x0055, the maximum speed (km/h)
        kmh = command.speed_kmh
        if not isinstance(kmh, int) or not 0 <= kmh <= 255:
            raise ProtocolError(f"overspeed limit must be 0-255 km/h: {kmh!r}")
        return 0x8103, struct.pack(">BIBI", 1, 0x0055, 4, kmh)
    # ARM, DISARM (RAW is the caller's): no standard message; Traccar's vendor 0x0310 is not
    # for these devices.
    raise ProtocolError(f"{kind} is not supported by JT/T 808")


def _immobilizer(command: Command, now: datetime, shift: timedelta) -> tuple[int, bytes]:
    stop = command.kind is CommandKind.ENGINE_STOP
    variant = (command.text or "F0").strip().upper()
    if variant == "F0":
        return 0x8105, b"\xf0" if stop else b"\xf1"
    if variant == "A006":
        local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC) + shift
        stamp = bytes.fromhex(local.strftime("%y%m%d%H%M%S"))
        return 0xA006, (b"\x01" if stop else b"\x00") + stamp
    if variant == "ASCII":
        return 0x8105, b"#0;1" if stop else b"#0;0"
    if variant == "W15L":
        return 0x8105, b"\x64" if stop else b"\x65"
    raise ProtocolError(f"unknown immobilizer variant {command.text!r}")


def address(device_id: str, version: int | None) -> tuple[bytes, int | None]:
    """The ID bytes and edition for ``device_id`` when no frame of it names them (§4, §9).

    ``version``: the edition this session last saw (None: 2013 or nothing yet). Up to 12
    digits make a 2013 BCD ID, 15 digits Traccar's binary IMEI form, other lengths a 2019 ID.
    """
    digits = device_id.strip()
    if not is_digits(digits) or len(digits) > 20:
        raise ProtocolError(f"JT/T 808 device id must be up to 20 digits: {device_id!r}")
    if version is not None:
        return bytes.fromhex(digits.zfill(20)), version
    if len(digits) <= 12:
        return bytes.fromhex(digits.zfill(12)), None
    if len(digits) == 15:  # an IMEI: its first 14 digits as a 48-bit number (§4)
        return int(digits[:14]).to_bytes(6), None
    return bytes.fromhex(digits.zfill(20)), 1


def raw_frame(text: str) -> tuple[bytes, int, int] | None:
    """A RAW command that is a whole ``7E…7E`` frame in hex (sent exactly as given):
    ``(frame, message ID, serial)``; None when ``text`` (without spaces) is not one."""
    if not (text[:2].upper() == "7E" and text[-2:].upper() == "7E" and len(text) >= 4):
        return None
    try:
        data = bytes.fromhex(text)
    except ValueError as err:
        raise ProtocolError(f"raw frame is not hex: {text!r}") from err
    content = unescape(data[1:-1])
    if content is None or len(content) < MIN_CONTENT:
        raise ProtocolError(f"raw frame is not a JT/T 808 frame: {text!r}")
    message_id, attr = HEAD.unpack_from(content)
    head = HEAD_2019 if attr & ATTR_2019 else HEAD_2013
    return data, message_id, int.from_bytes(content[head - 2 : head])


def raw_message(text: str) -> tuple[int, bytes]:
    """A RAW command ``"MSGID:HEXBODY"`` (``"8105:F0"``; ``"8201"`` for an empty body)."""
    word, _, hex_body = text.partition(":")
    try:
        if len(word) != 4:
            raise ValueError(word)
        message_id = int(word, 16)
        body = bytes.fromhex(hex_body)
    except ValueError as err:
        raise ProtocolError(
            f"raw command must be 'MSGID:HEXBODY' (e.g. '8105:F0') or a hex frame: {text!r}"
        ) from err
    return message_id, body
