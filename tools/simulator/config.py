"""What a simulator run does: ``SimConfig``, its checks and the choices it offers."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .h02_frames import ACK_STYLES

PROTOCOLS: Final = ("h02", "h02-binary", "jt808")
PROTOCOL_CHOICES: Final = (*PROTOCOLS, "mixed")
TRANSPORTS: Final = ("tcp", "udp")
ALARMS: Final = ("vibration", "power_cut", "sos", "low_battery")
ALARM_CHOICES: Final = (*ALARMS, "random", "none")
MAX_TRACKERS: Final = 5000
MAX_RATE: Final = 100_000.0
PROGRESS_INTERVAL_S: Final = 60.0  # real seconds between progress lines
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class SimConfig:
    """Everything a run needs. Intervals are simulated seconds, divided by ``speedup``."""

    host: str = "127.0.0.1"
    port: int = 8888
    trackers: int = 3
    protocol: str = "mixed"  # h02 | h02-binary | jt808 | mixed (round robin over the three)
    transport: str = "tcp"  # tcp | udp
    duration: float = 300.0  # real seconds
    speedup: float = 1.0
    max_rate: float = 200.0  # reports (and heartbeats) per second, all trackers together
    alarm: str = "none"  # vibration | power_cut | sos | low_battery | random | none
    alarm_after: float | None = None  # real seconds before an on-demand alarm; None: auto
    first_id: int = 4106011600
    seed: int | None = None
    quiet: bool = True
    allow_remote: bool = False
    ack_style: str = "DONE"  # DONE | OK | 80 | echo: how H02 trackers acknowledge commands
    parked: bool = False  # every car stays parked (ignition off, speed 0): immobilizer tests
    burst: bool = False  # report as fast as max_rate allows (benchmarks)
    chaos: float = 0.0  # per frame: probability of junk before it or a dropped connection
    max_reconnects: int = 100  # per tracker
    progress_s: float = PROGRESS_INTERVAL_S  # real seconds between progress lines (not quiet)
    printer: Callable[[str], None] | None = None  # where event lines go (default stdout)
    # Called for every frame sent: (tracker ID, "report" | "heartbeat" | "answer" |
    # "session" | "junk", frame). For benchmarks; keep it cheap.
    on_send: Callable[[str, str, bytes], None] | None = None

    def validate(self) -> None:
        """``ValueError`` for anything out of range (and for a non-loopback host)."""
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"refusing to send to {self.host}: only to loopback addresses (127.0.0.1, ::1, "
                "localhost) unless --allow-remote is given (allow_remote=True from Python)"
            )
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not 1-65535")
        if not 1 <= self.trackers <= MAX_TRACKERS:
            raise ValueError(f"trackers must be 1-{MAX_TRACKERS}")
        if self.protocol not in PROTOCOL_CHOICES:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOL_CHOICES)}")
        if self.transport not in TRANSPORTS:
            raise ValueError("transport must be tcp or udp")
        if not 0 < self.duration <= 7 * 86400:
            raise ValueError("duration must be more than 0 s and at most a week")
        if not 0.01 <= self.speedup <= 100_000:
            raise ValueError("speedup must be 0.01-100000")
        if not 0 < self.max_rate <= MAX_RATE:
            raise ValueError(f"max_rate must be more than 0 and at most {MAX_RATE:g}")
        if self.alarm not in ALARM_CHOICES:
            raise ValueError(f"alarm must be one of {', '.join(ALARM_CHOICES)}")
        if self.ack_style not in ACK_STYLES:
            raise ValueError(f"ack_style must be one of {', '.join(ACK_STYLES)}")
        if not 0.0 <= self.chaos <= 1.0:
            raise ValueError("chaos is a probability, 0-1")
        if self.max_reconnects < 0:
            raise ValueError("max_reconnects must not be negative")
        if self.progress_s <= 0:
            raise ValueError("progress_s must be more than 0")
        last = self.first_id + self.trackers - 1
        if self.first_id < 1_000_000_000 or last > 9_999_999_999:
            raise ValueError("tracker IDs must stay 10-digit numbers (1000000000-9999999999)")

    def protocol_of(self, index: int) -> str:
        if self.protocol == "mixed":
            return PROTOCOLS[index % len(PROTOCOLS)]
        return self.protocol
