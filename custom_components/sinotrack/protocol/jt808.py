"""JT/T 808 ("huabao") codec: framing, session replies, commands (one instance per session).

Reference: ``jt808.md`` (sections cited as §n); body decoders are in ``jt808_decode``.

Framing: ``7E | header | body | XOR | 7E`` with ``7D 02``/``7D 01`` escaping everything between
the flags. Un-escaping is strict: any other byte after ``7D`` makes that frame a
``DecodeError``. A checksum mismatch is counted (``stats.checksum_errors``) and logged at debug,
and the frame is still decoded, as Traccar does (several real captures have one), except when
the message ID is not one this codec knows: that is more likely junk than a tracker. The body
is what lies between header and checksum, whatever the length field says. A ``7E`` that does
not open a valid frame may close one: after a framing failure the closing flag is tried as the
next opening flag, so a stream joined mid-frame resynchronises at once.

Session state (per instance): the terminal-ID bytes and edition of the last frame (commands
use them), the IMEI learned on this session (for all-zero IDs), the platform serial counter
(every reply and command takes the next value, from 0), and sub-packages being reassembled.

Identity: ``device_id`` is the terminal ID without its leading zeros (2013 ``013912345678`` and
2019 ``00000000013912345678`` are both ``13912345678``); non-BCD 6-byte IDs are IMEIs
(§6); an all-zero ID takes the IMEI from an item (0xF6, 0xF8, 0xEB/0x00D5) or from a 2019
authentication on this session, else ``"0"``.

Replies (§3.2) come with the message in ``Decoded.reply``: 0x8100 (result 0, auth code = the ID
digits, as Traccar) for 0x0100; 0x8001 result 0 for 0x0102 (any code), 0x0002, 0x0003, 0x0200,
0x0704, 0x0900, 0x0107 and the vendor messages Traccar acknowledges; 0x8109 (time) for 0x0109.
A 0x0704 batch gets one reply, on its first position. Each reply echoes the request's edition,
terminal-ID bytes, serial and message ID.

Messages: 0x0200 ``Position``; 0x0704 one ``Position`` per item (``stored`` for blind-area
batches, type 1); 0x0201 ``CommandAck(command="0x8201", tag=<answered serial>,
position=Position(message_type="0x0201"))``; 0x0001 ``CommandAck(command="0x%04X" of the
answered ID, tag=<answered platform serial>, result=<code>, success=code == 0)``; 0x0104
``CommandAck(command="0x8104", params=("0xID=hex", …))``; 0x0100/0x0102/0x0107/0x0900
``DeviceInfo``; 0x0002/0x0003 and every other ID a ``Heartbeat`` whose ``message_type`` is the
ID as ``"0x0200"`` (harmless: proof of life, nothing else).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from . import jt808_decode as dec
from .codec import DEFAULT_MAX_BUFFER, Codec
from .model import (
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    DecodeError,
    DeviceInfo,
    EncodedCommand,
    Message,
    ProtocolError,
)

__all__ = [
    "IMMOBILIZER_VARIANTS",
    "MAX_PARTS",
    "MAX_PART_AGE",
    "MAX_PENDING",
    "MAX_REASSEMBLY",
    "Jt808Codec",
    "build_frame",
    "escape",
    "unescape",
]

_LOGGER = logging.getLogger(__name__)

FLAG: Final = 0x7E
_FLAG = b"\x7e"
_ESC = b"\x7d"
ATTR_2019: Final = 0x4000
ATTR_SPLIT: Final = 0x2000
ATTR_CRYPT: Final = 0x1C00
ATTR_LENGTH: Final = 0x03FF
MIN_CONTENT: Final = 13  # 12-byte header + checksum

# Sub-package reassembly bounds: packets per message, messages pending, bytes pending, age.
MAX_PARTS: Final = 32
MAX_PENDING: Final = 4
MAX_REASSEMBLY: Final = 16384  # positions need far less; multimedia is not decoded
MAX_PART_AGE: Final = timedelta(minutes=2)

_HEAD = struct.Struct(">HH")
_ACK_TAIL = struct.Struct(">HHHBB")  # serial, answered serial, answered ID, result, XOR

# Messages the terminal expects a 0x8001 for (§3.2; the vendor IDs as Traccar answers them).
ACK_8001: Final = frozenset(
    {0x0102, 0x0002, 0x0003, 0x0200, 0x0704, 0x0900, 0x0107}
    | {0x0210, 0x1007, 0x6006, 0x0506, 0x8888}
)
# IDs whose bodies this codec understands; a bad checksum on any other ID is a DecodeError.
KNOWN: Final = ACK_8001 | {0x0001, 0x0100, 0x0104, 0x0109, 0x0201}

# ENGINE_STOP/ENGINE_RESUME variants, chosen by ``Command.text`` (§3.3; default "F0").
IMMOBILIZER_VARIANTS: Final = {
    "F0": "0x8105 command word 0xF0 (stop) / 0xF1 (resume): Traccar's default",
    "A006": "vendor 0xA006 'oil control': 0x01/0x00 + device time BCD (jt808.alternative)",
    "ASCII": "0x8105 with ASCII '#0;1' / '#0;0' (Traccar's VL300)",
    "W15L": "0x8105 command word 0x64 / 0x65 (Traccar's W15L)",
}


def _default_clock() -> datetime:
    return datetime.now(UTC)


_FOLDS: dict[int, tuple[tuple[int, int], ...]] = {}


def _folds(size: int) -> tuple[tuple[int, int], ...]:
    """Shift/mask pairs that XOR the upper half of a ``size``-byte integer onto its lower."""
    steps = []
    while size > 1:
        half = (size + 1) >> 1
        steps.append((8 * half, (1 << (8 * half)) - 1))
        size = half
    return tuple(steps)


def _xor(data: bytes) -> int:
    """XOR of all bytes: the whole frame as one integer, folded in halves (fast in CPython)."""
    size = len(data)
    steps = _FOLDS.get(size)
    if steps is None:
        steps = _folds(size)
        if size <= 2048:  # every real frame length; datagrams of junk are not cached
            _FOLDS[size] = steps
    value = int.from_bytes(data)
    for shift, mask in steps:
        value = (value >> shift) ^ (value & mask)
    return value


def unescape(content: bytes) -> bytes | None:
    """Content between the flags with ``7D 02``/``7D 01`` undone; None if another byte
    follows a ``7D`` (or one ends the frame)."""
    if content.count(_ESC) != content.count(b"\x7d\x01") + content.count(b"\x7d\x02"):
        return None
    return content.replace(b"\x7d\x02", _FLAG).replace(b"\x7d\x01", _ESC)


def escape(content: bytes) -> bytes:
    """Header, body and checksum as sent between the flags (§1.1)."""
    if b"\x7d" in content or b"\x7e" in content:
        return content.replace(_ESC, b"\x7d\x01").replace(_FLAG, b"\x7d\x02")
    return content


def build_frame(
    message_id: int, body: bytes, id_bytes: bytes, version: int | None, serial: int
) -> bytes:
    """A complete frame; ``version`` None: 2011/2013 header (6-byte ID), else 2019 (10 bytes)."""
    if len(body) > ATTR_LENGTH:
        raise ProtocolError(f"body of {len(body)} bytes, at most {ATTR_LENGTH} in one packet")
    if version is None:
        head = _HEAD.pack(message_id, len(body))
    else:
        head = _HEAD.pack(message_id, len(body) | ATTR_2019) + bytes((version,))
    content = head + id_bytes + (serial & 0xFFFF).to_bytes(2) + body
    return _FLAG + escape(content + bytes((_xor(content),))) + _FLAG


@dataclass(slots=True)
class _Partial:
    """A sub-packaged message being reassembled."""

    started: datetime
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class _Header:
    """The fields of one frame's header (a plain slotted class: built for every frame)."""

    __slots__ = ("attr", "id_bytes", "message_id", "serial", "size", "version")

    def __init__(  # noqa: PLR0917 - built for every frame
        self,
        message_id: int,
        attr: int,
        id_bytes: bytes,
        version: int | None,  # 2019 protocol version byte; None: 2011/2013
        serial: int,
        size: int,  # header bytes, sub-package fields included
    ) -> None:
        self.message_id = message_id
        self.attr = attr
        self.id_bytes = id_bytes
        self.version = version
        self.serial = serial
        self.size = size


class Jt808Codec(Codec):
    """JT/T 808 for one TCP connection or UDP peer (see the module docstring).

    ``tz_offset_hours``: the device clock's offset from UTC (the standard's GMT+8 by default).
    ``clock`` gives the UTC time for 0x8109 time replies and sub-package ageing (injectable).
    """

    protocol: ClassVar[str] = "jt808"
    LEAD_BYTES: ClassVar[frozenset[int]] = frozenset({FLAG})

    def __init__(
        self,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        tz_offset_hours: float = 8.0,
        clock: Callable[[], datetime] = _default_clock,
    ) -> None:
        super().__init__(max_buffer=max_buffer)
        self._shift = timedelta()
        self.tz_offset_hours = tz_offset_hours
        self.clock = clock
        self._buf = b""
        self._serial = 0
        self._id_bytes: bytes | None = None
        self._version: int | None = None
        self._full_id = ""
        self._own_id = ""  # "" when the ID field is all zeros
        self._imei: str | None = None
        self._partials: dict[tuple[int, bytes, int, int], _Partial] = {}
        self._ack_key: tuple[bytes, int | None] | None = None
        self._ack_prefix = b""
        self._ack_xor = 0

    # --- public API -------------------------------------------------------------------------

    @property
    def tz_offset_hours(self) -> float:
        """The device clock's offset from UTC; settable once the device is known (per device)."""
        return self._shift.total_seconds() / 3600

    @tz_offset_hours.setter
    def tz_offset_hours(self, hours: float) -> None:
        if not -14 <= hours <= 14:
            raise ValueError(f"time zone offset {hours} h is not -14 … +14")
        self._shift = timedelta(hours=hours)

    @property
    def buffered(self) -> int:
        return len(self._buf)

    @property
    def device_id(self) -> str | None:
        """The identity of the device on this session (None before its first frame)."""
        if self._id_bytes is None:
            return None
        return self._own_id or self._imei or "0"

    @property
    def edition(self) -> str | None:
        """``"2013"`` (2011/2013 header) or ``"2019"`` as last seen; None before any frame."""
        if self._id_bytes is None:
            return None
        return "2013" if self._version is None else "2019"

    @property
    def imei(self) -> str | None:
        """An IMEI this session reported (item, 2019 authentication), if any."""
        return self._imei

    def feed(self, data: bytes) -> list[Decoded | DecodeError]:
        buf = self._buf + data if self._buf else bytes(data)
        out: list[Decoded | DecodeError] = []
        pos = self._split(buf, out, final=False)
        rest = len(buf) - pos
        if rest > self.max_buffer:
            self.stats.overflows += 1
            self._error(out, f"{rest} bytes buffered without a complete frame", buf[pos : pos + 64])
            self._buf = b""
        else:
            self._buf = buf[pos:] if rest else b""
        return out

    def feed_datagram(self, data: bytes) -> list[Decoded | DecodeError]:
        """Every frame of one UDP datagram; an unfinished last frame is an error."""
        out: list[Decoded | DecodeError] = []
        self._split(bytes(data), out, final=True)
        return out

    def flush(self) -> list[Decoded | DecodeError]:
        """What is buffered, as if the stream ended here (an unfinished frame is an error)."""
        buf, self._buf = self._buf, b""
        out: list[Decoded | DecodeError] = []
        if buf:
            self._split(buf, out, final=True)
        return out

    # --- framing ----------------------------------------------------------------------------

    def _split(self, buf: bytes, out: list[Decoded | DecodeError], *, final: bool) -> int:
        """Emit every complete frame of ``buf``; returns where the unfinished rest starts."""
        stats = self.stats
        find = buf.find
        n = len(buf)
        pos = 0
        while pos < n:
            if buf[pos] != FLAG:
                start = find(_FLAG, pos)
                if start < 0:
                    stats.bytes_skipped += n - pos
                    return n
                stats.bytes_skipped += start - pos
                pos = start
            end = find(_FLAG, pos + 1)
            if end < 0:
                if not final:
                    return pos
                if n - pos > 1:
                    stats.frames += 1
                    self._error(out, "truncated frame", buf[pos:])
                else:
                    stats.bytes_skipped += 1
                return n
            if end == pos + 1:  # "7E 7E": the first one closed a frame we never saw
                stats.bytes_skipped += 1
                pos = end
                continue
            stats.frames += 1
            # A frame consumes its closing flag; anything else leaves it to open the next one.
            pos = end + 1 if self._frame(buf, pos, end, out) else end
        return n

    def _frame(self, buf: bytes, start: int, end: int, out: list[Decoded | DecodeError]) -> bool:
        """Decode ``buf[start:end + 1]`` (flags included); False if it is not a frame."""
        content = buf[start + 1 : end]
        if 0x7D in content:
            unescaped = unescape(content)
            if unescaped is None:
                self._error(
                    out, "invalid escape (7D not followed by 01 or 02)", buf[start : end + 1]
                )
                return False
            content = unescaped
        size = len(content)
        if size < MIN_CONTENT:
            self._error(out, f"frame of {size} bytes is too short", buf[start : end + 1])
            return False
        message_id, attr = _HEAD.unpack_from(content)
        if attr & ATTR_2019:
            version: int | None = content[4]
            id_bytes = content[5:15]
            head = 17
        else:
            version = None
            id_bytes = content[4:10]
            head = 12
        serial = int.from_bytes(content[head - 2 : head])
        if attr & ATTR_SPLIT:
            head += 4
        if size < head + 1:
            self._error(out, f"frame of {size} bytes is too short", buf[start : end + 1])
            return False
        raw = buf[start : end + 1]
        if _xor(content):  # header, body and checksum XOR to 0 when the checksum is right
            if message_id not in KNOWN:
                self._error(out, f"bad checksum on unknown message 0x{message_id:04X}", raw)
                return True
            self.stats.checksum_errors += 1
            _LOGGER.debug("JT/T 808 checksum mismatch on 0x%04X: %s", message_id, raw.hex())
        if size - 1 - head != attr & ATTR_LENGTH:
            _LOGGER.debug(
                "JT/T 808 0x%04X length field %d, body %d",
                message_id,
                attr & 0x3FF,
                size - 1 - head,
            )
        header = _Header(message_id, attr, id_bytes, version, serial, head)
        # Remember the terminal ID bytes and edition: commands use what the device uses.
        self._version = version
        if id_bytes != self._id_bytes:
            self._id_bytes = id_bytes
            self._full_id, self._own_id = dec.terminal_id(id_bytes)
        if attr & ATTR_CRYPT and message_id in KNOWN:  # vendor IDs use these bits otherwise
            self._error(out, f"encrypted body (attribute 0x{attr:04X})", raw)
            return True
        body = content[head:-1]
        if attr & ATTR_SPLIT:
            whole = self._reassemble(header, content, body, raw, out)
            if whole is None:
                return True
            body = whole
        self._dispatch(header, body, raw, out)
        return True

    def _reassemble(
        self,
        header: _Header,
        content: bytes,
        body: bytes,
        raw: bytes,
        out: list[Decoded | DecodeError],
    ) -> bytes | None:
        """Collect one packet; the whole body once every packet is in, else None.

        Each packet but the completing one yields a ``Heartbeat`` carrying its own 0x8001 (when
        the message wants one): the terminal expects an answer per packet.
        """
        total, index = struct.unpack_from(">HH", content, header.size - 4)
        if not 1 <= index <= total or total > MAX_PARTS:
            self._error(out, f"sub-package {index} of {total}", raw)
            return None
        if total == 1:
            return body
        now = self.clock()
        for old, waiting in list(self._partials.items()):
            if now - waiting.started > MAX_PART_AGE:
                del self._partials[old]
        first = (header.serial - index + 1) & 0xFFFF
        key = (header.message_id, header.id_bytes, total, first)
        found = self._partials.get(key)
        if found is None:
            if len(self._partials) >= MAX_PENDING:
                self._partials.pop(next(iter(self._partials)))  # the oldest gives way
            found = self._partials[key] = _Partial(now)
        partial = found
        if index not in partial.parts:
            pending = sum(p.size for p in self._partials.values())
            if pending + len(body) > MAX_REASSEMBLY:
                del self._partials[key]
                self._error(out, f"sub-packaged 0x{header.message_id:04X} too large", raw)
                return None
            partial.parts[index] = body
            partial.size += len(body)
        if len(partial.parts) < total:
            reply = None
            if header.message_id in ACK_8001:
                reply = self._general_reply(header)
            message = dec.other(self._identity(), f"0x{header.message_id:04X}")
            self._emit(out, message, reply, raw)
            return None
        del self._partials[key]
        return b"".join(partial.parts[k] for k in range(1, total + 1))

    # --- decoding ---------------------------------------------------------------------------

    def _identity(self) -> str:
        return self._own_id or self._imei or "0"

    def _emit(
        self, out: list[Decoded | DecodeError], message: Message, reply: bytes | None, raw: bytes
    ) -> None:
        self.stats.messages += 1
        out.append(Decoded(message, reply, raw))

    def _error(self, out: list[Decoded | DecodeError], reason: str, raw: bytes) -> None:
        self.stats.errors += 1
        out.append(DecodeError(reason, raw))

    def _dispatch(
        self, header: _Header, body: bytes, raw: bytes, out: list[Decoded | DecodeError]
    ) -> None:
        mid = header.message_id
        try:
            if mid == 0x0200:  # nearly every frame: the short way
                own = self._own_id or None
                fallback = self._imei or "0"
                position, imei = dec.decode_location(
                    body, 0, len(body), own, fallback, "0x0200", self._shift
                )
                if imei and own is None:
                    self._imei = imei
                self.stats.messages += 1
                out.append(Decoded(position, self._general_reply(header), raw))
                return
            mtype = f"0x{mid:04X}"
            if mid == 0x0704:
                self._batch(header, body, raw, out)
                return
            device_id = self._identity()
            message: Message
            reply: bytes | None = None
            if mid == 0x0201:
                message = self._query_answer(body)
            elif mid == 0x0001:
                message = dec.decode_general_response(body, device_id)
            elif mid in (0x0002, 0x0003):
                message = dec.decode_heartbeat(body, device_id, mtype)
            elif mid == 0x0100:
                message = dec.decode_register(body, device_id, header.version is not None)
                if message.imei and not self._own_id:  # an all-zero ID: the IMEI names it
                    self._imei = message.imei
                    message = replace(message, device_id=message.imei)
                auth = self._full_id.encode("ascii")  # the ID digits, as Traccar
                reply = self._reply(header, 0x8100, header.serial.to_bytes(2) + b"\x00" + auth)
            elif mid == 0x0102:
                message = self._authenticate(body, header.version is not None)
            elif mid == 0x0107:
                message = dec.decode_attributes(body, device_id, header.version is not None)
            elif mid == 0x0900:
                message = dec.decode_transparent(body, device_id)
            elif mid == 0x0104:
                message = dec.decode_parameters(body, device_id)
            elif mid == 0x0109:  # vendor time request: answer with UTC and result 0 (Traccar)
                message = dec.other(device_id, mtype)
                t = self.clock().astimezone(UTC)
                answer = struct.pack(
                    ">HBBBBBB", t.year, t.month, t.day, t.hour, t.minute, t.second, 0
                )
                reply = self._reply(header, 0x8109, answer)
            else:
                message = dec.other(device_id, mtype)
        except ProtocolError as err:
            self._error(out, str(err), raw)
            return
        if mid in ACK_8001:
            reply = self._general_reply(header)
        self._emit(out, message, reply, raw)

    def _batch(
        self, header: _Header, body: bytes, raw: bytes, out: list[Decoded | DecodeError]
    ) -> None:
        """0x0704: count WORD, type BYTE (1: blind-area back-fill), then {length WORD, 0x0200}."""
        if len(body) < 3:
            raise ProtocolError(f"0x0704 body of {len(body)} bytes, need 3")
        count = int.from_bytes(body[:2])
        stored = body[2] == 1
        reply: bytes | None = self._general_reply(header)
        pos, end = 3, len(body)
        problem = None
        for k in range(count):
            if pos + 2 > end:
                problem = f"0x0704 has {k} of {count} items"
                break
            size = int.from_bytes(body[pos : pos + 2])
            item_end = pos + 2 + size
            if item_end > end:
                problem = f"0x0704 item {k + 1} of {size} bytes runs past the body"
                break
            try:
                position, imei = dec.decode_location(
                    body,
                    pos + 2,
                    item_end,
                    device_id=self._own_id or None,
                    fallback_id=self._imei or "0",
                    message_type="0x0704",
                    shift=self._shift,
                    stored=stored,
                )
            except ProtocolError as err:
                problem = f"0x0704 item {k + 1}: {err}"
            else:
                if imei and not self._own_id:
                    self._imei = imei
                self._emit(out, position, reply, raw)
                reply = None  # one answer for the whole batch
            pos = item_end
        if reply is not None and problem is None:  # an empty batch still wants its answer
            self._emit(out, dec.other(self._identity(), "0x0704"), reply, raw)
        if problem is not None:
            self._error(out, problem, raw)

    def _query_answer(self, body: bytes) -> CommandAck:
        """0x0201: the answer to a 0x8201 position query (answered serial + location)."""
        if len(body) < 2:
            raise ProtocolError(f"0x0201 body of {len(body)} bytes")
        position, imei = dec.decode_location(
            body,
            2,
            len(body),
            device_id=self._own_id or None,
            fallback_id=self._imei or "0",
            message_type="0x0201",
            shift=self._shift,
        )
        if imei and not self._own_id:
            self._imei = imei
        return CommandAck(
            protocol=self.protocol,
            device_id=position.device_id,
            command="0x8201",
            tag=str(int.from_bytes(body[:2])),
            result="0",
            success=True,
            position=position,
        )

    def _authenticate(self, body: bytes, edition_2019: bool) -> Message:
        code, imei, firmware = dec.auth_fields(body, edition_2019)
        if imei is not None and imei.isdigit() and not self._own_id:
            self._imei = imei.lstrip("0") or None
        return DeviceInfo(
            protocol=self.protocol,
            device_id=self._identity(),
            message_type="0x0102",
            text=f"auth code {code}" if code else None,
            firmware=firmware,
            imei=imei,
        )

    # --- replies ----------------------------------------------------------------------------

    def _next_serial(self) -> int:
        serial = self._serial
        self._serial = (serial + 1) & 0xFFFF
        return serial

    def _reply(self, header: _Header, message_id: int, body: bytes) -> bytes:
        return build_frame(message_id, body, header.id_bytes, header.version, self._next_serial())

    def _general_reply(self, header: _Header) -> bytes:
        """0x8001: the request's serial and ID, result 0 (§3.1).

        Sent for nearly every frame, so the part before the serial is kept with its XOR.
        """
        key = (header.id_bytes, header.version)
        if key != self._ack_key:
            version = header.version
            if version is None:
                prefix = _HEAD.pack(0x8001, 5) + header.id_bytes
            else:
                prefix = _HEAD.pack(0x8001, 5 | ATTR_2019) + bytes((version,)) + header.id_bytes
            self._ack_key, self._ack_prefix, self._ack_xor = key, prefix, _xor(prefix)
        serial = self._next_serial()
        answered, mid = header.serial, header.message_id
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
        return _FLAG + escape(content) + _FLAG

    # --- commands ---------------------------------------------------------------------------

    def encode(self, device_id: str, command: Command, now: datetime) -> EncodedCommand:
        """A command frame for ``device_id``, framed like this session's frames.

        ENGINE_STOP / ENGINE_RESUME: 0x8105 with command word 0xF0 / 0xF1, as Traccar sends
        it. Nothing public says which form SinoTrack's JT/T 808 firmware obeys, so
        ``Command.text`` picks another one of ``IMMOBILIZER_VARIANTS``: ``"A006"`` (vendor
        message 0xA006: 0x01/0x00 then ``now`` as BCD in the device's zone), ``"ASCII"``
        (0x8105 ``#0;1`` / ``#0;0``), ``"W15L"`` (0x8105 0x64 / 0x65).
        REQUEST_POSITION: 0x8201 (answered by a 0x0201). SET_INTERVAL: 0x8103 parameter 0x0029
        (default reporting interval, DWORD seconds). REBOOT: 0x8105 command word 4.
        ARM / DISARM: no standard message (Traccar's vendor 0x0310 is not for these devices):
        ``ProtocolError``.
        RAW: ``"8105:F0"`` = message ID and body in hex, framed here with this session's ID
        and the next serial (``"8201"`` or ``"8201:"`` for an empty body; spaces ignored);
        or a whole frame ``"7E…7E"`` in hex, sent exactly as given.

        ``name`` is the message ID as ``"0x8105"`` and ``tag`` the platform serial: a 0x0001
        answer (or the 0x0201 of a position query) carrying both resolves it (``matches``).
        Before any frame was seen the ID is built from ``device_id``: up to 12 digits as a
        2013 BCD ID, 15 digits as Traccar's binary IMEI form, other lengths as a 2019 ID.
        """
        kind = command.kind
        if kind is CommandKind.ENGINE_STOP or kind is CommandKind.ENGINE_RESUME:
            message_id, body = self._immobilizer(command, now)
        elif kind is CommandKind.REQUEST_POSITION:
            message_id, body = 0x8201, b""
        elif kind is CommandKind.SET_INTERVAL:
            seconds = command.interval_s
            if not isinstance(seconds, int) or not 1 <= seconds <= 0xFFFFFFFF:
                raise ProtocolError(f"interval must be a positive number of seconds: {seconds!r}")
            message_id, body = 0x8103, struct.pack(">BIBI", 1, 0x0029, 4, seconds)
        elif kind is CommandKind.REBOOT:
            message_id, body = 0x8105, b"\x04"
        elif kind is CommandKind.RAW:
            return self._encode_raw(device_id, command)
        else:  # ARM, DISARM
            raise ProtocolError(f"{kind} is not supported by JT/T 808")
        id_bytes, version = self._target(device_id)
        serial = self._next_serial()
        data = build_frame(message_id, body, id_bytes, version, serial)
        return EncodedCommand(
            command, data, f"0x{message_id:04X}", str(serial), {"device_id": device_id}
        )

    def _immobilizer(self, command: Command, now: datetime) -> tuple[int, bytes]:
        stop = command.kind is CommandKind.ENGINE_STOP
        variant = (command.text or "F0").strip().upper()
        if variant == "F0":
            return 0x8105, b"\xf0" if stop else b"\xf1"
        if variant == "A006":
            local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC) + self._shift
            stamp = bytes.fromhex(local.strftime("%y%m%d%H%M%S"))
            return 0xA006, (b"\x01" if stop else b"\x00") + stamp
        if variant == "ASCII":
            return 0x8105, b"#0;1" if stop else b"#0;0"
        if variant == "W15L":
            return 0x8105, b"\x64" if stop else b"\x65"
        raise ProtocolError(f"unknown immobilizer variant {command.text!r}")

    def _target(self, device_id: str) -> tuple[bytes, int | None]:
        """The ID bytes and edition to address ``device_id`` with."""
        if self._id_bytes is not None and device_id in (
            self.device_id,
            self._full_id,
            self._imei,
        ):
            return self._id_bytes, self._version
        digits = device_id.strip()
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
            raise ProtocolError(f"JT/T 808 device id must be up to 20 digits: {device_id!r}")
        if self._version is not None:
            return bytes.fromhex(digits.zfill(20)), self._version
        if len(digits) <= 12:
            return bytes.fromhex(digits.zfill(12)), None
        if len(digits) == 15:  # an IMEI: its first 14 digits as a 48-bit number (§6)
            return int(digits[:14]).to_bytes(6), None
        return bytes.fromhex(digits.zfill(20)), 1

    def _encode_raw(self, device_id: str, command: Command) -> EncodedCommand:
        text = "".join((command.text or "").split())
        extra = {"device_id": device_id}
        if text[:2].upper() == "7E" and text[-2:].upper() == "7E" and len(text) >= 4:
            try:
                data = bytes.fromhex(text)
            except ValueError as err:
                raise ProtocolError(f"raw frame is not hex: {text!r}") from err
            content = unescape(data[1:-1])
            if content is None or len(content) < MIN_CONTENT:
                raise ProtocolError(f"raw frame is not a JT/T 808 frame: {text!r}")
            message_id, attr = _HEAD.unpack_from(content)
            head = 17 if attr & ATTR_2019 else 12
            serial = int.from_bytes(content[head - 2 : head])
            return EncodedCommand(command, data, f"0x{message_id:04X}", str(serial), extra)
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
        id_bytes, version = self._target(device_id)
        serial = self._next_serial()
        data = build_frame(message_id, body, id_bytes, version, serial)
        return EncodedCommand(command, data, f"0x{message_id:04X}", str(serial), extra)

    def matches(self, pending: EncodedCommand, ack: CommandAck) -> bool:
        """Whether ``ack`` answers ``pending``: same message ID and platform serial (a 0x0001
        general response, or the 0x0201 answering a 0x8201)."""
        if ack.protocol != self.protocol or ack.command.upper() != pending.name.upper():
            return False
        return pending.tag is None or ack.tag == pending.tag
