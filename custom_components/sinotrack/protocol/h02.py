"""H02 codec: framing (TCP and UDP), decoding, the replies devices expect, commands.

Reference: ``h02.md`` (sections cited as §n). Decoding of single frames is in ``h02_decode``.

Framing in one paragraph: a text frame runs from ``*`` to the first ``#``; a binary ``$`` frame
has no length field, so its end is where the next frame visibly starts (``*XX,`` or a ``$``/``X``
header of BCD digits) somewhere between 32 and 64 bytes later, which decides every frame on
its own, whatever length the device uses (32, 37, 42, 45, 46, 48, 51 …). When a binary frame
is the last thing buffered, its length cannot be known for sure: by default (``eager_binary``)
it is emitted if the buffer ends exactly at a known frame length that is not shorter than the
previous binary frame on this connection, because devices write one report per TCP segment and
waiting for the next report would delay every position by a whole reporting interval. A segment
boundary that falls exactly at such a length inside a longer frame is the one case that still
goes wrong; ``eager_binary=False`` waits for what follows (or ``flush()``) instead. A frame
shorter than the previous one is held, in case it is the start of a longer one, until more bytes
come or the connection has been quiet for a moment (``settle()``, called by the listener).

Speed: a chunk of clean frames back to back (nearly all traffic) goes through ``_fast_frames``
and the flat decoders of ``h02_fast``; anything else (garbage, cut frames, unusual layouts)
through the general loop and decoders, which alone decide the odd cases. Both give the same
messages (``tests/protocol/test_h02_fast.py``, ``scripts/fuzz_codec.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar, Final

from .codec import DEFAULT_MAX_BUFFER, Codec
from .fast import new_decoded
from .h02_decode import TextResult, decode_binary, decode_fields, fix_block
from .h02_fast import KNOTS_TO_KMH, binary_fast, fix_fast
from .h02_values import H02Status, active_conditions, battery_percent, status_info
from .model import (
    CellReport,
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    DecodeError,
    EncodedCommand,
    Heartbeat,
    Message,
    Position,
    ProtocolError,
)

__all__ = [
    "BINARY_LENGTHS",
    "KNOTS_TO_KMH",
    "H02Codec",
    "H02Status",
    "active_conditions",
    "battery_percent",
    "status_info",
]

BINARY_LENGTHS: Final = (32, 37, 42, 45, 46, 48, 51)  # §1.2, §10.14
MIN_BINARY: Final = 32
MAX_BINARY: Final = 64  # longest binary frame accepted before giving up on finding its end
X_LENGTH: Final = 32

_STAR, _DOLLAR, _X, _HASH, _COMMA = 0x2A, 0x24, 0x58, 0x23, 0x2C
_LEAD_RE = re.compile(rb"[*$X]")
_LEADS = frozenset(b"*$X")
_BIN_LEAD_RE = re.compile(rb"[$X]")
_SEPARATORS = b" \r\n\t\x00"
# BCD byte validity: both nibbles 0-9, or (for the pad byte of a 15-digit ID) the high nibble.
_BCD = bytes(1 if (b >> 4) <= 9 and (b & 15) <= 9 else 0 for b in range(256))
_BCD_HIGH = bytes(1 if (b >> 4) <= 9 else 0 for b in range(256))
_HEAD_LEN = 12  # lead byte + 11 header bytes checked (ID, time, date in either layout)
_PRINTABLE = bytes(1 if 0x21 <= b <= 0x7E and b != _COMMA else 0 for b in range(256))
_POSITION_REPLY_EXEMPT = frozenset({"V1", "ALRM", "BC"})  # V1 gets the time sync; §6.2


def _utc(now: datetime) -> datetime:
    if now.tzinfo is UTC:
        return now
    return now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _default_clock() -> datetime:
    return datetime.now(UTC)


def _stamps_of(t: datetime) -> tuple[str, str]:
    """``(yyyyMMddHHmmss, HHmmss)`` of a UTC time: the reply time stamps (§6)."""
    # %-formatting: half the cost of the f-string with six format specs.
    full = "%04d%02d%02d%02d%02d%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)  # noqa: UP031
    return full, full[8:]


_wall: tuple[int, tuple[str, str]] = (-1, ("", ""))  # one (second, stamps) for every connection


def _wall_stamps() -> tuple[str, str]:
    """The stamps of the wall clock's current second, formatted once per second for all
    connections: at one report per read, reading and formatting the clock per read was a fifth
    of the codec's time (6.0 -> 4.8 µs for a one-report read)."""
    global _wall  # noqa: PLW0603 - a cache swapped as one tuple
    second = int(time.time())
    if second != _wall[0]:
        _wall = (second, _stamps_of(datetime.fromtimestamp(second, UTC)))
    return _wall[1]


# Lead byte, 7 BCD bytes, one byte with a BCD high nibble (the pad of a 15-digit ID), 3 BCD.
_BCD_CLASS = b"".join(b"\\x%02x-\\x%02x" % (h << 4, (h << 4) | 9) for h in range(10))
_BIN_HEAD_RE = re.compile(b"[$X][" + _BCD_CLASS + b"]{7}[\\x00-\\x9f][" + _BCD_CLASS + b"]{3}")


def _bin_head(buf: bytes, j: int, n: int) -> bool | None:
    """Whether a ``$``/``X`` frame plausibly starts at ``j``: True, False, or None (too short)."""
    if n - j >= _HEAD_LEN:
        if _BIN_HEAD_RE.match(buf, j) is None:
            return False
        # A time of day where either layout puts it (5- or 8-byte ID): HH <= 23, MM, SS <= 59.
        return (buf[j + 6] <= 0x23 and buf[j + 7] <= 0x59 and buf[j + 8] <= 0x59) or (
            buf[j + 9] <= 0x23 and buf[j + 10] <= 0x59 and buf[j + 11] <= 0x59
        )
    end = n
    for k in range(j + 1, end):
        if not (_BCD_HIGH if k == j + 8 else _BCD)[buf[k]]:
            return False
    return None


def _text_head(buf: bytes, j: int, n: int) -> bool | None:
    """Whether ``*XX,`` (any two-character maker) starts at ``j``: True, False or None."""
    if j + 1 < n and not _PRINTABLE[buf[j + 1]]:
        return False
    if j + 2 < n and not _PRINTABLE[buf[j + 2]]:
        return False
    if j + 3 < n:
        return buf[j + 3] == _COMMA
    return None


def _first_lead(buf: bytes, start: int, stop: int) -> int:
    """The first ``*``, ``$`` or ``X`` in ``buf[start:stop]``, or -1 (three finds beat a regex)."""
    k = buf.find(b"*", start, stop)
    if k == start:
        return k
    end = stop if k < 0 else k
    d = buf.find(b"$", start, end)
    if d >= 0:
        end = k = d
    x = buf.find(b"X", start, end)
    return x if x >= 0 else k


def _starts_frame(buf: bytes, j: int, n: int) -> bool | None:
    return _text_head(buf, j, n) if buf[j] == _STAR else _bin_head(buf, j, n)


class H02Codec(Codec):
    """H02 for one TCP connection or UDP peer (see the module docstring for framing).

    ``ack_binary``: answer binary frames with ``R12`` (SinoTrack 4G units resend old records
    without it, §6.2). ``ack_positions``: also answer text positions other than V1 with ``R12``.
    ``clock`` gives the UTC time for replies (injectable for tests).
    """

    protocol: ClassVar[str] = "h02"
    LEAD_BYTES: ClassVar[frozenset[int]] = frozenset(b"*$X")

    def __init__(
        self,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        ack_binary: bool = True,
        ack_positions: bool = False,
        eager_binary: bool = True,
        clock: Callable[[], datetime] = _default_clock,
    ) -> None:
        super().__init__(max_buffer=max_buffer)
        self.ack_binary = ack_binary
        self.ack_positions = ack_positions
        self.eager_binary = eager_binary
        self.clock = clock
        self.x_frames = 0  # X frames seen and ignored (§5.5: unknown purpose, foreign ID)
        self._buf = b""
        self._bin_len = 0  # length of the last binary frame on this connection
        self._now: datetime | None = None  # one clock reading per feed call
        self._stamps: tuple[str, str] | None = None
        self.fast_path = True  # False: every frame through the general path (tests compare)

    # --- public API -------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Decoded | DecodeError]:
        buf = self._buf + data if self._buf else bytes(data)
        out: list[Decoded | DecodeError] = []
        self._now = self._stamps = None
        pos = self._split(buf, out, final=False)
        rest = len(buf) - pos
        if rest > self.max_buffer:
            self.stats.overflows += 1
            self.stats.errors += 1
            out.append(
                DecodeError(f"{rest} bytes buffered without a complete frame", buf[pos : pos + 64])
            )
            self._buf = b""
        else:
            self._buf = buf[pos:] if rest else b""
        return out

    def feed_datagram(self, data: bytes) -> list[Decoded | DecodeError]:
        """Every message in one UDP datagram (several frames, trailing whitespace, garbage)."""
        out: list[Decoded | DecodeError] = []
        self._now = self._stamps = None
        self._split(bytes(data), out, final=True)
        return out

    def flush(self) -> list[Decoded | DecodeError]:
        """Decode what is buffered as if the stream ended here (idle connection, close)."""
        buf, self._buf = self._buf, b""
        out: list[Decoded | DecodeError] = []
        self._now = self._stamps = None
        if buf:
            self._split(buf, out, final=True)
        return out

    def settle(self) -> list[Decoded | DecodeError]:
        """A held binary frame of a known length, once the device has gone quiet.

        A frame shorter than the previous binary frame may be the start of a longer one cut
        at a segment boundary; a quiet moment with nothing following says it is whole.
        """
        if not self._buf or not self.eager_binary:
            return []
        previous, self._bin_len = self._bin_len, 0  # the length rule, without the previous frame
        out = self.feed(b"")
        if not out:
            self._bin_len = previous
        return out

    # --- framing ----------------------------------------------------------------------------

    def _split(self, buf: bytes, out: list[Decoded | DecodeError], *, final: bool) -> int:
        """Emit every complete frame of ``buf``; returns where the unfinished rest starts."""
        stats = self.stats
        start, errors = len(out), stats.errors
        pos = self._fast_frames(buf, out) if self.fast_path else 0
        if pos < len(buf):
            pos = self._split_frames(buf, pos, out, final)
        stats.messages += len(out) - start - (stats.errors - errors)
        return pos

    def _split_frames(
        self, buf: bytes, pos: int, out: list[Decoded | DecodeError], final: bool
    ) -> int:
        """The general loop, from ``pos`` on: every case of the module docstring."""
        n = len(buf)
        stats = self.stats
        find = buf.find
        printable = _PRINTABLE
        all_ascii = buf.isascii()
        while pos < n:
            lead = buf[pos]
            if lead == _STAR:
                end = find(b"#", pos + 1)
                if (  # the usual case, checked inline: a clean "*XX,…#" frame
                    end > pos + 3
                    and buf[pos + 3] == _COMMA
                    and printable[buf[pos + 1]]
                    and printable[buf[pos + 2]]
                    and find(b"*", pos + 1, end) < 0
                    and (all_ascii or buf[pos:end].isascii())
                ):
                    frame = buf[pos : end + 1]
                    pos = end + 1
                    if pos < n and buf[pos] in _SEPARATORS:
                        pos += 1
                        while pos < n and buf[pos] in _SEPARATORS:
                            pos += 1
                    stats.frames += 1
                    self._decode_text(frame, frame[1:-1].decode("ascii"), out)
                    continue
                head = _text_head(buf, pos, n)
                if head is False:
                    pos = self._skip(buf, pos, pos + 1)
                    continue
                cut = self._text_cut(buf, pos, n if end < 0 else end, final)
                if cut < 0:  # undecidable until more bytes arrive
                    if final:
                        self._error(out, "truncated frame", buf[pos:])
                        return n
                    return pos
                if cut:  # a truncated text frame followed by another frame
                    self._error(out, "truncated text frame", buf[pos:cut])
                    pos = cut
                    continue
                if end < 0:
                    if final:
                        self._error(out, "text frame without '#'", buf[pos:])
                        return n
                    return pos
                frame = buf[pos : end + 1]
                pos = end + 1
                while pos < n and buf[pos] in _SEPARATORS:
                    pos += 1
                stats.frames += 1
                self._decode_text(frame, frame[1:-1].decode("utf-8", "replace"), out)
            elif lead in (_DOLLAR, _X):
                head = _bin_head(buf, pos, n)
                if head is False:
                    pos = self._skip(buf, pos, pos + 1)
                    continue
                if n - pos < MIN_BINARY:
                    if final:
                        self._error(out, "truncated binary frame", buf[pos:])
                        return n
                    return pos
                if lead == _X:
                    stats.frames += 1
                    self.x_frames += 1
                    pos += X_LENGTH
                    continue
                length = self._binary_length(buf, pos, n, final)
                if not length:
                    return pos
                frame = buf[pos : pos + length]
                pos += length
                self._bin_len = length
                stats.frames += 1
                self._decode_binary(frame, out)
            else:
                m = _LEAD_RE.search(buf, pos)
                pos = self._skip(buf, pos, m.start() if m else n)
        return pos

    def _fast_frames(self, buf: bytes, out: list[Decoded | DecodeError]) -> int:
        """Frame and decode the usual chunk: clean text and binary frames back to back.

        Returns where it stopped: the end of ``buf``, or the first thing that needs a decision of
        the general loop below (garbage, a cut or malformed frame, an ``X`` frame, a binary frame
        whose end is not plainly followed by the next frame, a report the fast decoders leave to
        the general ones). It takes a frame only where the general loop would take the same one
        and decode it the same (``tests/protocol/test_h02_fast.py``); a binary frame's own header
        is checked by ``binary_fast``, which validates the same digits and time of day.
        """
        n = len(buf)
        text = buf.decode("latin-1")  # one str for the chunk, same indices as buf
        find = text.find
        printable = _PRINTABLE
        bin_len = self._bin_len
        pos = frames = 0
        append = out.append
        while pos < n:
            lead = buf[pos]
            if lead == _STAR:
                end = find("#", pos + 1)
                body = text[pos + 1 : end]
                if (
                    end < pos + 4
                    or body[2] != ","
                    or "*" in body
                    or not body.isascii()
                    or not printable[buf[pos + 1]]
                    or not printable[buf[pos + 2]]
                ):
                    break
                frame = buf[pos : end + 1]
                pos = end + 1
                frames += 1
                f = body.split(",")
                if len(f) > 12 and f[2] == "V1" and (fix := fix_fast(f, "V1", body)):
                    append(new_decoded(fix, self._time_sync(f[1], "V1"), frame))
                else:
                    self._decode_text(frame, body, out, f)
            elif lead == _DOLLAR:
                # The frame ends at the first lead byte 32 bytes on or later, if it starts a
                # frame (``_binary_length``); the cases that need more thought are left to it.
                j = pos + MIN_BINARY
                if j >= n or buf[j] not in _LEADS:
                    j = _first_lead(buf, j, min(n, pos + MAX_BINARY + 1))
                if j < 0:  # the last frame buffered
                    if not self._takes_last(n - pos, bin_len):
                        break
                    j = n
                elif _starts_frame(buf, j, n) is not True:
                    break
                frame = buf[pos:j]
                fix = binary_fast(frame)
                if fix is None:
                    break
                bin_len = j - pos
                pos = j
                frames += 1
                append(
                    new_decoded(fix, self._r12(fix.device_id) if self.ack_binary else None, frame)
                )
            elif lead in _SEPARATORS:
                pos += 1
            else:
                break
        self.stats.frames += frames
        self._bin_len = bin_len
        return pos

    def _skip(self, buf: bytes, start: int, end: int) -> int:
        """Drop garbage; separators (CR, LF, spaces) between frames are not counted."""
        if end - start == 1:
            if buf[start] not in _SEPARATORS:
                self.stats.bytes_skipped += 1
        else:
            self.stats.bytes_skipped += len(buf[start:end].strip(_SEPARATORS))
        return end

    def _text_cut(self, buf: bytes, pos: int, end: int, final: bool) -> int:
        """Where another frame cuts short the text frame at ``pos`` (before ``end``).

        0: not cut; -1: cannot tell until more bytes arrive. Another ``*XX,`` means the first
        frame was truncated; so do binary bytes with a valid ``$``/``X`` header in it.
        """
        n = len(buf)
        cut = 0
        j = buf.find(b"*", pos + 1, end)
        while j >= 0:
            head = _text_head(buf, j, n)
            if head:
                cut = end = j
                break
            if head is None and not final:
                return -1
            j = buf.find(b"*", j + 1, end)
        if buf[pos:end].isascii():
            return cut
        m = _BIN_LEAD_RE.search(buf, pos + 1, end)
        while m:
            j = m.start()
            head = _bin_head(buf, j, n)
            if head:
                return j
            if head is None and not final:
                return -1
            m = _BIN_LEAD_RE.search(buf, j + 1, end)
        return cut

    def _binary_length(self, buf: bytes, pos: int, n: int, final: bool) -> int:
        """The length of the ``$`` frame at ``pos``, or 0 to wait for more data."""
        avail = n - pos
        scan_end = pos + min(avail, MAX_BINARY + 1)
        m = _LEAD_RE.search(buf, pos + MIN_BINARY, scan_end)
        while m:
            j = m.start()
            verdict = _starts_frame(buf, j, n)
            if verdict:
                return j - pos
            if verdict is None:  # the buffer ends inside the next frame's header
                if final or (self.eager_binary and j - pos in BINARY_LENGTHS):
                    return j - pos
                return 0
            m = _LEAD_RE.search(buf, j + 1, scan_end)
        if avail > MAX_BINARY:  # no frame follows within reach: garbage after it
            return self._bin_len or MIN_BINARY
        if final:
            return avail
        if self._takes_last(avail, self._bin_len):
            return avail
        return 0

    def _takes_last(self, length: int, previous: int) -> bool:
        """The eager rule (module docstring) for a binary frame that ends the buffer: taken if
        its length is a known one, not shorter than the previous binary frame's."""
        return self.eager_binary and length in BINARY_LENGTHS and length >= previous

    # --- decoding and replies -----------------------------------------------------------------

    def _error(self, out: list[Decoded | DecodeError], reason: str, raw: bytes) -> None:
        self.stats.errors += 1
        out.append(DecodeError(reason, raw))

    def _decode_text(
        self,
        frame: bytes,
        body: str,
        out: list[Decoded | DecodeError],
        f: list[str] | None = None,
    ) -> None:
        """The general path for a text frame; ``body`` is between ``*`` and ``#``, ``f`` (if
        given) the same split on commas."""
        if f is None:
            f = body.split(",")
        try:
            if len(f) > 2 and f[2] == "V1":  # nearly every report: straight to the fast path
                result: TextResult = fix_fast(f, "V1", body) or fix_block(
                    f, 3, "V1", f[1], " " in body
                )
            else:
                result = decode_fields(f, body, self._clock_now)
        except (ValueError, IndexError, OverflowError) as err:  # ProtocolError is a ValueError
            self._error(out, str(err) or type(err).__name__, frame)
            return
        if type(result) is tuple:  # a BC batch of stored positions
            out.extend(new_decoded(point, None, frame) for point in result)
            return
        out.append(new_decoded(result, self._text_reply(result, frame), frame))  # type: ignore[arg-type]

    def _decode_binary(self, frame: bytes, out: list[Decoded | DecodeError]) -> None:
        try:
            position = decode_binary(frame)
        except (ValueError, IndexError, OverflowError) as err:
            self._error(out, str(err) or type(err).__name__, frame)
            return
        out.append(
            new_decoded(position, self._r12(position.device_id) if self.ack_binary else None, frame)
        )

    def _text_reply(self, message: Message, frame: bytes) -> bytes | None:
        """§6.1: V1/NBR time sync, HTBT/V0 echo, R12 for other positions when enabled."""
        kind = type(message)
        if kind is Position:
            mtype = message.message_type  # type: ignore[union-attr]
            if mtype == "V1":
                return self._time_sync(message.device_id, "V1")
            if self.ack_positions and mtype not in _POSITION_REPLY_EXEMPT:
                return self._r12(message.device_id)
            return None
        if kind is CommandAck:
            if self.ack_positions and message.position is not None:  # type: ignore[union-attr]
                return self._r12(message.device_id)
            return None
        if kind is CellReport and message.message_type == "NBR":  # type: ignore[union-attr]
            return self._time_sync(message.device_id, "NBR")
        if kind is Heartbeat and message.message_type in ("HTBT", "V0"):  # type: ignore[union-attr]
            # The message up to the first comma after the type, plus '#'.
            head = frame.rstrip(_SEPARATORS).rstrip(b"#").split(b",", 3)
            return b",".join(head[:3]) + b"#"
        return None

    def _time_sync(self, device_id: str, word: str) -> bytes:
        """``V4,<word>,<yyyyMMddHHmmss>``: the time sync V1 and NBR reports expect (§6.1)."""
        stamp = (self._stamps or self._stamp())[0]
        return f"*HQ,{device_id},V4,{word},{stamp}#".encode("ascii", "replace")

    def _r12(self, device_id: str) -> bytes:
        """``R12,<HHmmss>``: the acknowledgement of a binary frame or another position (§6.2)."""
        stamp = (self._stamps or self._stamp())[1]
        return f"*HQ,{device_id},R12,{stamp}#".encode("ascii", "replace")

    def _clock_now(self) -> datetime:
        if self._now is None:
            self._now = _utc(self.clock())
        return self._now

    def _stamp(self) -> tuple[str, str]:
        """``(yyyyMMddHHmmss, HHmmss)`` in UTC, read once per feed call."""
        if self._stamps is None:
            if self.clock is _default_clock:
                self._stamps = _wall_stamps()
            else:
                self._stamps = _stamps_of(self._clock_now())
        return self._stamps

    # --- commands ---------------------------------------------------------------------------

    def encode(self, device_id: str, command: Command, now: datetime) -> EncodedCommand:
        """A command frame (§7); its time tag is ``now`` in UTC as ``HHMMSS``.

        ENGINE_STOP/RESUME ``S20,tag,1,1`` / ``1,0``; REQUEST_POSITION ``CR,tag``; SET_INTERVAL
        ``D1,tag,<s>`` (``text="S71"`` selects ``S71,tag,22,<s>``, which the ST-906L ignores);
        ARM ``SCF,tag,0,0``, DISARM ``SCF,tag,1,1``; REBOOT ``CQ,tag``.
        RAW: ``text`` is the body after the ID, sent verbatim as ``*HQ,<id>,<text>#``; a field
        written ``HHMMSS`` is replaced by the time tag (``"S20,HHMMSS,1,1"``). A text that is
        already a whole ``*…#`` frame is sent as is. The ack's command word and tag come from it.
        """
        _check_text(device_id, "device id", allow_empty=True, forbid="*#, ")
        tag = _utc(now).strftime("%H%M%S")
        kind = command.kind
        params: tuple[str, ...]
        if kind is CommandKind.ENGINE_STOP:
            word, params = "S20", ("1", "1")
        elif kind is CommandKind.ENGINE_RESUME:
            word, params = "S20", ("1", "0")
        elif kind is CommandKind.REQUEST_POSITION:
            word, params = "CR", ()
        elif kind is CommandKind.SET_INTERVAL:
            return self.encode_interval(
                device_id, command.interval_s, now, word=command.text or "D1", command=command
            )
        elif kind is CommandKind.ARM:
            word, params = "SCF", ("0", "0")
        elif kind is CommandKind.DISARM:
            word, params = "SCF", ("1", "1")
        elif kind is CommandKind.REBOOT:
            word, params = "CQ", ()
        elif kind is CommandKind.RAW:
            return _encode_raw(device_id, command, tag)
        else:  # pragma: no cover - every CommandKind is handled above
            raise ProtocolError(f"unsupported command {kind}")
        return _encoded(command, device_id, word, tag, params)

    def encode_interval(
        self,
        device_id: str,
        interval_s: int | None,
        now: datetime,
        *,
        word: str = "D1",
        command: Command | None = None,
    ) -> EncodedCommand:
        """Upload interval: ``D1,tag,<s>`` (TianQin style, the default) or ``S71,tag,22,<s>``."""
        if not isinstance(interval_s, int) or not 1 <= interval_s <= 65535:
            raise ProtocolError(f"interval must be 1-65535 s, not {interval_s!r}")
        word = word.upper()
        if word == "D1":
            params: tuple[str, ...] = (str(interval_s),)
        elif word == "S71":
            params = ("22", str(interval_s))
        else:
            raise ProtocolError(f"interval command must be D1 or S71, not {word!r}")
        command = command or Command(CommandKind.SET_INTERVAL, interval_s=interval_s, text=word)
        _check_text(device_id, "device id", allow_empty=True, forbid="*#, ")
        return _encoded(command, device_id, word, _utc(now).strftime("%H%M%S"), params)

    def matches(self, pending: EncodedCommand, ack: CommandAck) -> bool:
        """Whether ``ack`` answers ``pending``: same command word and, when both carry one,
        the same time tag (short echoes such as ``V4,CR`` carry none and match by word)."""
        if ack.protocol != self.protocol or ack.command.upper() != pending.name.upper():
            return False
        if pending.tag is None or ack.tag is None:
            return True
        return ack.tag == pending.tag or pending.tag in ack.params


def _check_text(text: str, what: str, *, allow_empty: bool = False, forbid: str = "*#") -> None:
    """Command parts must not break the frame: printable ASCII without ``*``/``#``."""
    if (not text and not allow_empty) or not text.isascii() or not text.isprintable():
        raise ProtocolError(f"{what} must be printable ASCII: {text!r}")
    if any(ch in text for ch in forbid):
        raise ProtocolError(f"{what} must not contain any of {forbid!r}: {text!r}")


def _encoded(
    command: Command, device_id: str, word: str, tag: str | None, params: tuple[str, ...]
) -> EncodedCommand:
    fields = [f"*HQ,{device_id}", word]
    if tag is not None:
        fields.append(tag)
    fields.extend(params)
    data = (",".join(fields) + "#").encode("ascii")
    return EncodedCommand(command, data, word, tag, {"device_id": device_id})


def _encode_raw(device_id: str, command: Command, tag: str) -> EncodedCommand:
    text = (command.text or "").strip()
    if text.startswith("*") and text.endswith("#") and len(text) > 2:
        _check_text(text[1:-1], "raw command")
        parts = text[1:-1].split(",")
        word = parts[2].strip().upper() if len(parts) > 2 else ""
        raw_tag = parts[3] if len(parts) > 3 and len(parts[3]) == 6 and parts[3].isdigit() else None
        return EncodedCommand(
            command, text.encode("ascii"), word, raw_tag, {"device_id": device_id}
        )
    _check_text(text, "raw command")
    parts = text.split(",")
    used_tag = None
    for k, part in enumerate(parts):
        if part.strip().upper() == "HHMMSS":
            parts[k] = used_tag = tag
    if used_tag is None:  # a tag the user wrote themselves still identifies the ack
        used_tag = next((p for p in parts[1:] if len(p) == 6 and p.isdigit()), None)
    word = parts[0].strip().upper()
    if not word:
        raise ProtocolError("raw command without a command word")
    data = f"*HQ,{device_id},{','.join(parts)}#".encode("ascii", "replace")
    return EncodedCommand(command, data, word, used_tag, {"device_id": device_id})
