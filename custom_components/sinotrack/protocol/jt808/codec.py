"""JT/T 808 ("huabao") codec: one instance per session (docs/protocol/jt808.md).

Framing (``framing``, §1-3): ``7E | header | body | XOR | 7E`` with ``7D 02``/``7D 01``
escaping. A frame whose escaping, checksum or body-length field is wrong is refused: a counted
``DecodeError`` (``stats.errors``, and ``checksum_errors`` / ``length_errors``), for every
message ID. ``tolerate_bad_checksum=True`` lets a bad checksum through on the messages this
codec knows (still counted; each position carries a warning), never on unknown IDs: those are
more likely junk than a tracker.

Session state (per instance): the terminal-ID bytes and edition of the last frame (commands
use them), the IMEI learned on this session (for all-zero IDs), the platform serial counter
(``encode.Replies``) and sub-packages being reassembled (``reassembly``).

Identity (§4): ``device_id`` is the terminal ID without its leading zeros (2013
``013912345678`` and 2019 ``00000000013912345678`` are both ``13912345678``); a non-BCD 6-byte
ID is an IMEI as a 48-bit integer (14 digits and the Luhn digit); a non-BCD ID of another size,
or one with more than 14 digits, is refused. An all-zero ID takes the IMEI from an item (0xF6,
0xF8, 0xEB/0x00D5) or from a 2019 authentication on this session, else ``"0"``.

Replies (§8) come with the message in ``Decoded.reply``: 0x8100 (result 0, auth code = the ID
digits, as Traccar) for 0x0100; 0x8001 result 0 for 0x0102 (any code), 0x0002, 0x0003, 0x0200,
0x0704, 0x0900, 0x0107 and the vendor messages Traccar acknowledges; 0x8109 (time) for 0x0109.
A 0x0704 batch gets one reply, on its first position. Each reply echoes the request's edition,
terminal-ID bytes, serial and message ID.

Messages (§5-7): 0x0200 ``Position``; 0x0704 one ``Position`` per item (``stored`` for
blind-area batches, type 1); 0x0201 ``CommandAck(command="0x8201", tag=<answered serial>,
position=Position(message_type="0x0201"))``; 0x0001 ``CommandAck(command="0x%04X" of the
answered ID, tag=<answered platform serial>, result=<code>, success=code == 0)``; 0x0104
``CommandAck(command="0x8104", params=("0xID=hex", …))``; 0x0100/0x0102/0x0107/0x0900
``DeviceIdentity``; 0x0002/0x0003 and every other ID a ``Heartbeat`` whose ``message_type`` is the
ID as ``"0x0200"`` (harmless: proof of life, nothing else).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from ..codec import DEFAULT_MAX_BUFFER, Codec, ServerReader, unframed_rest
from ..model import (
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    DecodeError,
    DeviceIdentity,
    EncodedCommand,
    Message,
    Position,
    ProtocolError,
)
from . import decode as dec
from .encode import Replies, address, command_body, raw_frame, raw_message
from .framing import ATTR_CRYPT, ATTR_SPLIT, FLAG, Frame, build_frame, split
from .identity import is_digits, terminal_id
from .reassembly import Reassembly
from .server import Jt808ServerReader

_LOGGER = logging.getLogger(__name__)

# Messages the terminal expects a 0x8001 for (§8; the vendor IDs as Traccar answers them).
ACK_8001: Final = frozenset(
    {0x0102, 0x0002, 0x0003, 0x0200, 0x0704, 0x0900, 0x0107}
    | {0x0210, 0x1007, 0x6006, 0x0506, 0x8888}
)
# IDs whose bodies this codec understands: the only ones a bad checksum may be tolerated on.
KNOWN: Final = ACK_8001 | {0x0001, 0x0100, 0x0104, 0x0109, 0x0201}
BAD_CHECKSUM: Final = "bad checksum (accepted: tolerate_bad_checksum)"


def _default_clock() -> datetime:
    return datetime.now(UTC)


class Jt808Codec(Codec):
    """JT/T 808 for one TCP connection or UDP peer (see the module docstring).

    ``tz_offset_hours``: the device clock's offset from UTC (the standard's GMT+8 by default).
    ``clock`` gives the UTC time for 0x8109 time replies and sub-package ageing (injectable).
    ``tolerate_bad_checksum``: decode known messages whose checksum is wrong (counted, with a
    warning on each position) instead of refusing them.
    """

    protocol: ClassVar[str] = "jt808"
    LEAD_BYTES: ClassVar[frozenset[int]] = frozenset({FLAG})

    def __init__(
        self,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        tz_offset_hours: float = 8.0,
        clock: Callable[[], datetime] = _default_clock,
        tolerate_bad_checksum: bool = False,
    ) -> None:
        super().__init__(max_buffer=max_buffer)
        self._shift = timedelta()
        self.tz_offset_hours = tz_offset_hours
        self.clock = clock
        self.tolerate_bad_checksum = tolerate_bad_checksum
        self._tolerate = KNOWN if tolerate_bad_checksum else frozenset()
        self._buf = b""
        self._replies = Replies()
        self._reassembly = Reassembly()
        self._id_bytes: bytes | None = None
        self._version: int | None = None
        self._full_id = ""
        self._own_id = ""  # "" when the ID field is all zeros
        self._imei: str | None = None

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
        return self._identity()

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
        self._buf = unframed_rest(buf, pos, self.max_buffer, self.stats, out)
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

    # --- frames -----------------------------------------------------------------------------

    def _split(self, buf: bytes, out: list[Decoded | DecodeError], *, final: bool) -> int:
        """Decode every complete frame of ``buf``; returns where the unfinished rest starts."""
        frames: list[Frame | DecodeError] = []
        pos = split(buf, frames, self.stats, final=final, tolerate=self._tolerate)
        for frame in frames:
            if isinstance(frame, DecodeError):
                out.append(frame)  # counted by split
            else:
                self._frame(frame, out)
        return pos

    def _frame(self, frame: Frame, out: list[Decoded | DecodeError]) -> None:
        id_bytes = frame.id_bytes
        if id_bytes != self._id_bytes:
            try:
                ids = terminal_id(id_bytes)
            except ProtocolError as err:  # never a device: the session keeps what it had
                self._error(out, str(err), frame.raw)
                return
            self._id_bytes = id_bytes
            self._full_id, self._own_id = ids
        # Remember the edition: commands use what the device uses.
        self._version = frame.version
        attr = frame.attr
        mid = frame.message_id
        if attr & ATTR_CRYPT and mid in KNOWN:  # vendor IDs use these bits otherwise
            self._error(out, f"encrypted body (attribute 0x{attr:04X})", frame.raw)
            return
        warnings: tuple[str, ...] = ()
        if frame.bad_checksum:
            _LOGGER.debug("JT/T 808 checksum mismatch on 0x%04X accepted", mid)
            warnings = (BAD_CHECKSUM,)
        body = frame.body
        if attr & ATTR_SPLIT:
            total, index = struct.unpack_from(">HH", frame.content, frame.size - 4)
            try:
                whole = self._reassembly.add(
                    mid, id_bytes, frame.serial, total, index, body, self.clock()
                )
            except ProtocolError as err:
                self._error(out, str(err), frame.raw)
                return
            if whole is None:
                # Each packet but the completing one gets its own 0x8001 (when the message
                # wants one): the terminal expects an answer per packet.
                reply = self._general_reply(frame) if mid in ACK_8001 else None
                self._emit(out, dec.other(self._identity(), f"0x{mid:04X}"), reply, frame.raw)
                return
            body = whole
        self._dispatch(frame, body, warnings, out)

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

    def _location(
        self,
        body: bytes,
        pos: int,
        end: int,
        message_type: str,
        *,
        warnings: tuple[str, ...],
        stored: bool = False,
    ) -> Position:
        """One location body; an IMEI item names an all-zero-ID session."""
        own = self._own_id or None
        position, imei = dec.decode_location(
            body, pos, end, own, self._imei or "0", message_type, self._shift, stored, warnings
        )
        if imei and own is None:
            self._imei = imei
        return position

    def _dispatch(
        self,
        frame: Frame,
        body: bytes,
        warnings: tuple[str, ...],
        out: list[Decoded | DecodeError],
    ) -> None:
        mid = frame.message_id
        try:
            if mid == 0x0200:  # nearly every frame: the short way
                position = self._location(body, 0, len(body), "0x0200", warnings=warnings)
                self._emit(out, position, self._general_reply(frame), frame.raw)
                return
            if mid == 0x0704:
                self._batch(frame, body, warnings, out)
                return
            mtype = f"0x{mid:04X}"
            device_id = self._identity()
            message: Message
            reply: bytes | None = None
            if mid == 0x0201:
                message = self._query_answer(body, warnings)
            elif mid == 0x0001:
                message = dec.decode_general_response(body, device_id)
            elif mid in (0x0002, 0x0003):
                message = dec.decode_heartbeat(body, device_id, mtype)
            elif mid == 0x0100:
                message = dec.decode_register(body, device_id, frame.version is not None)
                if message.imei and not self._own_id:  # an all-zero ID: the IMEI names it
                    self._imei = message.imei
                    message = replace(message, device_id=message.imei)
                auth = self._full_id.encode("ascii")  # the ID digits, as Traccar
                reply = self._replies.reply(
                    0x8100,
                    frame.serial.to_bytes(2) + b"\x00" + auth,
                    frame.id_bytes,
                    frame.version,
                )
            elif mid == 0x0102:
                message = self._authenticate(body, frame.version is not None)
            elif mid == 0x0107:
                message = dec.decode_attributes(body, device_id, frame.version is not None)
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
                reply = self._replies.reply(0x8109, answer, frame.id_bytes, frame.version)
            else:
                message = dec.other(device_id, mtype)
        except ProtocolError as err:
            self._error(out, str(err), frame.raw)
            return
        if mid in ACK_8001:
            reply = self._general_reply(frame)
        self._emit(out, message, reply, frame.raw)

    def _batch(
        self,
        frame: Frame,
        body: bytes,
        warnings: tuple[str, ...],
        out: list[Decoded | DecodeError],
    ) -> None:
        """0x0704: count WORD, type BYTE (1: blind-area back-fill), then {length WORD, 0x0200}.

        Item lengths that do not add up to the body refuse the whole batch (no position, no
        reply); an item with impossible values is refused on its own (§7).
        """
        if len(body) < 3:
            raise ProtocolError(f"0x0704 body of {len(body)} bytes, need 3")
        count = int.from_bytes(body[:2])
        stored = body[2] == 1
        spans: list[tuple[int, int]] = []
        pos, end = 3, len(body)
        for k in range(count):
            if pos + 2 > end:
                raise ProtocolError(f"0x0704 has {k} of {count} items")
            item_end = pos + 2 + int.from_bytes(body[pos : pos + 2])
            if item_end > end:
                raise ProtocolError(f"0x0704 item {k + 1} runs past the body")
            spans.append((pos + 2, item_end))
            pos = item_end
        if pos != end:
            raise ProtocolError(f"0x0704 has {end - pos} bytes after its {count} items")
        if not spans:  # an empty batch still wants its answer
            reply = self._general_reply(frame)
            self._emit(out, dec.other(self._identity(), "0x0704"), reply, frame.raw)
            return
        answered = False  # one answer for the whole batch, on its first position
        for k, (start, stop) in enumerate(spans, start=1):
            try:
                position = self._location(
                    body, start, stop, "0x0704", warnings=warnings, stored=stored
                )
            except ProtocolError as err:
                self._error(out, f"0x0704 item {k}: {err}", frame.raw)
                continue
            self._emit(out, position, None if answered else self._general_reply(frame), frame.raw)
            answered = True

    def _query_answer(self, body: bytes, warnings: tuple[str, ...]) -> CommandAck:
        """0x0201: the answer to a 0x8201 position query (answered serial + location)."""
        if len(body) < 2:
            raise ProtocolError(f"0x0201 body of {len(body)} bytes")
        position = self._location(body, 2, len(body), "0x0201", warnings=warnings)
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
        if imei is not None and not is_digits(imei):
            imei = None  # not an IMEI: never an identity
        if imei is not None and not self._own_id:
            self._imei = imei.lstrip("0") or None
        return DeviceIdentity(
            protocol=self.protocol,
            device_id=self._identity(),
            message_type="0x0102",
            text=f"auth code {code}" if code else None,
            firmware=firmware,
            imei=imei,
        )

    def _general_reply(self, frame: Frame) -> bytes:
        return self._replies.general(frame.serial, frame.message_id, frame.id_bytes, frame.version)

    # --- commands ---------------------------------------------------------------------------

    def encode(self, device_id: str, command: Command, now: datetime) -> EncodedCommand:
        """A command frame for ``device_id``, framed like this session's frames (§9).

        ENGINE_STOP / ENGINE_RESUME: 0x8105 with command word 0xF0 / 0xF1, as Traccar sends
        it. Nothing public says which form SinoTrack's JT/T 808 firmware obeys, so
        ``Command.text`` picks another one of ``IMMOBILIZER_VARIANTS``: ``"A006"`` (vendor
        message 0xA006: 0x01/0x00 then ``now`` as BCD in the device's zone), ``"ASCII"``
        (0x8105 ``#0;1`` / ``#0;0``), ``"W15L"`` (0x8105 0x64 / 0x65).
        REQUEST_POSITION: 0x8201 (answered by a 0x0201). SET_INTERVAL: 0x8103 parameter 0x0029
        (default reporting interval, DWORD seconds). REBOOT: 0x8105 command word 4.
        SET_OVERSPEED: 0x8103 parameter 0x0055 (km/h). ARM / DISARM: no standard message:
        ``ProtocolError``.
        RAW: ``"8105:F0"`` = message ID and body in hex, framed here with this session's ID
        and the next serial (``"8201"`` or ``"8201:"`` for an empty body; spaces ignored);
        or a whole frame ``"7E…7E"`` in hex, sent exactly as given.

        ``name`` is the message ID as ``"0x8105"`` and ``tag`` the platform serial: a 0x0001
        answer (or the 0x0201 of a position query) carrying both resolves it (``matches``).
        Before any frame was seen the ID is built from ``device_id``: up to 12 digits as a
        2013 BCD ID, 15 digits as Traccar's binary IMEI form, other lengths as a 2019 ID.
        """
        extra = {"device_id": device_id}
        if command.kind is CommandKind.RAW:
            text = "".join((command.text or "").split())
            whole = raw_frame(text)
            if whole is not None:
                data, message_id, serial = whole
                return EncodedCommand(command, data, f"0x{message_id:04X}", str(serial), extra)
            message_id, body = raw_message(text)
        else:
            message_id, body = command_body(command, now, self._shift)
        id_bytes, version = self._target(device_id)
        serial = self._replies.next_serial()
        data = build_frame(message_id, body, id_bytes, version, serial)
        return EncodedCommand(command, data, f"0x{message_id:04X}", str(serial), extra)

    def _target(self, device_id: str) -> tuple[bytes, int | None]:
        """The ID bytes and edition to address ``device_id`` with."""
        if self._id_bytes is not None and device_id in (
            self._identity(),
            self._full_id,
            self._imei,
        ):
            return self._id_bytes, self._version
        return address(device_id, self._version)

    def matches(self, pending: EncodedCommand, ack: CommandAck) -> bool:
        """Whether ``ack`` answers ``pending``: same message ID and platform serial (a 0x0001
        general response, or the 0x0201 answering a 0x8201)."""
        if ack.protocol != self.protocol or ack.command.upper() != pending.name.upper():
            return False
        return pending.tag is None or ack.tag == pending.tag

    def server_reader(self) -> ServerReader:
        """What a JT/T 808 platform sends this terminal, read (``server``)."""
        return Jt808ServerReader()
