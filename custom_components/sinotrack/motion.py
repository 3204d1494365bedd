"""How a vehicle moves, read from its fixes: parked or not, how far, how exact (no Home Assistant).

A car is parked 22 hours a day, and a parked GPS wanders by tens of metres: shown as is, the
marker walks around the car park, zones flap and the distance grows by itself. ``ParkedFilter``
holds the marker on the parked position while the fixes stay within reach of it; ``Trip`` adds up
the distance over the fixes the filter let through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Final

MOVING_SPEED_KMH: Final = 5.0  # below this a parked tracker's GPS drift is not movement
PARKED_RADIUS_M: Final = 50.0  # at least: a parked fix within max(this, accuracy) is jitter
MAX_SPEED_KMH: Final = 300.0  # a jump implying more between two fixes is a bad fix, not a trip
EARTH_RADIUS_M: Final = 6_371_008.8  # the mean radius (IUGG)

# How exact a fix is, when the protocol does not say (neither H02 nor JT/T 808 send an HDOP):
# consumer GNSS modules under open sky are good to about 5-10 m (CEP95), a car park between
# buildings more like 20-30 m. 25 m tells Home Assistant a fix is neither exact (0 would) nor so
# vague that a 100 m home zone could not hold it.
DEFAULT_ACCURACY_M: Final[dict[str, float]] = {"h02": 25.0, "jt808": 25.0}
FALLBACK_ACCURACY_M: Final = 25.0
# From the number of satellites used, where the report carries it: fewer than 4 is no 3D fix.
_ACCURACY_BY_SATELLITES: Final = ((9, 10.0), (7, 15.0), (5, 25.0), (4, 50.0))
FEW_SATELLITES_ACCURACY_M: Final = 100.0


def fix_accuracy_m(protocol: str | None, satellites: int | None) -> float:
    """The accuracy (metres, always > 0) Home Assistant is told for a fix."""
    if satellites is None or satellites <= 0:
        # 0 satellites on a valid fix is a tracker that does not count them, not a bad fix.
        return DEFAULT_ACCURACY_M.get(protocol or "", FALLBACK_ACCURACY_M)
    for at_least, accuracy in _ACCURACY_BY_SATELLITES:
        if satellites >= at_least:
            return accuracy
    return FEW_SATELLITES_ACCURACY_M


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle (haversine) distance between two points, in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def is_parked(ignition: bool | None, speed_kmh: float) -> bool:
    """Ignition off and slower than walking. A tracker with no ignition wire (None) counts as
    off: its speed alone tells, and a real move still shows once it leaves the radius."""
    return ignition is not True and speed_kmh < MOVING_SPEED_KMH


@dataclass(slots=True)
class ParkedFilter:
    """Whether a fix moves the marker.

    The parked position is the first fix of the stop, not a running mean: the marker then stays
    exactly where it was put (a mean would move it, a write each time), and a slow creep away
    (a tow, a push) cannot drag a mean along with it and stay hidden: every fix is measured
    against the same point, so leaving the radius always shows.
    """

    latitude: float | None = None  # the parked position, None while driving
    longitude: float | None = None
    since: datetime | None = None  # when the stop began (the fix time of its first fix)

    def shows(
        self,
        latitude: float,
        longitude: float,
        *,
        speed_kmh: float,
        ignition: bool | None,
        accuracy_m: float,
        when: datetime,
    ) -> bool:
        """Fold in a valid fix; whether it is shown (False: jitter around the parked position)."""
        if not is_parked(ignition, speed_kmh):
            self.latitude = self.longitude = self.since = None
            return True
        if self.latitude is not None and self.longitude is not None:
            radius = max(PARKED_RADIUS_M, accuracy_m)
            if distance_m(self.latitude, self.longitude, latitude, longitude) <= radius:
                if self.since is None:  # anchored after a restart that did not tell when
                    self.since = when
                return False
        # The first fix of a stop, or a move beyond the radius while parked (towed, pushed):
        # shown, and where the vehicle now stands. A stop resumed after a restart keeps its start.
        resumed = self.since if self.latitude is None else None
        self.latitude, self.longitude, self.since = latitude, longitude, resumed or when
        return True

    def resume(self, since: datetime) -> None:
        """The start of the stop a restart interrupted (``anchor`` puts back where)."""
        if self.since is None:
            self.since = since

    def anchor(self, latitude: float, longitude: float) -> None:
        """The position shown before a restart: parked fixes around it after the restart are
        the same stop's jitter, not a first fix that moves the marker (and, written with a new
        time, would make a stale vehicle look fresher than a person's phone)."""
        if self.latitude is None:
            self.latitude, self.longitude = latitude, longitude


@dataclass(slots=True)
class Trip:
    """The distance driven, over the fixes shown (trusted, valid, through the parked filter)."""

    km: float = 0.0
    _resumed: bool = False
    _latitude: float | None = None
    _longitude: float | None = None
    _when: datetime | None = None

    def resume(self, km: float) -> None:
        """Add the distance restored from before a restart, once."""
        if not self._resumed and math.isfinite(km) and km >= 0:
            self._resumed = True
            self.km += km

    def start(self, latitude: float, longitude: float, when: datetime) -> None:
        """Where the next leg starts if no fix was added yet (the marker held after a restart)."""
        if self._latitude is None:
            self._latitude, self._longitude, self._when = latitude, longitude, when

    def add(self, latitude: float, longitude: float, when: datetime) -> bool:
        """Add the way from the previous fix to this one; whether the distance grew."""
        last_lat, last_lon, last_when = self._latitude, self._longitude, self._when
        self._latitude, self._longitude, self._when = latitude, longitude, when
        if last_lat is None or last_lon is None or last_when is None:
            return False
        metres = distance_m(last_lat, last_lon, latitude, longitude)
        if metres <= 0.0:
            return False
        seconds = max((when - last_when).total_seconds(), 1.0)
        if metres / seconds * 3.6 > MAX_SPEED_KMH:
            # A bad fix (or a restart far from the last one): the jump is not driven. The next
            # fix is measured from here, so an outlier and the way back are both left out.
            return False
        self.km += metres / 1000.0
        return True
