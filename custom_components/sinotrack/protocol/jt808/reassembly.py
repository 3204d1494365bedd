"""JT/T 808 sub-packages put back together, within bounds (docs/protocol/jt808.md §7).

A message too long for one frame travels as packets (attribute bit 13: total and index after
the serial, the index from 1, consecutive serials). Bounded by packets per message, messages
pending, bytes pending and age, so a device (or an attacker) cannot make a session hoard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from ..model import ProtocolError

MAX_PARTS: Final = 32
MAX_PENDING: Final = 4
MAX_REASSEMBLY: Final = 16384  # positions need far less; multimedia is not decoded
MAX_PART_AGE: Final = timedelta(minutes=2)


@dataclass(slots=True)
class _Partial:
    """A sub-packaged message being reassembled."""

    started: datetime
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class Reassembly:
    """The sub-packaged messages of one session that are still missing packets."""

    __slots__ = ("_partials",)

    def __init__(self) -> None:
        self._partials: dict[tuple[int, bytes, int, int], _Partial] = {}

    def add(  # noqa: PLR0917 - one packet's header fields
        self,
        message_id: int,
        id_bytes: bytes,
        serial: int,
        total: int,
        index: int,
        body: bytes,
        now: datetime,
    ) -> bytes | None:
        """Collect one packet: the whole body once every packet is in, else None.

        ``ProtocolError`` for an index outside ``1..total``, more than ``MAX_PARTS`` packets,
        or more than ``MAX_REASSEMBLY`` bytes pending (that message is dropped).
        """
        if not 1 <= index <= total or total > MAX_PARTS:
            raise ProtocolError(f"sub-package {index} of {total}")
        if total == 1:
            return body
        partials = self._partials
        for old, waiting in list(partials.items()):
            if now - waiting.started > MAX_PART_AGE:
                del partials[old]
        first = (serial - index + 1) & 0xFFFF
        key = (message_id, id_bytes, total, first)
        partial = partials.get(key)
        if partial is None:
            if len(partials) >= MAX_PENDING:
                partials.pop(next(iter(partials)))  # the oldest gives way
            partial = partials[key] = _Partial(now)
        if index not in partial.parts:
            pending = sum(p.size for p in partials.values())
            if pending + len(body) > MAX_REASSEMBLY:
                del partials[key]
                raise ProtocolError(f"sub-packaged 0x{message_id:04X} too large")
            partial.parts[index] = body
            partial.size += len(body)
        if len(partial.parts) < total:
            return None
        del partials[key]
        return b"".join(partial.parts[k] for k in range(1, total + 1))
