"""What a run counts (``Stats``, shared by its trackers) and what it reports (``Summary``)."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field, fields
from typing import Any, Final

ERROR_SAMPLES: Final = 10


@dataclass(slots=True)
class Stats:
    """Running counters, shared by every tracker of one run."""

    reports: Counter[str] = field(default_factory=Counter)  # per protocol
    heartbeats: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)  # "V4,V1", "R12", "0x8001" …
    commands: Counter[str] = field(default_factory=Counter)  # "S20", "CR", "0x8105" …
    commands_answered: int = 0
    errors: int = 0
    error_samples: deque[str] = field(default_factory=lambda: deque(maxlen=ERROR_SAMPLES))
    connects: int = 0
    reconnects: int = 0
    chaos_drops: int = 0
    garbage_sent: int = 0
    alarms: Counter[str] = field(default_factory=Counter)
    frames_sent: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    def error(self, message: str) -> None:
        self.errors += 1
        self.error_samples.append(message)


def plural(count: int, noun: str) -> str:
    """ "1 tracker", "3 trackers"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))


@dataclass(frozen=True, slots=True)
class Summary:
    """What a run did; ``format()`` is the text the command line prints."""

    target: str
    transport: str
    trackers: int
    protocols: dict[str, int]  # trackers per protocol
    elapsed_s: float
    speedup: float
    reports_sent: dict[str, int]  # per protocol
    heartbeats_sent: dict[str, int]
    replies_received: dict[str, int]
    commands_received: dict[str, int]
    commands_answered: int
    alarms_sent: dict[str, int]
    connects: int
    reconnects: int
    chaos_drops: int
    garbage_sent: int
    frames_sent: int
    bytes_sent: int
    bytes_received: int
    errors: int
    error_samples: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every field plus ``total_reports``, ``delivered`` and ``exit_code``."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["error_samples"] = list(self.error_samples)
        data.update(
            total_reports=self.total_reports, delivered=self.delivered, exit_code=self.exit_code
        )
        return data

    @property
    def total_reports(self) -> int:
        return sum(self.reports_sent.values())

    @property
    def delivered(self) -> bool:
        """Whether reports got through: some were sent, and the server answered something
        (or nothing went wrong: a server may stay silent, but UDP to a closed port errs)."""
        if not self.total_reports:
            return False
        return bool(self.replies_received) or not self.errors

    @property
    def exit_code(self) -> int:
        """0 unless nothing could be sent (see ``delivered``)."""
        return 0 if self.delivered else 1

    def format(self) -> str:
        def listing(values: dict[str, int], *, total: bool = True) -> str:
            if not values:
                return "none"
            parts = ", ".join(f"{k} {v}" for k, v in values.items())
            if total and len(values) > 1:
                return f"{parts} (total {sum(values.values())})"
            return parts

        lines = [
            "SinoTrack simulator summary",
            f"  target            {self.target} over {self.transport}",
            f"  trackers          {self.trackers} ({listing(self.protocols, total=False)})",
            f"  ran               {self.elapsed_s:.1f} s at speedup {self.speedup:g}",
            f"  reports sent      {listing(self.reports_sent)}",
            f"  heartbeats sent   {listing(self.heartbeats_sent)}",
            f"  replies received  {listing(self.replies_received)}",
            f"  commands          received {sum(self.commands_received.values())}"
            + (
                f" ({listing(self.commands_received, total=False)})"
                if self.commands_received
                else ""
            )
            + f", answered {self.commands_answered}",
            f"  alarms sent       {listing(self.alarms_sent)}",
            f"  connections       {self.connects} opened, {self.reconnects} reconnects"
            + (
                f", {self.chaos_drops} dropped on purpose, {self.garbage_sent} junk frames"
                if self.chaos_drops or self.garbage_sent
                else ""
            ),
            f"  traffic           {self.frames_sent} frames, {self.bytes_sent} bytes out, "
            f"{self.bytes_received} bytes in",
            f"  errors            {self.errors}",
        ]
        lines.extend(f"    {sample}" for sample in self.error_samples)
        if not self.delivered:
            lines.append("  NOTHING GOT THROUGH: is a listener running on the target port?")
        return "\n".join(lines)
