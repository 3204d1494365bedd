"""What an H02 server sends a device, read (docs/protocol/h02.md §6, §7): a relayed upstream.

The frames are cut by ``framing.Framer``, the one H02 framing; a server sends text frames only
(``*HQ,<id>,<word>[,<field>…]#``), so anything else is refused. A frame is taken only if it is
printable ASCII with a checked device ID and command word. The replies a server makes to the
device's own messages (``V4`` time syncs, ``R12``, the ``HTBT``/``V0`` echoes, §6) are marked
``reply``; everything else is a command. An ``S20`` is an engine cut unless it is plainly the
restore (last field ``0``, §7.3): a form this reader does not know meets the interlock.
"""

from __future__ import annotations

from typing import Final

from ..codec import ServerReader
from ..model import DecodeError, ServerMessage
from .fields import is_device_id
from .framing import Framer

PROTOCOL: Final = "h02"
MAX_SERVER_FRAME: Final = 512
REPLY_WORDS: Final = frozenset({"V4", "R12", "HTBT", "V0"})
_STAR: Final = 0x2A


def read_server_frame(frame: bytes) -> ServerMessage:
    """One whole ``*…#`` frame from a server; raises ``ValueError`` when it is not one."""
    if frame[:1] != b"*" or frame[-1:] != b"#" or len(frame) > MAX_SERVER_FRAME:
        raise ValueError("not a text frame of a server")
    body = frame[1:-1]
    if not body.isascii() or not body.decode("ascii").isprintable() or b"*" in body:
        raise ValueError("a server frame must be printable ASCII")
    fields = body.decode("ascii").split(",")
    if len(fields) < 3:
        raise ValueError("a server frame needs a maker, a device ID and a command word")
    maker, device_id, word = fields[0], fields[1], fields[2].strip().upper()
    if len(maker) != 2 or not maker.isalnum() or not is_device_id(device_id):
        raise ValueError("a server frame needs a two-character maker and a device ID")
    if not 0 < len(word) <= 16 or not word.isalnum():
        raise ValueError("a server frame needs a command word")
    params = fields[3:]
    restore = len(params) in (2, 3) and params[-1].strip() == "0"
    return ServerMessage(
        protocol=PROTOCOL,
        device_id=device_id,
        name=word,
        reply=word in REPLY_WORDS,
        engine_stop=word == "S20" and not restore,
        raw=bytes(frame),
    )


class H02ServerReader(ServerReader):
    """The frames an H02 server sends one device (see the module docstring)."""

    def __init__(self, *, max_buffer: int = MAX_SERVER_FRAME * 8) -> None:
        super().__init__(max_buffer=max_buffer)
        self._framer = Framer(eager_binary=False)

    def _frames(self, buf: bytes, *, final: bool) -> tuple[list[bytes | DecodeError], int]:
        return self._framer.split(buf, self.stats, final=final)

    def _read(self, frame: bytes) -> ServerMessage:
        return read_server_frame(frame)
