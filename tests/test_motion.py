"""The parked filter, the distance and the accuracy, as pure functions (motion.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.sinotrack.motion import (
    DEFAULT_ACCURACY_M,
    MAX_SPEED_KMH,
    PARKED_RADIUS_M,
    ParkedFilter,
    Trip,
    distance_m,
    fix_accuracy_m,
)

T0 = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)
LAT, LON = 50.58855, 4.53035
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / M_PER_DEG_LAT,
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


def _parked(f: ParkedFilter, lat: float, lon: float, when: datetime, acc: float = 10.0) -> bool:
    return f.shows(lat, lon, speed_kmh=0.0, ignition=False, accuracy_m=acc, when=when)


# A point within the radius: a bearing and a distance short of it (a metre of margin for the
# flat-earth offset; the filter measures the great circle).
inside = st.tuples(st.floats(0, 2 * math.pi), st.floats(0, PARKED_RADIUS_M - 1))
speeds = st.floats(0, 4.9)
ignitions = st.sampled_from([False, None])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(inside, speeds, ignitions, st.floats(1, 50)), max_size=60))
def test_no_jitter_inside_the_radius_moves_the_marker(
    jitter: list[tuple[tuple[float, float], float, bool | None, float]],
) -> None:
    f = ParkedFilter()
    assert _parked(f, LAT, LON, T0)  # the first fix of the stop is shown
    for i, ((bearing, metres), speed, ignition, acc) in enumerate(jitter):
        lat, lon = _offset(LAT, LON, metres * math.cos(bearing), metres * math.sin(bearing))
        when = T0 + timedelta(seconds=30 * (i + 1))
        assert not f.shows(lat, lon, speed_kmh=speed, ignition=ignition, accuracy_m=acc, when=when)
    assert (f.latitude, f.longitude, f.since) == (LAT, LON, T0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(inside, max_size=20),
    st.floats(0, 2 * math.pi),
    st.floats(PARKED_RADIUS_M + 1, 5000),
)
def test_any_move_beyond_the_radius_shows(
    jitter: list[tuple[float, float]], bearing: float, metres: float
) -> None:
    f = ParkedFilter()
    _parked(f, LAT, LON, T0)
    for i, (b, m) in enumerate(jitter):
        lat, lon = _offset(LAT, LON, m * math.cos(b), m * math.sin(b))
        _parked(f, lat, lon, T0 + timedelta(seconds=i + 1))
    lat, lon = _offset(LAT, LON, metres * math.cos(bearing), metres * math.sin(bearing))
    assert _parked(f, lat, lon, T0 + timedelta(hours=1))
    assert (f.latitude, f.longitude) == (lat, lon)  # where it now stands


def test_the_radius_is_the_accuracy_when_that_is_wider() -> None:
    f = ParkedFilter()
    _parked(f, LAT, LON, T0)
    lat, lon = _offset(LAT, LON, 80, 0)
    assert not _parked(f, lat, lon, T0 + timedelta(seconds=30), acc=100.0)
    assert _parked(f, lat, lon, T0 + timedelta(seconds=60), acc=25.0)


@pytest.mark.parametrize(("speed", "ignition"), [(0.0, True), (12.0, False), (6.0, None)])
def test_ignition_or_speed_shows_at_once(speed: float, ignition: bool | None) -> None:
    f = ParkedFilter()
    _parked(f, LAT, LON, T0)
    lat, lon = _offset(LAT, LON, 3, 0)  # well inside the radius
    when = T0 + timedelta(seconds=30)
    assert f.shows(lat, lon, speed_kmh=speed, ignition=ignition, accuracy_m=10, when=when)
    assert f.since is None  # moving: no stop


def test_distance_is_the_great_circle() -> None:
    # One degree of latitude is 111.195 km on the mean sphere; Brussels-Paris about 264 km.
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-4)
    assert distance_m(50.8503, 4.3517, 48.8566, 2.3522) == pytest.approx(264_000, rel=0.01)
    assert distance_m(LAT, LON, LAT, LON) == 0


def test_a_drive_adds_up_and_impossible_jumps_do_not() -> None:
    trip = Trip()
    when = T0
    lat, lon = LAT, LON
    trip.add(lat, lon, when)
    for _ in range(40):  # 40 x 100 m, one fix each 6 s: 60 km/h
        lat, lon = _offset(lat, lon, 100, 0)
        when += timedelta(seconds=6)
        assert trip.add(lat, lon, when)
    assert trip.km == pytest.approx(4.0, rel=1e-3)
    # An outlier 50 km away 6 s later, and the way back from it: neither is driven.
    far_lat, far_lon = _offset(lat, lon, 50_000, 0)
    assert not trip.add(far_lat, far_lon, when + timedelta(seconds=6))
    assert not trip.add(lat, lon, when + timedelta(seconds=12))
    assert trip.km == pytest.approx(4.0, rel=1e-3)


@given(st.floats(1, 10_000), st.floats(1, 3600))
def test_a_jump_counts_only_below_the_speed_limit(metres: float, seconds: float) -> None:
    trip = Trip()
    trip.add(LAT, LON, T0)
    lat, lon = _offset(LAT, LON, metres, 0)
    grew = trip.add(lat, lon, T0 + timedelta(seconds=seconds))
    implied = distance_m(LAT, LON, lat, lon) / seconds * 3.6
    assert grew == (implied <= MAX_SPEED_KMH)


@given(st.sampled_from(["h02", "jt808", "other", None]), st.none() | st.integers(-5, 99))
def test_accuracy_is_never_zero(protocol: str | None, satellites: int | None) -> None:
    assert fix_accuracy_m(protocol, satellites) > 0


def test_accuracy_from_satellites_or_the_protocols_default() -> None:
    assert fix_accuracy_m("h02", None) == DEFAULT_ACCURACY_M["h02"]
    assert fix_accuracy_m("jt808", 0) == DEFAULT_ACCURACY_M["jt808"]
    assert fix_accuracy_m("jt808", 12) < fix_accuracy_m("jt808", 5) < fix_accuracy_m("h02", 3)


@settings(max_examples=100, deadline=None)
@given(inside, st.booleans())
def test_a_restored_marker_anchors_the_stop(point: tuple[float, float], resumed: bool) -> None:
    """After a restart the marker shown before it is the parked position: jitter around it is
    hidden (the stop's start as restored, or the first fix's time), a move beyond it shows."""
    f = ParkedFilter()
    f.anchor(LAT, LON)
    if resumed:
        f.resume(T0)
    bearing, metres = point
    lat, lon = _offset(LAT, LON, metres * math.cos(bearing), metres * math.sin(bearing))
    after = T0 + timedelta(hours=3)
    assert not _parked(f, lat, lon, after)
    assert (f.latitude, f.longitude, f.since) == (LAT, LON, T0 if resumed else after)
    assert _parked(f, *_offset(LAT, LON, PARKED_RADIUS_M + 5, 0), after + timedelta(seconds=30))
    trip = Trip()
    trip.start(LAT, LON, after)  # the next leg starts where the marker stands
    assert trip.add(*_offset(LAT, LON, 1000, 0), after + timedelta(minutes=2))
    assert trip.km == pytest.approx(1.0, abs=0.01)
