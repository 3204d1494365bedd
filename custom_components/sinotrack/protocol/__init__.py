"""Sans-I/O codecs for the protocols SinoTrack trackers speak (H02, JT/T 808).

Bytes in, typed messages out; commands in, bytes out. Nothing in this package imports Home
Assistant or asyncio. The names below are the public API; every module behind them is
private. The protocol notes are in docs/protocol/.
"""

from __future__ import annotations

from .codec import DEFAULT_MAX_BUFFER, Codec, ServerReader
from .detect import codec_for, detect, start_pattern
from .h02 import H02Codec
from .jt808 import Jt808Codec
from .model import (
    Alarm,
    Cell,
    CellReport,
    CodecStats,
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    DecodeError,
    DeviceIdentity,
    EncodedCommand,
    Flags,
    Heartbeat,
    Message,
    Position,
    ProtocolError,
    ServerMessage,
    WifiAccessPoint,
)

__all__ = [
    "DEFAULT_MAX_BUFFER",
    "Alarm",
    "Cell",
    "CellReport",
    "Codec",
    "CodecStats",
    "Command",
    "CommandAck",
    "CommandKind",
    "DecodeError",
    "Decoded",
    "DeviceIdentity",
    "EncodedCommand",
    "Flags",
    "H02Codec",
    "Heartbeat",
    "Jt808Codec",
    "Message",
    "Position",
    "ProtocolError",
    "ServerMessage",
    "ServerReader",
    "WifiAccessPoint",
    "codec_for",
    "detect",
    "start_pattern",
]
