"""H02 framing: a TCP byte stream (or one UDP datagram) cut into frames (docs/protocol/h02.md §1).

A text frame runs from ``*`` to the first ``#``. A binary ``$`` frame has no length field, so
its end is where the next frame visibly starts (``*XX,`` or a ``$``/``X`` header of BCD digits)
somewhere between 32 and 64 bytes later, which decides every frame on its own, whatever length
the device uses (32, 37, 42, 45, 46, 48, 51 …). When a binary frame is the last thing
buffered, its length cannot be known for sure: by default (``eager_binary``) it is taken if the
buffer ends exactly at a known frame length that is not shorter than the previous binary frame
on this connection, because devices write one report per TCP segment and waiting for the next
report would delay every position by a whole reporting interval. A segment boundary that falls
exactly at such a length inside a longer frame is the one case that still goes wrong;
``eager_binary=False`` waits for what follows (or the end of the stream) instead. A frame
shorter than the previous one is held, in case it is the start of a longer one, until more
bytes come or the connection has been quiet for a moment (``H02Codec.settle``).
"""

from __future__ import annotations

import re
from typing import Final

from ..model import CodecStats, DecodeError

BINARY_LENGTHS: Final = (32, 37, 42, 45, 46, 48, 51)  # §1.2
MIN_BINARY: Final = 32
MAX_BINARY: Final = 64  # longest binary frame accepted before giving up on finding its end
X_LENGTH: Final = 32

_STAR, _DOLLAR, _X, _COMMA = 0x2A, 0x24, 0x58, 0x2C
_LEAD_RE: Final = re.compile(rb"[*$X]")
_BIN_LEAD_RE: Final = re.compile(rb"[$X]")
SEPARATORS: Final = b" \r\n\t\x00"
# BCD byte validity: both nibbles 0-9, or (for the pad byte of a 15-digit ID) the high nibble.
_BCD: Final = bytes(1 if (b >> 4) <= 9 and (b & 15) <= 9 else 0 for b in range(256))
_BCD_HIGH: Final = bytes(1 if (b >> 4) <= 9 else 0 for b in range(256))
_HEAD_LEN: Final = 12  # lead byte + 11 header bytes checked (ID, time, date in either layout)
_PRINTABLE: Final = bytes(1 if 0x21 <= b <= 0x7E and b != _COMMA else 0 for b in range(256))
# Lead byte, 7 BCD bytes, one byte with a BCD high nibble (the pad of a 15-digit ID), 3 BCD.
_BCD_CLASS: Final = b"".join(b"\\x%02x-\\x%02x" % (h << 4, (h << 4) | 9) for h in range(10))
_BIN_HEAD_RE: Final = re.compile(
    b"[$X][" + _BCD_CLASS + b"]{7}[\\x00-\\x9f][" + _BCD_CLASS + b"]{3}"
)

Frame = bytes | DecodeError  # a whole frame (text or binary), or a piece that cannot be one


def bin_head(buf: bytes, j: int, n: int) -> bool | None:
    """Whether a ``$``/``X`` frame plausibly starts at ``j``: True, False, or None (too short)."""
    if n - j >= _HEAD_LEN:
        if _BIN_HEAD_RE.match(buf, j) is None:
            return False
        # A time of day where either layout puts it (5- or 8-byte ID): HH <= 23, MM, SS <= 59.
        return (buf[j + 6] <= 0x23 and buf[j + 7] <= 0x59 and buf[j + 8] <= 0x59) or (
            buf[j + 9] <= 0x23 and buf[j + 10] <= 0x59 and buf[j + 11] <= 0x59
        )
    for k in range(j + 1, n):
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


def _starts_frame(buf: bytes, j: int, n: int) -> bool | None:
    return _text_head(buf, j, n) if buf[j] == _STAR else bin_head(buf, j, n)


class Framer:
    """The framing state of one connection: the previous binary frame's length, X frames seen."""

    __slots__ = ("bin_len", "eager_binary", "x_frames")

    def __init__(self, *, eager_binary: bool = True) -> None:
        self.eager_binary = eager_binary
        self.bin_len = 0  # length of the last binary frame on this connection
        self.x_frames = 0  # X frames seen and ignored (§1.4: unknown purpose, foreign ID)

    def split(self, buf: bytes, stats: CodecStats, *, final: bool) -> tuple[list[Frame], int]:
        """Every complete frame of ``buf`` and where the unfinished rest starts.

        ``final``: nothing follows (a datagram, a closed stream), so a frame cut short is an
        error rather than something to wait for.
        """
        out: list[Frame] = []
        n = len(buf)
        pos = 0
        all_ascii = buf.isascii()  # then no binary frame can hide inside a text frame
        while pos < n:
            lead = buf[pos]
            if lead == _STAR:
                if _text_head(buf, pos, n) is False:
                    pos = self._skip(buf, pos, pos + 1, stats)
                    continue
                end = buf.find(b"#", pos + 1)
                cut = self._text_cut(buf, pos, n if end < 0 else end, final, all_ascii)
                if cut < 0 or (not cut and end < 0):  # not decidable until more bytes arrive
                    if final:
                        self._error(out, stats, "text frame without '#'", buf[pos:])
                        return out, n
                    return out, pos
                if cut:  # a truncated text frame followed by another frame
                    self._error(out, stats, "truncated text frame", buf[pos:cut])
                    pos = cut
                    continue
                out.append(buf[pos : end + 1])
                stats.frames += 1
                pos = end + 1
                while pos < n and buf[pos] in SEPARATORS:
                    pos += 1
            elif lead in (_DOLLAR, _X):
                if bin_head(buf, pos, n) is False:
                    pos = self._skip(buf, pos, pos + 1, stats)
                    continue
                if n - pos < MIN_BINARY:
                    if final:
                        self._error(out, stats, "truncated binary frame", buf[pos:])
                        return out, n
                    return out, pos
                if lead == _X:
                    stats.frames += 1
                    self.x_frames += 1
                    pos += X_LENGTH
                    continue
                length = self._binary_length(buf, pos, n, final)
                if not length:
                    return out, pos
                out.append(buf[pos : pos + length])
                stats.frames += 1
                pos += length
                self.bin_len = length
            else:
                m = _LEAD_RE.search(buf, pos)
                pos = self._skip(buf, pos, m.start() if m else n, stats)
        return out, pos

    @staticmethod
    def _skip(buf: bytes, start: int, end: int, stats: CodecStats) -> int:
        """Drop garbage; separators (CR, LF, spaces) between frames are not counted."""
        if end - start == 1:
            if buf[start] not in SEPARATORS:
                stats.bytes_skipped += 1
        else:
            stats.bytes_skipped += len(buf[start:end].strip(SEPARATORS))
        return end

    @staticmethod
    def _error(out: list[Frame], stats: CodecStats, reason: str, raw: bytes) -> None:
        stats.errors += 1
        out.append(DecodeError(reason, raw))

    @staticmethod
    def _text_cut(buf: bytes, pos: int, end: int, final: bool, all_ascii: bool) -> int:
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
        if all_ascii or buf[pos:end].isascii():
            return cut
        m = _BIN_LEAD_RE.search(buf, pos + 1, end)
        while m:
            j = m.start()
            head = bin_head(buf, j, n)
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
            return self.bin_len or MIN_BINARY
        if final or self._takes_last(avail):
            return avail
        return 0

    def _takes_last(self, length: int) -> bool:
        """The eager rule (module docstring) for a binary frame that ends the buffer: taken if
        its length is a known one, not shorter than the previous binary frame's."""
        return self.eager_binary and length in BINARY_LENGTHS and length >= self.bin_len
