"""trust.py and the clock rule, without Home Assistant: which positions a tracker believes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from custom_components.sinotrack.fix_clock import FixClock
from custom_components.sinotrack.protocol import Position
from custom_components.sinotrack.sources import Connections, allowed, parse_networks
from custom_components.sinotrack.tracker import TrackerState
from custom_components.sinotrack.trust import (
    HELD_SOURCES,
    JITTER_M,
    MAX_PLAUSIBLE_KMH,
    Fix,
    PositionTrust,
    Verdict,
    plausible,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
KM_PER_DEG_LAT = 111.195  # on the mean-radius sphere motion.distance_m uses


def at(seconds: float, lat: float = 50.0, lon: float = 4.0) -> Fix:
    return Fix(lat, lon, T0 + timedelta(seconds=seconds))


def north_km(km: float) -> float:
    return 50.0 + km / KM_PER_DEG_LAT


def test_plausible_is_300_kmh_after_the_jitter() -> None:
    anchor = at(0)
    # 3600 s at 300 km/h: 300 km beyond the jitter is the limit.
    limit_km = MAX_PLAUSIBLE_KMH + JITTER_M / 1000
    assert plausible(anchor, at(3600, north_km(limit_km * 0.999)))
    assert not plausible(anchor, at(3600, north_km(limit_km * 1.001)))
    assert plausible(anchor, at(0, north_km(JITTER_M / 1000 * 0.99)))  # a re-acquired fix
    assert not plausible(anchor, at(0, north_km(1.0)))  # 1 km in no time
    assert not plausible(anchor, at(-60, north_km(1.0)))  # and not back in time either
    assert plausible(None, at(0, -33.0, 151.0))  # the first fix: nothing to measure from
    assert plausible(Fix(50.0, 4.0, None), at(0, -33.0, 151.0))  # restored without a time


def test_a_jump_is_held_per_source_until_that_source_confirms_it() -> None:
    trust = PositionTrust()
    assert trust.judge(at(0), "car") is Verdict.TRUSTED
    ferry = at(30, north_km(400))
    assert trust.judge(ferry, "attacker") is Verdict.HELD
    assert trust.judge(ferry, "car") is Verdict.HELD  # held for each source on its own
    # The car's next report, near the held one: confirmed, shown, the new anchor.
    assert trust.judge(at(60, north_km(400.5)), "car") is Verdict.CONFIRMED
    assert trust.anchor == at(60, north_km(400.5))
    assert not trust.held  # what others held is measured from the new anchor again
    assert trust.judge(at(90, north_km(401)), "car") is Verdict.TRUSTED


def test_a_glitch_is_never_shown_and_the_way_back_is_trusted() -> None:
    trust = PositionTrust()
    trust.judge(at(0), "car")
    assert trust.judge(at(30, -33.0, 151.0), "car") is Verdict.HELD
    assert trust.judge(at(60, north_km(0.8)), "car") is Verdict.TRUSTED
    # The glitch is forgotten: its twin later is held again, not confirmed.
    assert trust.judge(at(90, -33.0, 151.0), "car") is Verdict.HELD


def test_held_positions_are_bounded() -> None:
    trust = PositionTrust()
    trust.judge(at(0), "car")
    for n in range(HELD_SOURCES * 5):
        trust.judge(at(1, -30.0, 150.0), f"src{n}")
    assert len(trust.held) == HELD_SOURCES


def _pos(lat: float, lon: float, when: datetime, *, valid: bool = True) -> Position:
    return Position(
        protocol="h02",
        device_id="1",
        message_type="V1",
        fix_time=when,
        valid=valid,
        latitude=lat,
        longitude=lon,
        speed_kmh=50.0,
        course=0.0,
    )


def test_first_fix_accepted_restored_fix_is_the_anchor_invalid_fixes_judged_never() -> None:
    tracker = TrackerState("1", "Car")
    assert not tracker.apply(_pos(-33.0, 151.0, T0), T0, 0.0, "a").held  # nothing trusted yet
    assert tracker.latitude == -33.0
    # After a restart: the restored fix (its time) is what a new report is measured from.
    restored = TrackerState("1", "Car", latitude=50.0, longitude=4.0, fix_time=T0)
    later = T0 + timedelta(minutes=1)
    assert restored.apply(_pos(-33.0, 151.0, later), later, 1.0, "a").held
    assert (restored.latitude, restored.longitude) == (50.0, 4.0)
    # An invalid fix carries no position: neither held nor shown.
    assert not restored.apply(_pos(10.0, 10.0, later, valid=False), later, 2.0, "a").held
    assert restored.latitude == 50.0
    assert restored.would_move(_pos(north_km(1), 4.0, later), later)
    assert not restored.would_move(_pos(10.0, 10.0, later), later)
    assert not restored.would_move(_pos(north_km(1), 4.0, later, valid=False), later)


def test_ahead_of_the_clock_9_minutes_trusted_11_not_and_neither_pins_the_marker() -> None:
    tracker = TrackerState("1", "Car")
    now = T0
    nine = tracker.apply(_pos(50.0, 4.0, now + timedelta(minutes=9)), now, 0.0, "a")
    assert not nine.untrusted_time
    assert tracker.fix_time == now  # never later than it arrived
    now += timedelta(seconds=30)
    eleven = tracker.apply(_pos(50.001, 4.0, now + timedelta(minutes=11)), now, 1.0, "a")
    assert eleven.untrusted_time
    now += timedelta(seconds=30)
    genuine = tracker.apply(_pos(50.002, 4.0, now - timedelta(seconds=2)), now, 2.0, "a")
    assert not genuine.late
    assert tracker.latitude == 50.002
    # One datagram 23 h ahead: untrusted, and the next genuine report is shown.
    now += timedelta(seconds=30)
    assert tracker.apply(_pos(50.003, 4.0, now + timedelta(hours=23)), now, 3.0, "b").untrusted_time
    now += timedelta(seconds=30)
    assert not tracker.apply(_pos(50.004, 4.0, now - timedelta(seconds=2)), now, 4.0, "a").late
    assert tracker.latitude == 50.004


def test_an_established_local_time_offset_is_trusted_hours_ahead() -> None:
    clock = FixClock(min_span_s=0)
    received = T0
    for _ in range(3):
        clock.correct(received + timedelta(hours=8, seconds=-3), received, live=True)
        received += timedelta(seconds=30)
    result = clock.correct(received + timedelta(hours=8, seconds=-3), received, live=True)
    assert result.trusted
    assert result.time == received - timedelta(seconds=3)
    assert clock.peek(received + timedelta(hours=8, seconds=-3), received) == result.time


def test_allow_list_and_connection_table() -> None:
    networks = parse_networks(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])
    assert allowed("10.1.2.3", networks)
    assert allowed("::ffff:10.1.2.3", networks)  # IPv4 on a dual-stack socket
    assert allowed("2001:db8::5", networks)
    assert allowed("192.0.2.7", networks)
    assert not allowed("192.0.2.8", networks)
    assert not allowed("junk", networks)
    assert allowed("203.0.113.1", ())  # no list: everyone
    for bad in (["10.0.0.0/33"], ["nonsense"], ["10.0.0.1"] * 101):
        try:
            parse_networks(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")

    class P:
        def __init__(self, host: str, identified: bool = False) -> None:
            self.host, self.identified = host, identified

    table: Connections[P] = Connections()
    known, a1, a2, b1 = P("a", True), P("a"), P("a"), P("b")
    for peer in (known, a1, a2, b1):
        table.add(peer)
    assert (len(table), table.count("a"), table.count("b")) == (4, 3, 1)
    assert table.oldest_unidentified() is a1
    assert table.oldest_unidentified("b") is b1
    table.discard(a1)
    table.discard(a1)  # twice: no harm
    assert (table.count("a"), table.oldest_unidentified("a")) == (2, a2)
    table.discard(b1)
    assert table.count("b") == 0
    assert b1 not in table


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
)
def test_plausible_never_raises(lat: float, lon: float, seconds: float) -> None:
    result = plausible(at(0), at(seconds, lat, lon))
    assert isinstance(result, bool)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        assert result is False  # NaN or infinite: never believed
