"""The car behind a simulated tracker: a loop through Amsterdam, in simulated seconds.

It accelerates and brakes for corners and red lights, parks with the ignition off at parking
places for a while, and, with the engine cut, rolls to a stop and stays parked until restored.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

EARTH_RADIUS_M: Final = 6_371_000.0
ACCEL_MS2: Final = 1.5
DECEL_MS2: Final = 2.5
CORNER_KMH: Final = 25.0
LIGHT_CHANCE: Final = 0.15  # a red light at a waypoint that is not a parking place
MAX_SPEED_KMH: Final = 90.0


@dataclass(frozen=True, slots=True)
class Waypoint:
    latitude: float
    longitude: float
    limit_kmh: float  # speed limit on the way to this point
    parking: bool = False  # the vehicle parks here (ignition off) for a while


# A loop through Amsterdam: Centraal, the eastern docks, the A10 ring, Zuid, the canals.
ROUTE: Final = (
    Waypoint(52.37880, 4.90010, 30, parking=True),  # Amsterdam Centraal
    Waypoint(52.37610, 4.90950, 50),  # Prins Hendrikkade
    Waypoint(52.37350, 4.91700, 50),  # Oosterdok
    Waypoint(52.36610, 4.91630, 50),  # Plantage / Artis
    Waypoint(52.36080, 4.90760, 50),  # Weesperplein
    Waypoint(52.34670, 4.91780, 50, parking=True),  # Amstel station
    Waypoint(52.33700, 4.91000, 80),  # A10 Amstel
    Waypoint(52.33800, 4.88900, 90),  # A10 RAI
    Waypoint(52.33860, 4.87240, 90, parking=True),  # Zuid / WTC
    Waypoint(52.34350, 4.85470, 50),  # Olympisch Stadion
    Waypoint(52.36070, 4.86000, 50),  # Overtoom
    Waypoint(52.36410, 4.88250, 30),  # Leidseplein
    Waypoint(52.37450, 4.88380, 30),  # Westerkerk
    Waypoint(52.37310, 4.89260, 30, parking=True),  # Dam
)


def distance_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """Metres and degrees (clockwise from north) between two close points."""
    dy = math.radians(lat2 - lat1) * EARTH_RADIUS_M
    dx = math.radians(lon2 - lon1) * EARTH_RADIUS_M * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy), math.degrees(math.atan2(dx, dy)) % 360


class Vehicle:
    """A car driving the route: speeds, stops, parking, the engine cut. Simulated seconds."""

    def __init__(self, rng: random.Random, index: int, *, parked: bool, start_time: float) -> None:
        self.rng = rng
        shift_lat = rng.uniform(-0.0006, 0.0006)
        shift_lon = rng.uniform(-0.0009, 0.0009)
        points = [
            Waypoint(p.latitude + shift_lat, p.longitude + shift_lon, p.limit_kmh, p.parking)
            for p in ROUTE
        ]
        if index % 2:  # every other car drives the loop the other way round
            points.reverse()
        self.route = points
        self.factor = rng.uniform(0.8, 1.0)  # how close to the limit this driver goes
        start = (index * 5) % len(points)
        self.target = (start + 1) % len(points)
        self.latitude = points[start].latitude
        self.longitude = points[start].longitude
        self.course = distance_bearing(
            self.latitude,
            self.longitude,
            points[self.target].latitude,
            points[self.target].longitude,
        )[1]
        self.speed_ms = 0.0
        self.odometer_m = rng.uniform(5_000_000, 90_000_000)
        self.always_parked = parked
        self.engine_cut = False
        self.t = start_time
        self.stop_at_target = self._plan_stop()
        if parked or rng.random() < 0.5:
            self.phase = "parked"
            self.phase_until = math.inf if parked else start_time + rng.uniform(20, 120)
        else:
            self.phase = "driving"
            self.phase_until = math.inf

    @property
    def speed_kmh(self) -> float:
        return self.speed_ms * 3.6

    @property
    def ignition(self) -> bool:
        return self.phase in ("driving", "waiting")

    def _plan_stop(self) -> bool:
        return self.route[self.target].parking or self.rng.random() < LIGHT_CHANCE

    def advance(self, t: float) -> None:
        """Move on to simulated time ``t`` (in steps of at most a second)."""
        dt = t - self.t
        if dt <= 0:
            return
        steps = min(max(1, math.ceil(dt)), 3600)
        h = dt / steps
        for _ in range(steps):
            self.t += h
            self._step(h)
        self.t = t

    def cut_engine(self, cut: bool) -> None:
        self.engine_cut = cut
        if not cut and self.phase == "parked" and not self.always_parked:
            self.phase_until = self.t + self.rng.uniform(30, 90)

    def _step(self, h: float) -> None:
        if self.engine_cut and self.phase != "parked":
            self.speed_ms = max(0.0, self.speed_ms - DECEL_MS2 * h)
            self._move(self.speed_ms * h)
            if self.speed_ms == 0.0:
                self.phase, self.phase_until = "parked", math.inf
            return
        if self.phase == "parked":
            self.speed_ms = 0.0
            if self.t >= self.phase_until and not self.engine_cut:
                self.phase, self.phase_until = "driving", math.inf
            return
        if self.phase == "waiting":
            self.speed_ms = 0.0
            if self.t >= self.phase_until:
                self.phase = "driving"
            return
        goal = self.route[self.target]
        distance, bearing = distance_bearing(
            self.latitude, self.longitude, goal.latitude, goal.longitude
        )
        limit = min(goal.limit_kmh, MAX_SPEED_KMH) * self.factor / 3.6
        end_speed = 0.0 if self.stop_at_target else CORNER_KMH / 3.6
        brake = math.sqrt(end_speed**2 + 2 * DECEL_MS2 * max(distance - 2.0, 0.0))
        wanted = min(limit, brake)
        if self.speed_ms < wanted:
            self.speed_ms = min(wanted, self.speed_ms + ACCEL_MS2 * h)
        else:
            self.speed_ms = max(wanted, self.speed_ms - DECEL_MS2 * h)
        self.speed_ms = max(self.speed_ms, 1.0)  # creep the last metres to a stop line
        travel = self.speed_ms * h
        self.course = bearing
        if travel < distance:
            self._move(travel)
            return
        self.latitude, self.longitude = goal.latitude, goal.longitude
        self.odometer_m += distance
        stopping = self.stop_at_target
        self.target = (self.target + 1) % len(self.route)
        self.stop_at_target = self._plan_stop()
        if stopping:
            self.speed_ms = 0.0
            if goal.parking:
                self.phase = "parked"
                self.phase_until = (
                    math.inf if self.always_parked else self.t + self.rng.uniform(60, 240)
                )
            else:
                self.phase, self.phase_until = "waiting", self.t + self.rng.uniform(10, 40)

    def _move(self, metres: float) -> None:
        if metres <= 0:
            return
        rad = math.radians(self.course)
        self.latitude += math.degrees(metres * math.cos(rad) / EARTH_RADIUS_M)
        self.longitude += math.degrees(
            metres * math.sin(rad) / (EARTH_RADIUS_M * math.cos(math.radians(self.latitude)))
        )
        self.odometer_m += metres
