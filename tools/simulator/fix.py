"""One GPS fix as a simulated tracker reports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS fix; ``when`` is UTC."""

    when: datetime
    latitude: float
    longitude: float
    speed_kmh: float = 0.0
    course: float = 0.0
    valid: bool = True
    altitude_m: int = 0
