"""Protocol detection: the first bytes of a connection or datagram pick the codec."""

from __future__ import annotations

import re

from .codec import DEFAULT_MAX_BUFFER, Codec


def _registry() -> tuple[type[Codec], ...]:
    """Every codec, in detection order (imported late: the codecs import this package)."""
    from .h02 import H02Codec  # noqa: PLC0415
    from .jt808 import Jt808Codec  # noqa: PLC0415

    return (H02Codec, Jt808Codec)


def detect(first: bytes) -> type[Codec] | None:
    """The codec class for a stream or datagram whose first byte is ``first[0]``, or None."""
    if not first:
        return None
    lead = first[0]
    for cls in _registry():
        if lead in cls.LEAD_BYTES:
            return cls
    return None


def start_pattern() -> re.Pattern[bytes]:
    """Finds the first byte that can start a frame of any protocol (to skip leading junk)."""
    leads = sorted({b for cls in _registry() for b in cls.LEAD_BYTES})
    return re.compile(b"[" + b"".join(re.escape(bytes([b])) for b in leads) + b"]")


def codec_for(first: bytes, *, max_buffer: int = DEFAULT_MAX_BUFFER) -> Codec | None:
    """A fresh codec for a stream or datagram starting with ``first``, or None."""
    cls = detect(first)
    return cls(max_buffer=max_buffer) if cls else None
