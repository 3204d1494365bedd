"""The interface every protocol codec implements (sans-I/O: bytes in, messages and bytes out)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from .model import (
    CodecStats,
    Command,
    CommandAck,
    Decoded,
    DecodeError,
    EncodedCommand,
    ServerMessage,
)

DEFAULT_MAX_BUFFER = 4096


def unframed_rest(
    buf: bytes, pos: int, max_buffer: int, stats: CodecStats, out: list[Any]
) -> bytes:
    """What a stream keeps after its complete frames (``buf[pos:]``), bounded: past
    ``max_buffer`` bytes without a complete frame it is dropped, counted, and a ``DecodeError``
    with its first bytes joins ``out``. The one bound of every stream reader here."""
    rest = len(buf) - pos
    if rest > max_buffer:
        stats.overflows += 1
        stats.errors += 1
        out.append(
            DecodeError(f"{rest} bytes buffered without a complete frame", buf[pos : pos + 64])
        )
        return b""
    return buf[pos:] if rest else b""


class Codec(ABC):
    """One instance per TCP connection or per UDP peer.

    ``feed`` takes TCP bytes as they arrive (any chunking) and returns every complete frame,
    decoded or as a ``DecodeError``; a bad frame never costs the frames around it and the
    buffer never grows past ``max_buffer`` bytes without a complete frame.
    ``feed_datagram`` takes one UDP datagram and returns every message in it.
    """

    protocol: ClassVar[str]
    LEAD_BYTES: ClassVar[frozenset[int]]  # first bytes of this protocol's frames

    def __init__(self, *, max_buffer: int = DEFAULT_MAX_BUFFER) -> None:
        self.max_buffer = max_buffer
        self.stats = CodecStats()

    @abstractmethod
    def feed(self, data: bytes) -> list[Decoded | DecodeError]:
        """Consume a chunk of a TCP stream."""

    @abstractmethod
    def feed_datagram(self, data: bytes) -> list[Decoded | DecodeError]:
        """Consume one whole UDP datagram."""

    @abstractmethod
    def flush(self) -> list[Decoded | DecodeError]:
        """What is buffered, decoded as if the stream ended here (the connection closed)."""

    def settle(self) -> list[Decoded | DecodeError]:
        """What the buffer holds that is complete by itself, now that the device has gone quiet.

        Unlike ``flush``, a frame that is plainly cut short stays buffered for the rest. Only
        codecs whose frames carry no end marker hold complete frames back; others have none.
        """
        return []

    @property
    @abstractmethod
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""

    @abstractmethod
    def encode(self, device_id: str, command: Command, now: datetime) -> EncodedCommand:
        """Turn a command into bytes for this device; ``now`` (UTC) makes the time tag."""

    @abstractmethod
    def matches(self, pending: EncodedCommand, ack: CommandAck) -> bool:
        """Whether ``ack`` answers ``pending``."""

    @abstractmethod
    def server_reader(self) -> ServerReader:
        """A reader for what a server sends this protocol's devices (a relayed upstream)."""


class ServerReader(ABC):
    """Reads the frames a server sends to one device, with the protocol's own framing.

    The other direction of a ``Codec``: what an upstream server (the SinoTrack platform, a
    Traccar) says to the tracker whose stream is relayed to it. ``feed`` takes TCP bytes in any
    chunking, ``feed_datagram`` one UDP datagram; both return every complete frame as a checked
    ``ServerMessage`` or a counted ``DecodeError``. The buffer never grows past ``max_buffer``.
    """

    def __init__(self, *, max_buffer: int = DEFAULT_MAX_BUFFER) -> None:
        self.max_buffer = max_buffer
        self.stats = CodecStats()
        self._buf = b""

    def feed(self, data: bytes) -> list[ServerMessage | DecodeError]:
        buf = self._buf + data if self._buf else bytes(data)
        out, pos = self._split(buf, final=False)
        self._buf = unframed_rest(buf, pos, self.max_buffer, self.stats, out)
        return out

    def feed_datagram(self, data: bytes) -> list[ServerMessage | DecodeError]:
        return self._split(bytes(data), final=True)[0]

    def _split(self, buf: bytes, *, final: bool) -> tuple[list[ServerMessage | DecodeError], int]:
        """Every complete frame of ``buf``, read, and where the unfinished rest starts."""
        frames, pos = self._frames(buf, final=final)
        out: list[ServerMessage | DecodeError] = []
        for frame in frames:
            if isinstance(frame, DecodeError):  # counted by the framing
                out.append(frame)
                continue
            try:
                out.append(self._read(frame))
            except ValueError as err:  # ProtocolError is a ValueError
                self.stats.errors += 1
                out.append(DecodeError(str(err)))
                continue
            self.stats.messages += 1
        return out, pos

    @abstractmethod
    def _frames(self, buf: bytes, *, final: bool) -> tuple[list[Any], int]:
        """The protocol's framing: whole frames (or ``DecodeError``) and the rest's start."""

    @abstractmethod
    def _read(self, frame: Any) -> ServerMessage:
        """One whole frame; raises ``ValueError`` when it is not a server's."""
