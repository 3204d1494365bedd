"""FixClock: impossible clocks distrusted, a local-time offset learnt only when reports agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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

START = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)


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
