"""JT/T 808, the 0x7E-framed protocol SinoTrack units also speak (docs/protocol/jt808.md).

Split by job: ``framing`` (stream -> checked frames, frames built), ``identity`` (which digits
name a device), ``decode`` (message bodies), ``encode`` (replies and commands), ``reassembly``
(sub-packages) and ``codec`` (the session that ties them together).
"""

from __future__ import annotations

from .codec import Jt808Codec
from .encode import IMMOBILIZER_VARIANTS
from .framing import build_frame, escape, unescape
from .reassembly import MAX_PART_AGE, MAX_PARTS, MAX_PENDING, MAX_REASSEMBLY

__all__ = [
    "IMMOBILIZER_VARIANTS",
    "MAX_PARTS",
    "MAX_PART_AGE",
    "MAX_PENDING",
    "MAX_REASSEMBLY",
    "Jt808Codec",
    "build_frame",
    "escape",
    "unescape",
]
