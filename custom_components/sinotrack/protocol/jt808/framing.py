"""JT/T 808 framing: a stream cut into checked frames; frames built (docs/protocol/jt808.md §1-3).

``7E | header | body | XOR | 7E``, with ``7D 02``/``7D 01`` escaping everything between the flags.
``split`` turns a buffer into ``Frame`` objects (un-escaped, header read, checksum and length
checked) and ``DecodeError`` values, in stream order, and counts what it refuses. What the frames
mean is the codec's and the decoders' business.
"""

from __future__ import annotations

import struct
from typing import Final

from ..model import CodecStats, DecodeError, ProtocolError

FLAG: Final = 0x7E
_FLAG = b"\x7e"
_ESC = b"\x7d"
ATTR_2019: Final = 0x4000
ATTR_SPLIT: Final = 0x2000
ATTR_CRYPT: Final = 0x1C00
ATTR_LENGTH: Final = 0x03FF
HEAD_2013: Final = 12  # ID, attributes, BCD[6] terminal ID, serial
HEAD_2019: Final = 17  # ... plus the version byte, and BCD[10] instead of BCD[6]
SPLIT_FIELDS: Final = 4  # total packets and packet index, when attribute bit 13 is set
MIN_CONTENT: Final = HEAD_2013 + 1  # the shortest header and the checksum

HEAD: Final = struct.Struct(">HH")

_FOLDS: dict[int, tuple[tuple[int, int], ...]] = {}


def _folds(size: int) -> tuple[tuple[int, int], ...]:
    """Shift/mask pairs that XOR the upper half of a ``size``-byte integer onto its lower."""
    steps = []
    while size > 1:
        half = (size + 1) >> 1
        steps.append((8 * half, (1 << (8 * half)) - 1))
        size = half
    return tuple(steps)


def xor(data: bytes) -> int:
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
    """Header, body and checksum as sent between the flags (§1)."""
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
        head = HEAD.pack(message_id, len(body))
    else:
        head = HEAD.pack(message_id, len(body) | ATTR_2019) + bytes((version,))
    content = head + id_bytes + (serial & 0xFFFF).to_bytes(2) + body
    return _FLAG + escape(content + bytes((xor(content),))) + _FLAG


class Frame:
    """One checked frame: its header fields, body and wire bytes (built for every frame)."""

    __slots__ = (
        "attr",
        "bad_checksum",
        "body",
        "content",
        "id_bytes",
        "message_id",
        "raw",
        "serial",
        "size",
        "version",
    )

    def __init__(  # noqa: PLR0917 - built for every frame
        self,
        message_id: int,
        attr: int,
        id_bytes: bytes,
        version: int | None,  # 2019 protocol version byte; None: 2011/2013
        serial: int,
        size: int,  # header bytes, sub-package fields included
        content: bytes,  # un-escaped header, body and checksum
        raw: bytes,  # as received, flags included
        bad_checksum: bool,  # only when the codec tolerates it for this message ID
    ) -> None:
        self.message_id = message_id
        self.attr = attr
        self.id_bytes = id_bytes
        self.version = version
        self.serial = serial
        self.size = size
        self.content = content
        self.raw = raw
        self.bad_checksum = bad_checksum
        self.body = content[size:-1]


def _refuse(out: list[Frame | DecodeError], stats: CodecStats, reason: str, raw: bytes) -> None:
    stats.errors += 1
    out.append(DecodeError(reason, raw))


def _check(  # noqa: PLR0917 - once per frame
    buf: bytes,
    start: int,
    end: int,
    out: list[Frame | DecodeError],
    stats: CodecStats,
    tolerate: frozenset[int],
) -> bool:
    """Check ``buf[start:end + 1]`` (flags included); False if it is not shaped like a frame
    (bad escape, too short), True if it is, whether it passes its checks or not (§3).

    The header edition is attribute bit 14, unless the body-length field fits only the
    2013 header: then the bit is a vendor's and the frame is 2013 (§2).
    """
    content = buf[start + 1 : end]
    raw = buf[start : end + 1]
    if 0x7D in content:
        unescaped = unescape(content)
        if unescaped is None:
            _refuse(out, stats, "invalid escape (7D not followed by 01 or 02)", raw)
            return False
        content = unescaped
    size = len(content)
    if size < MIN_CONTENT:
        _refuse(out, stats, f"frame of {size} bytes is too short", raw)
        return False
    message_id, attr = HEAD.unpack_from(content)
    length = attr & ATTR_LENGTH
    extra = SPLIT_FIELDS if attr & ATTR_SPLIT else 0
    if (
        attr & ATTR_2019
        and size - 1 - HEAD_2019 - extra != length
        and size - 1 - HEAD_2013 - extra == length
    ):
        attr &= ~ATTR_2019  # fits only the 2013 header: decode it as 2013
    head = (HEAD_2019 if attr & ATTR_2019 else HEAD_2013) + extra
    if size < head + 1:
        _refuse(out, stats, f"frame of {size} bytes is too short", raw)
        return False
    bad_checksum = xor(content) != 0  # header, body and checksum XOR to 0 when it is right
    if bad_checksum:
        stats.checksum_errors += 1
        if message_id not in tolerate:
            _refuse(out, stats, f"bad checksum (message 0x{message_id:04X})", raw)
            return True
    if size - 1 - head != length:
        stats.length_errors += 1
        reason = f"body-length field {length}, body {size - 1 - head} bytes"
        _refuse(out, stats, f"{reason} (message 0x{message_id:04X})", raw)
        return True
    if attr & ATTR_2019:
        version: int | None = content[4]
        id_bytes = content[5:15]
    else:
        version = None
        id_bytes = content[4:10]
    serial = int.from_bytes(content[head - extra - 2 : head - extra])
    out.append(Frame(message_id, attr, id_bytes, version, serial, head, content, raw, bad_checksum))
    return True


def split(
    buf: bytes,
    out: list[Frame | DecodeError],
    stats: CodecStats,
    *,
    final: bool,
    tolerate: frozenset[int] = frozenset(),
) -> int:
    """Append every complete frame of ``buf`` to ``out``; returns where the unfinished rest
    starts. ``final``: the stream ends here, so an unfinished frame is an error.

    ``tolerate``: message IDs whose bad checksum is counted but let through (``bad_checksum``).
    A ``7E`` that does not close something shaped like a frame may open the next one, so a
    stream joined mid-frame resynchronises at once (§1).
    """
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
                _refuse(out, stats, "truncated frame", buf[pos:])
            else:
                stats.bytes_skipped += 1
            return n
        if end == pos + 1:  # "7E 7E": the first one closed a frame we never saw
            stats.bytes_skipped += 1
            pos = end
            continue
        stats.frames += 1
        # A frame consumes its closing flag; anything else leaves it to open the next one.
        pos = end + 1 if _check(buf, pos, end, out, stats, tolerate) else end
    return n
