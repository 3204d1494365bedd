"""Time sanity for fix times: distrust impossible clocks, learn a local-time offset.

Some H02 trackers send local time instead of UTC. Their fix times then sit a whole number of hours
away from the receive time, report after report. Buffered reports delivered late also sit away from
the receive time, but they arrive in bursts whose offsets drift; so an offset is only adopted when
several reports spread over at least a minute agree on it.

A live report whose time agrees with the receive time is taken as it is, whatever offset is in
force: UTC is what the repair asks the user to set, and the map must follow the first report after
the tracker was switched, not only once the offset has been unlearnt a minute later. (The other
reading, a buffered report exactly that many hours old, is rarer, flagged as stored by most
trackers, and overtaken by the next live report.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EARLIEST_PLAUSIBLE = datetime(2020, 1, 1, tzinfo=UTC)  # unset clocks, GPS week rollover
# Ahead of the clock by more than this is a wrong (or forged) time, unless the learnt local-time
# offset explains it: one datagram with a time hours ahead must not pin the marker.
MAX_AHEAD = timedelta(minutes=10)
MAX_OFFSET_HOURS = 14
OFFSET_TOLERANCE_S = 300.0  # network and buffering latency on a live report
OFFSET_STABILITY_S = 120.0  # how far the candidate's offsets may wander
OFFSET_REPORTS = 3
OFFSET_MIN_SPAN_S = 60.0


@dataclass(slots=True)
class Corrected:
    """A fix time after the sanity checks."""

    time: datetime
    trusted: bool  # False: the device's time was missing or impossible; receive time used
    offset_shift_hours: int = 0  # the learnt offset changed by this much with this report


class FixClock:
    """One per tracker: corrects fix times and learns a whole-hour offset."""

    __slots__ = ("_candidate", "_count", "_first_diff", "_first_seen", "min_span_s", "offset_hours")

    def __init__(self, *, min_span_s: float = OFFSET_MIN_SPAN_S) -> None:
        self.offset_hours = 0
        self.min_span_s = min_span_s
        self._candidate = 0
        self._count = 0
        self._first_diff = 0.0
        self._first_seen: datetime | None = None

    def correct(self, fix_time: datetime | None, received: datetime, *, live: bool) -> Corrected:
        """The time to use for a fix; ``live`` reports (not flagged as stored) teach the offset."""
        if fix_time is None:
            return Corrected(received, trusted=False)
        before = self.offset_hours
        if live:
            self._observe(fix_time, received)
        shift = self.offset_hours - before
        corrected = self._read(fix_time, received, live=live)
        if corrected is None:
            return Corrected(received, trusted=False, offset_shift_hours=shift)
        return Corrected(corrected, trusted=True, offset_shift_hours=shift)

    def peek(self, fix_time: datetime | None, received: datetime) -> datetime:
        """The time ``correct`` would use for a live fix, never after ``received``; learns
        nothing (whether a report from another source may move the marker)."""
        if fix_time is None:
            return received
        corrected = self._read(fix_time, received, live=True)
        return received if corrected is None else min(corrected, received)

    def _read(self, fix_time: datetime, received: datetime, *, live: bool) -> datetime | None:
        """``fix_time`` with the offset in force; None when no clock could have meant it."""
        offset = self.offset_hours
        if offset and live and abs((fix_time - received).total_seconds()) <= OFFSET_TOLERANCE_S:
            offset = 0  # in UTC already: switched by the repair's SMS (see the module's doc)
        corrected = fix_time - timedelta(hours=offset) if offset else fix_time
        if corrected > received + MAX_AHEAD or corrected < EARLIEST_PLAUSIBLE:
            return None
        return corrected

    def _observe(self, fix_time: datetime, received: datetime) -> None:
        diff = (fix_time - received).total_seconds()
        hours = round(diff / 3600)
        if hours == self._candidate == self.offset_hours:
            # The usual report confirms the offset in force: nothing to learn. (A candidate's
            # count and times only matter while it differs from the offset in force.)
            return
        if abs(hours) > MAX_OFFSET_HOURS or abs(diff - hours * 3600) > OFFSET_TOLERANCE_S:
            return  # not a clock offset: a late report, or a clock that is just wrong
        if (
            hours != self._candidate
            or self._first_seen is None
            or abs(diff - self._first_diff) > OFFSET_STABILITY_S
        ):
            self._candidate, self._count = hours, 1
            self._first_diff, self._first_seen = diff, received
            return
        self._count += 1
        span = (received - self._first_seen).total_seconds()
        if self._count >= OFFSET_REPORTS and span >= self.min_span_s and hours != self.offset_hours:
            self.offset_hours = hours
