"""The interface every protocol codec implements (sans-I/O: bytes in, messages and bytes out)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import ClassVar

from .model import CodecStats, Command, CommandAck, Decoded, DecodeError, EncodedCommand

DEFAULT_MAX_BUFFER = 4096


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
