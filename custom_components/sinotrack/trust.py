"""Whether a tracker's position can be believed (no Home Assistant): plausible moves, held jumps.

H02 has no authentication: a tracker is whoever says its ID. A position is believed when it is
physically reachable from the last trusted fix (the anchor): at most ``MAX_PLAUSIBLE_KMH`` over
the time between the two fixes, after ``JITTER_M`` of GPS noise. A jump beyond that is held per
source (the peer's address) and shown once a second report from the same source confirms it (a
car on a ferry or a tow truck still ends up on the map): a single forged report moves nothing.

The time of a fix is never later than when it was received, so a forged fix time ahead of the
clock buys no distance. The first fix of a tracker (nothing trusted yet) is believed; after a
restart the restored fix is the anchor. Invalid fixes carry no position and are never judged.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Final

from .motion import MAX_SPEED_KMH, distance_m

MAX_PLAUSIBLE_KMH: Final = MAX_SPEED_KMH  # faster than this between two fixes: not a vehicle
JITTER_M: Final = 500.0  # a re-acquired fix may jump this far at once: never held for it
HELD_SOURCES: Final = 4  # held positions kept per tracker, the least recent source dropped


@dataclass(frozen=True, slots=True)
class Fix:
    """A position and when it was taken (``None``: not known, as a fix restored without time)."""

    latitude: float
    longitude: float
    at: datetime | None


class Verdict(Enum):
    """What a position report may do."""

    TRUSTED = "trusted"  # plausible from the anchor (or the first one): shown
    CONFIRMED = "confirmed"  # a held jump its source repeated: shown
    HELD = "held"  # implausible: not shown, kept for its source's next report


def plausible(anchor: Fix | None, fix: Fix) -> bool:
    """Whether ``fix`` can follow ``anchor`` (at most ``MAX_PLAUSIBLE_KMH`` after the jitter)."""
    if not (math.isfinite(fix.latitude) and math.isfinite(fix.longitude)):
        return False  # the codecs refuse such a fix; never believed, never an exception
    if anchor is None or anchor.at is None or fix.at is None:
        return True
    metres = distance_m(anchor.latitude, anchor.longitude, fix.latitude, fix.longitude)
    if metres <= JITTER_M:
        return True
    seconds = (fix.at - anchor.at).total_seconds()
    if seconds <= 0:
        return False
    return (metres - JITTER_M) / seconds * 3.6 <= MAX_PLAUSIBLE_KMH


@dataclass(slots=True)
class PositionTrust:
    """One per tracker: the anchor, and the jumps held per source."""

    anchor: Fix | None = None
    held: OrderedDict[str, Fix] = field(default_factory=OrderedDict)

    def would_trust(self, fix: Fix) -> bool:
        """Whether ``fix`` is plausible from the anchor (judging nothing, holding nothing)."""
        return plausible(self.anchor, fix)

    def judge(self, fix: Fix, source: str) -> Verdict:
        """Trust, confirm or hold ``fix`` from ``source``; a shown fix becomes the anchor."""
        if plausible(self.anchor, fix):
            verdict = Verdict.TRUSTED
        else:
            held = self.held.pop(source, None)
            if held is None or not plausible(held, fix):
                self.held[source] = fix
                while len(self.held) > HELD_SOURCES:
                    self.held.popitem(last=False)
                return Verdict.HELD
            verdict = Verdict.CONFIRMED
        # Shown: what any source held is measured from here again (a held jump whose source
        # let the genuine tracker report in between needs two reports of its own once more).
        self.anchor = fix
        self.held.clear()
        return verdict
