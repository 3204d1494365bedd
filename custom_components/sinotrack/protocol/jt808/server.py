"""What a JT/T 808 platform sends a terminal, read (docs/protocol/jt808.md §8, §9): a relayed
upstream.

The frames are cut and checked by ``framing.split``, the one JT/T 808 framing (escaping,
checksum, body length); the terminal ID must be one (``identity``). Platform messages are
``0x8xxx`` (and the vendor 0xA006): anything else is refused. The replies to the terminal's
own messages (0x8001 general response, 0x8100 registration answer) are marked ``reply``;
everything else is a command. The immobilizer forms ``encode`` knows (0x8105 0xF0, 0x64,
``#0;1``; 0xA006 0x01) are engine cuts.
"""

from __future__ import annotations

from typing import Final

from ..codec import ServerReader
from ..model import DecodeError, ProtocolError, ServerMessage
from .framing import Frame, split
from .identity import terminal_id

PROTOCOL: Final = "jt808"
MAX_SERVER_FRAME: Final = 2048
REPLY_IDS: Final = frozenset({0x8001, 0x8100})
VENDOR_IMMOBILIZER: Final = 0xA006
_CUT_WORDS: Final = (b"\xf0", b"\x64", b"#0;1")


def read_server_frame(frame: Frame) -> ServerMessage:
    """One checked frame from a platform; raises ``ProtocolError`` when it is not one."""
    mid = frame.message_id
    if not (0x8000 <= mid <= 0x8FFF or mid == VENDOR_IMMOBILIZER):
        raise ProtocolError(f"message 0x{mid:04X} is not a platform message")
    _full, device_id = terminal_id(frame.id_bytes)
    body = frame.body
    engine_stop = (mid == 0x8105 and body.startswith(_CUT_WORDS)) or (
        mid == VENDOR_IMMOBILIZER and body[:1] == b"\x01"
    )
    return ServerMessage(
        protocol=PROTOCOL,
        device_id=device_id,
        name=f"0x{mid:04X}",
        reply=mid in REPLY_IDS,
        engine_stop=engine_stop,
        raw=frame.raw,
    )


class Jt808ServerReader(ServerReader):
    """The frames a JT/T 808 platform sends one terminal (see the module docstring)."""

    def __init__(self, *, max_buffer: int = MAX_SERVER_FRAME * 4) -> None:
        super().__init__(max_buffer=max_buffer)

    def _frames(self, buf: bytes, *, final: bool) -> tuple[list[Frame | DecodeError], int]:
        frames: list[Frame | DecodeError] = []
        return frames, split(buf, frames, self.stats, final=final)

    def _read(self, frame: Frame) -> ServerMessage:
        return read_server_frame(frame)
