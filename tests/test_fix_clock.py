"""FixClock: impossible clocks distrusted, a local-time offset learnt only when reports agree;
in a running hub, the local-time repair and the marker that follows every report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.sinotrack.fix_clock import (
    EARLIEST_PLAUSIBLE,
    MAX_AHEAD,
    MAX_OFFSET_HOURS,
    OFFSET_MIN_SPAN_S,
    OFFSET_REPORTS,
    OFFSET_STABILITY_S,
    OFFSET_TOLERANCE_S,
    FixClock,
)
from custom_components.sinotrack.hub import Hub

from .helpers import (
    FakeTracker,
    free_port,
    h02_position_frame,
    setup_listener,
    state,
)

START = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


class ReferenceClock:
    """The learning rule as specified, written plainly: every live report is looked at."""

    def __init__(self) -> None:
        self.offset_hours = 0
        self.candidate = 0
        self.count = 0
        self.first_diff = 0.0
        self.first_seen: datetime | None = None

    def correct(self, fix_time: datetime, received: datetime, live: bool) -> tuple[datetime, bool]:
        if live:
            self.observe(fix_time, received)
        offset = self.offset_hours
        if live and abs((fix_time - received).total_seconds()) <= OFFSET_TOLERANCE_S:
            offset = 0  # a live report in UTC is taken as it is
        corrected = fix_time - timedelta(hours=offset)
        if corrected > received + MAX_AHEAD or corrected < EARLIEST_PLAUSIBLE:
            return received, False
        return corrected, True

    def observe(self, fix_time: datetime, received: datetime) -> None:
        diff = (fix_time - received).total_seconds()
        hours = round(diff / 3600)
        if abs(hours) > MAX_OFFSET_HOURS or abs(diff - hours * 3600) > OFFSET_TOLERANCE_S:
            return
        if (
            hours != self.candidate
            or self.first_seen is None
            or abs(diff - self.first_diff) > OFFSET_STABILITY_S
        ):
            self.candidate, self.count = hours, 1
            self.first_diff, self.first_seen = diff, received
            return
        self.count += 1
        span = (received - self.first_seen).total_seconds()
        agreed = self.count >= OFFSET_REPORTS and span >= OFFSET_MIN_SPAN_S
        if agreed and hours != self.offset_hours:
            self.offset_hours = hours


def test_local_time_learnt_after_agreeing_reports_over_a_minute() -> None:
    clock = FixClock()
    received = START
    for k in range(OFFSET_REPORTS):
        fix = received + timedelta(hours=8, seconds=-5)
        result = clock.correct(fix, received, live=True)
        assert clock.offset_hours == (8 if k == OFFSET_REPORTS - 1 else 0)
        received += timedelta(seconds=OFFSET_MIN_SPAN_S / (OFFSET_REPORTS - 1))
    assert result.offset_shift_hours == 8
    assert result.trusted
    assert result.time == fix - timedelta(hours=8)


def test_a_report_in_utc_between_local_ones_restarts_the_count() -> None:
    clock = FixClock()
    received = START
    for hours in (8, 8, 0, 8, 8):
        clock.correct(received + timedelta(hours=hours), received, live=True)
        received += timedelta(seconds=40)
    assert clock.offset_hours == 0  # never three agreeing reports in a row
    clock.correct(received + timedelta(hours=8), received, live=True)
    assert clock.offset_hours == 8


def test_a_tracker_switched_to_utc_is_followed_at_once() -> None:
    """After the repair's SMS the first UTC report is taken as it is; the offset then goes."""
    clock = FixClock(min_span_s=0)
    received = START
    for _ in range(OFFSET_REPORTS):
        clock.correct(received + timedelta(hours=2, seconds=-3), received, live=True)
        received += timedelta(seconds=20)
    assert clock.offset_hours == 2
    local = clock.correct(received + timedelta(hours=2, seconds=-3), received, live=True)
    assert (local.time, local.trusted) == (received - timedelta(seconds=3), True)
    received += timedelta(seconds=20)
    first_utc = clock.correct(received - timedelta(seconds=3), received, live=True)
    assert (first_utc.time, first_utc.trusted) == (received - timedelta(seconds=3), True)
    assert first_utc.offset_shift_hours == 0
    assert clock.offset_hours == 2  # not unlearnt yet: the repair stays until reports agree
    # A stored report is no sign of a switch: still read with the offset in force.
    stored = clock.correct(received - timedelta(seconds=3), received, live=False)
    assert stored.time == received - timedelta(hours=2, seconds=3)
    for _ in range(OFFSET_REPORTS - 1):
        received += timedelta(seconds=20)
        result = clock.correct(received - timedelta(seconds=3), received, live=True)
        assert result.time == received - timedelta(seconds=3)
    assert clock.offset_hours == 0
    assert result.offset_shift_hours == -2


def test_stored_reports_teach_nothing_and_impossible_times_are_distrusted() -> None:
    clock = FixClock()
    received = START
    for _ in range(10):
        clock.correct(received + timedelta(hours=3), received, live=False)
        received += timedelta(minutes=1)
    assert clock.offset_hours == 0
    ahead = clock.correct(received + timedelta(days=2), received, live=False)
    assert (ahead.time, ahead.trusted) == (received, False)
    unset = clock.correct(datetime(2000, 1, 1, tzinfo=UTC), received, live=True)
    assert (unset.time, unset.trusted) == (received, False)
    missing = clock.correct(None, received, live=True)
    assert (missing.time, missing.trusted) == (received, False)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 0, 0, 1, -3, 8, 14, 15]),  # hours the device's clock is off
            st.integers(-400, 400),  # seconds of latency / drift on top
            st.integers(1, 90),  # seconds since the previous report
            st.booleans(),  # live (False: a stored report)
        ),
        max_size=40,
    )
)
def test_same_times_and_offsets_as_the_plain_rule(
    reports: list[tuple[int, int, int, bool]],
) -> None:
    """The shortcut for reports that confirm the offset in force changes no outcome."""
    clock, reference = FixClock(), ReferenceClock()
    received = START
    for hours, seconds, step, live in reports:
        received += timedelta(seconds=step)
        fix = received + timedelta(hours=hours, seconds=seconds)
        result = clock.correct(fix, received, live=live)
        assert (result.time, result.trusted) == reference.correct(fix, received, live)
        assert clock.offset_hours == reference.offset_hours


@pytest.fixture
def offsets_learnt_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hubs whose trackers adopt a local-time offset from three reports however close together
    (a real hub wants them spread over a minute)."""
    import custom_components.sinotrack as integration

    monkeypatch.setattr(integration, "Hub", partial(Hub, clock_min_span_s=0.0))


@pytest.mark.usefixtures("offsets_learnt_at_once")
async def test_local_time_offset_detected_and_corrected(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    tracker = await FakeTracker(port).connect()
    for _ in range(3):
        await tracker.send(h02_position_frame(TID, when=dt_util.utcnow() + timedelta(hours=8)))
        await tracker.read_frame()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"local_time_{TID}")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Bike", "offset": "+8", "sms": "8960000E00"}
    await tracker.send(h02_position_frame(TID, when=dt_util.utcnow() + timedelta(hours=8)))
    await tracker.read_frame()
    fix_time = entry.runtime_data.hub.trackers[TID].fix_time
    assert fix_time is not None
    assert abs((fix_time - dt_util.utcnow()).total_seconds()) < 10
    # Set to UTC later: the offset is unlearnt and the repair goes away.
    for _ in range(3):
        await tracker.send(h02_position_frame(TID))
        await tracker.read_frame()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"local_time_{TID}") is None
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("offsets_learnt_at_once")
async def test_local_time_repair_then_utc_the_marker_follows(hass: HomeAssistant) -> None:
    """Local time, the repair, the SMS to UTC: the marker follows every report, never frozen."""
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    hub: Hub = entry.runtime_data.hub
    issues = ir.async_get(hass)
    tracker = await FakeTracker(port).connect()
    latitude = 50.0

    async def report(hours: int) -> State:
        nonlocal latitude
        latitude += 0.001  # 111 m a report: driving (farther at once would be held as a jump)
        when = dt_util.utcnow() + timedelta(hours=hours, seconds=-2)
        await tracker.send(h02_position_frame(TID, lat=latitude, lon=4.5, when=when))
        await tracker.read_frame()
        return state(hass, "device_tracker", "location")

    try:
        # The tracker in local time (UTC+2): corrected once three reports agree; the repair.
        for _ in range(4):
            moved = await report(2)
            assert moved.attributes["latitude"] == pytest.approx(latitude, abs=1e-5)
        assert issues.async_get_issue(DOMAIN, f"local_time_{TID}") is not None
        assert hub.trackers[TID].clock.offset_hours == 2
        # The user sends the repair's SMS: the very first UTC report moves the marker.
        for _ in range(6):
            moved = await report(0)
            assert moved.attributes["latitude"] == pytest.approx(latitude, abs=1e-5)
            fix_time = hub.trackers[TID].fix_time
            assert fix_time is not None
            assert fix_time <= dt_util.utcnow()  # never a fix in the future
        assert hub.stats.late_reports == 0
        assert issues.async_get_issue(DOMAIN, f"local_time_{TID}") is None
        diag = await async_get_config_entry_diagnostics(hass, entry)
        assert diag["trackers"][0]["clock_offset_hours"] == 0
        assert diag["counters"]["hub"]["late_reports"] == 0
    finally:
        await tracker.close()
        await hass.config_entries.async_unload(entry.entry_id)
