"""What an H02 device gets back for what it sent (docs/protocol/h02.md §8).

V1 and NBR get the ``V4,<type>,<yyyyMMddHHmmss>`` time sync, HTBT and V0 their echo; with R12
on (the default), every other position, every acknowledgement carrying a fix and every binary
frame gets ``R12,<HHMMSS>`` (4G units resend stored records without it). Nothing else is
answered. The device ID in a reply is always one the decoder has checked (1-20 digits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from ..model import CellReport, CommandAck, Heartbeat, Message, Position

Stamps = tuple[str, str]  # (yyyyMMddHHmmss, HHmmss) of one clock reading, UTC
_ECHOED: Final = frozenset({"HTBT", "V0"})


def stamps_of(t: datetime) -> Stamps:
    """The reply time stamps of a UTC time."""
    # %-formatting: half the cost of the f-string with six format specs.
    full = "%04d%02d%02d%02d%02d%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)  # noqa: UP031
    return full, full[8:]


_wall: tuple[int, Stamps] = (-1, ("", ""))  # one (second, stamps) for every connection


def wall_stamps() -> Stamps:
    """The stamps of the wall clock's current second, formatted once per second for all
    connections: at one report per read, reading and formatting the clock per read was a fifth
    of the codec's time (6.0 -> 4.8 µs for a one-report read)."""
    global _wall  # noqa: PLW0603 - a cache swapped as one tuple
    second = int(time.time())
    if second != _wall[0]:
        _wall = (second, stamps_of(datetime.fromtimestamp(second, UTC)))
    return _wall[1]


def reply_to(
    message: Message, frame: bytes, *, r12: bool, stamps: Callable[[], Stamps]
) -> bytes | None:
    """The bytes the device expects for ``message`` (decoded from ``frame``), if any."""
    kind = type(message)
    if kind is Position:
        if message.message_type == "V1":  # type: ignore[union-attr]
            return _time_sync(message.device_id, "V1", stamps())
        return _r12(message.device_id, stamps()) if r12 else None
    if kind is CommandAck:
        if r12 and message.position is not None:  # type: ignore[union-attr]
            return _r12(message.device_id, stamps())
        return None
    if kind is CellReport and message.message_type == "NBR":  # type: ignore[union-attr]
        return _time_sync(message.device_id, "NBR", stamps())
    if kind is Heartbeat and message.message_type in _ECHOED:  # type: ignore[union-attr]
        # The message up to the first comma after its type, with the maker as sent (a device
        # may ignore frames of another maker) unless it is not two letters or digits.
        maker = frame[1:3].decode("ascii", "replace")
        if not (maker.isalnum() and maker.isascii()):
            maker = "HQ"
        return f"*{maker},{message.device_id},{message.message_type}#".encode("ascii")  # type: ignore[union-attr]
    return None


def _time_sync(device_id: str, word: str, stamps: Stamps) -> bytes:
    """``V4,<word>,<yyyyMMddHHmmss>``: the time sync V1 and NBR reports expect (§8)."""
    return f"*HQ,{device_id},V4,{word},{stamps[0]}#".encode("ascii")


def _r12(device_id: str, stamps: Stamps) -> bytes:
    """``R12,<HHmmss>``: the acknowledgement of a binary frame or another position (§8)."""
    return f"*HQ,{device_id},R12,{stamps[1]}#".encode("ascii")
