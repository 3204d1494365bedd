"""H02 (SinoTrack text ``*HQ,…#`` and binary ``$`` frames): docs/protocol/h02.md.

``H02Codec`` is the interface; the modules behind it each do one job: ``framing`` (stream ->
frames), ``decode_text`` and ``decode_binary`` (frame -> message), ``fields`` (one field ->
one checked value), ``values`` (status words of both dialects, dates, the battery byte),
``replies`` and ``commands`` (what goes back to the device). They import the shared model
relatively (``from ..model``; pyproject allows TID252 in ``protocol/``) so that ``protocol/``
stays liftable as a package of its own.
"""

from __future__ import annotations

from .codec import DIALECTS, H02Codec
from .decode_text import KNOTS_TO_KMH
from .framing import BINARY_LENGTHS
from .values import H02Status, active_conditions, battery_percent, status_info

__all__ = [
    "BINARY_LENGTHS",
    "DIALECTS",
    "KNOTS_TO_KMH",
    "H02Codec",
    "H02Status",
    "active_conditions",
    "battery_percent",
    "status_info",
]
