"""One tracker's H02 dialect on its connection: the status table and the R12 replies (h02.md §13).

SinoTrack's 4G line reads some status bits differently and wants an R12 for nearly every
report. The codec learns "4g" by itself from a V6/V8 report; the hub tells it what the tracker
showed before (on an earlier connection, before a restart) and whether it wants R12 at all.
Codecs without dialects (JT/T 808) pass through untouched.
"""

from __future__ import annotations

from typing import Final

from .protocol import Codec, H02Codec

FOUR_G: Final = "4g"


def tune(codec: Codec | None, dialect: str | None, r12: bool) -> None:
    """Set a connection up for the tracker it turned out to carry."""
    if isinstance(codec, H02Codec):
        if dialect is not None:
            codec.dialect = dialect
        codec.r12 = r12


def spoken(codec: Codec | None) -> str | None:
    """The dialect this connection has shown (or was told)."""
    return codec.dialect if isinstance(codec, H02Codec) else None


def is_r12(reply: bytes) -> bool:
    """Whether a reply is H02's ``*HQ,<id>,R12,<HHMMSS>#``: decoded before the hub could tell
    the codec that this tracker wants none, it is held back instead."""
    fields = reply.split(b",", 3)
    return len(fields) > 3 and fields[0] == b"*HQ" and fields[2] == b"R12"
