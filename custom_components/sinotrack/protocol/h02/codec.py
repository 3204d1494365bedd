"""The H02 codec of one connection: framing, decoding, replies and commands tied together.

Reference: docs/protocol/h02.md. ``framing`` cuts the stream, ``decode_text`` and
``decode_binary`` turn frames into messages, ``replies`` answers them, ``commands`` encodes
what the integration sends. The codec keeps the per-connection state: the buffer, the framing
state and the tracker's dialect (classic or 4G, §4.3), which decides how status words are read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar, Final

from ..codec import DEFAULT_MAX_BUFFER, Codec, ServerReader, unframed_rest
from ..model import (
    Command,
    CommandAck,
    Decoded,
    DecodeError,
    EncodedCommand,
    Message,
    Position,
)
from . import commands
from .decode_binary import decode_binary
from .decode_text import FOUR_G_TYPES, decode_text
from .framing import Frame, Framer
from .replies import Stamps, reply_to, stamps_of, wall_stamps
from .server import H02ServerReader
from .values import CLASSIC, FOUR_G

DIALECTS: Final = frozenset({"classic", "4g"})
_STAR: Final = 0x2A


def _default_clock() -> datetime:
    return datetime.now(UTC)


class H02Codec(Codec):
    """H02 for one TCP connection or UDP peer.

    ``r12``: answer positions other than V1, acknowledgements with a fix and binary frames with
    ``R12`` (§8; SinoTrack 4G units resend old records without it). ``eager_binary``: take a
    binary frame that ends the buffer at a known length at once (``framing``). ``clock`` gives
    the UTC time for replies (injectable for tests).

    ``dialect``: ``None`` until known; ``"4g"`` once a V6 or V8 report is decoded; the owner may
    set ``"classic"`` or ``"4g"`` (what it remembers of the tracker). Status words of V6/V8 are
    always read with the 4G table, of other frames with it iff the dialect is ``"4g"``; the
    immobilizer restore follows the dialect too (§9.2).
    """

    protocol: ClassVar[str] = "h02"
    LEAD_BYTES: ClassVar[frozenset[int]] = frozenset(b"*$X")

    def __init__(
        self,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        r12: bool = True,
        eager_binary: bool = True,
        clock: Callable[[], datetime] = _default_clock,
    ) -> None:
        super().__init__(max_buffer=max_buffer)
        self.r12 = r12
        self.clock = clock
        self._framer = Framer(eager_binary=eager_binary)
        self._dialect: str | None = None
        self._buf = b""
        self._now: datetime | None = None  # one clock reading per feed call
        self._stamps: Stamps | None = None

    # --- state ------------------------------------------------------------------------------

    @property
    def dialect(self) -> str | None:
        return self._dialect

    @dialect.setter
    def dialect(self, value: str | None) -> None:
        if value is not None and value not in DIALECTS:
            raise ValueError(f"dialect must be 'classic', '4g' or None, not {value!r}")
        self._dialect = value

    @property
    def eager_binary(self) -> bool:
        return self._framer.eager_binary

    @eager_binary.setter
    def eager_binary(self, value: bool) -> None:
        self._framer.eager_binary = value

    @property
    def x_frames(self) -> int:
        """X frames seen and ignored (§1.4)."""
        return self._framer.x_frames

    @property
    def buffered(self) -> int:
        return len(self._buf)

    # --- bytes in -----------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Decoded | DecodeError]:
        buf = self._buf + data if self._buf else bytes(data)
        frames, pos = self._framer.split(buf, self.stats, final=False)
        out = self._decode(frames)
        self._buf = unframed_rest(buf, pos, self.max_buffer, self.stats, out)
        return out

    def feed_datagram(self, data: bytes) -> list[Decoded | DecodeError]:
        """Every message in one UDP datagram (several frames, trailing whitespace, garbage)."""
        return self._decode(self._framer.split(bytes(data), self.stats, final=True)[0])

    def flush(self) -> list[Decoded | DecodeError]:
        """Decode what is buffered as if the stream ended here (idle connection, close)."""
        buf, self._buf = self._buf, b""
        if not buf:
            return []
        return self._decode(self._framer.split(buf, self.stats, final=True)[0])

    def settle(self) -> list[Decoded | DecodeError]:
        """A held binary frame of a known length, once the device has gone quiet.

        A frame shorter than the previous binary frame may be the start of a longer one cut
        at a segment boundary; a quiet moment with nothing following says it is whole.
        """
        framer = self._framer
        if not self._buf or not framer.eager_binary:
            return []
        previous, framer.bin_len = framer.bin_len, 0  # the length rule, without the previous
        out = self.feed(b"")
        if not out:
            framer.bin_len = previous
        return out

    def _decode(self, frames: list[Frame]) -> list[Decoded | DecodeError]:
        """Decode the frames of one feed call; a bad one is a counted ``DecodeError``."""
        self._now = self._stamps = None
        out: list[Decoded | DecodeError] = []
        stats = self.stats
        decoded = 0
        for frame in frames:
            if isinstance(frame, DecodeError):  # counted by the framing
                out.append(frame)
                continue
            try:
                result = self._decode_frame(frame)
            except (ValueError, IndexError, OverflowError) as err:  # ProtocolError is a ValueError
                stats.errors += 1
                out.append(DecodeError(str(err) or type(err).__name__, frame))
                continue
            message: Message
            if isinstance(result, tuple):  # a BC batch: one reply, with its last point
                *points, message = result
                out.extend(Decoded(point, None, frame) for point in points)
                decoded += len(points)
            else:
                message = result
                if type(message) is Position and message.message_type in FOUR_G_TYPES:
                    self._dialect = "4g"
            reply = reply_to(message, frame, r12=self.r12, stamps=self._stamp)
            out.append(Decoded(message, reply, frame))
            decoded += 1
        stats.messages += decoded
        return out

    def _decode_frame(self, frame: bytes) -> Message | tuple[Position, ...]:
        """One frame, read with the status table of this connection's dialect."""
        four_g = self._dialect == "4g"
        if frame[0] == _STAR:
            body = frame[1:-1]
            text = body.decode("ascii") if body.isascii() else body.decode("utf-8", "replace")
            return decode_text(text, four_g, self._clock_now)
        return decode_binary(frame, FOUR_G if four_g else CLASSIC)

    def _clock_now(self) -> datetime:
        if self._now is None:
            now = self.clock()
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
            self._now = now if now.tzinfo is UTC else now.astimezone(UTC)
        return self._now

    def _stamp(self) -> Stamps:
        """``(yyyyMMddHHmmss, HHmmss)`` in UTC, read once per feed call."""
        if self._stamps is None:
            if self.clock is _default_clock:
                self._stamps = wall_stamps()
            else:
                self._stamps = stamps_of(self._clock_now())
        return self._stamps

    # --- commands -----------------------------------------------------------------------------

    def encode(self, device_id: str, command: Command, now: datetime) -> EncodedCommand:
        """A command frame for this tracker (``commands.encode``, with this codec's dialect)."""
        return commands.encode(device_id, command, now, self._dialect)

    def matches(self, pending: EncodedCommand, ack: CommandAck) -> bool:
        return commands.matches(pending, ack)

    def server_reader(self) -> ServerReader:
        """What an H02 server sends this device, read (``server``)."""
        return H02ServerReader()
