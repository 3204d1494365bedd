"""One simulated tracker, whatever its protocol: the car, the battery, alarms and reporting.

``SimTracker`` keeps what every device has (the state behind its reports, the intervals the
server may change, counters) and the order of things: ``report_frames`` (the next position,
with any alarm that is due), ``heartbeat_frame``, ``receive`` (the server's bytes in, answers
out). The protocol subclasses (``h02_tracker``, ``jt808_tracker``) write the frames and answer
the commands. All of it is synchronous, so it can be tested without sockets; the session loop
(``session``) drives it over TCP or UDP.
"""

from __future__ import annotations

import asyncio
import math
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from custom_components.sinotrack.protocol import DecodeError

from .config import ALARMS, SimConfig
from .fix import Fix
from .stats import Stats
from .vehicle import Vehicle

DRIVE_INTERVAL_S: Final = 10.0  # simulated seconds between reports while the ignition is on
PARK_INTERVAL_S: Final = 60.0  # ... while parked
HEARTBEAT_INTERVAL_S: Final = 180.0
ALARM_REPORTS: Final = 3  # reports an alarm condition stays set before it clears
POWER_CUT_S: Final = (600.0, 2700.0)  # how long a power cut lasts (simulated seconds)
BATTERY_DRAIN_PER_S: Final = 2.0 / 60  # % per simulated second on the backup battery
BATTERY_CHARGE_PER_S: Final = 1.0 / 60
LOW_BATTERY_PERCENT: Final = 20.0
RANDOM_ALARM_CHANCE: Final = 0.02  # per report, with --alarm random
MAX_BUFFER: Final = 8192  # server bytes buffered without a complete frame


class ServerFrames(Protocol):
    """The protocol package's framing of what the server sends (``*_frames.ServerFrames``)."""

    def split(self, buffer: bytes, *, final: bool) -> tuple[list[Any], bytes]: ...


@dataclass(frozen=True, slots=True)
class TrackerSnapshot:
    """One tracker right now: what it last told the server and what the car is doing."""

    tracker_id: str  # the device ID the integration derives (and shows)
    protocol: str  # "h02", "h02-binary" or "jt808"
    terminal_id: str  # as sent: the H02 ID, or the 12-digit JT/T 808 phone number
    connected: bool
    reports_sent: int
    last_sent: Fix | None  # the fix of the last position report sent
    last_status: int | None  # H02 status word / JT/T 808 status DWORD of that report
    last_alarm_word: int | None  # JT/T 808 alarm DWORD of that report
    latitude: float
    longitude: float
    speed_kmh: float
    course: float
    phase: str  # "driving", "waiting" (red light), "parked"
    ignition: bool
    immobilized: bool
    armed: bool
    power_cut: bool
    battery_percent: float
    odometer_km: float
    active_alarms: tuple[str, ...]
    drive_interval_s: float


class SimTracker:
    """One simulated device: its car, its state and the order of its reports and answers."""

    def __init__(
        self,
        index: int,
        config: SimConfig,
        stats: Stats,
        *,
        sim_clock: Callable[[], float],
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        say: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.index = index
        self.config = config
        self.stats = stats
        self.protocol = config.protocol_of(index)
        self.device_id = str(config.first_id + index)
        self.terminal_id = self.device_id  # as sent on the wire
        seed = f"{config.seed}-{index}" if config.seed is not None else None
        self.rng = random.Random(seed)
        self.sim_clock = sim_clock
        self.wall_clock = wall_clock
        self.say = say
        self.vehicle = Vehicle(self.rng, index, parked=config.parked, start_time=sim_clock())
        self.battery = self.rng.uniform(60, 100)
        self.signal = self.rng.randint(18, 31)
        self.satellites = self.rng.randint(6, 12)
        self.armed = False
        self.power_cut_until = -math.inf
        self.alarm_reports: dict[str, int] = {}  # alarm -> reports it stays set
        self.pending_alarms: list[str] = []  # to report at once
        self.low_battery_sent = False
        self.drive_interval = DRIVE_INTERVAL_S
        self.park_interval = PARK_INTERVAL_S
        self.heartbeat_interval = HEARTBEAT_INTERVAL_S
        self.tracking_until = -math.inf  # JT/T 808 0x8202 temporary tracking
        self.tracking_interval = DRIVE_INTERVAL_S
        # Session state.
        self.connected = False
        self.server_frames: ServerFrames = self.new_server_frames()
        self.buffer = b""
        self.report_now = False
        self.reboot = False
        self.reports_sent = 0
        self.heartbeats_sent = 0
        self.replies_received = 0  # the server's answers to this tracker (not its commands)
        self.session_reports = 0
        self.last_sent: Fix | None = None
        self.last_status: int | None = None
        self.last_alarm_word: int | None = None
        self.wake = asyncio.Event()  # something for the session loop to do
        self.reported = asyncio.Event()  # the first report went out
        self.init_protocol()

    # --- what the protocol subclasses provide ---------------------------------------------

    def init_protocol(self) -> None:
        """The protocol's own state (a terminal's serial counter …), set up once."""

    def new_server_frames(self) -> ServerFrames:
        """The framing of what the server sends, fresh for each connection."""
        raise NotImplementedError

    def position_frames(self, fix: Fix, new_alarms: list[str]) -> list[bytes]:
        """The frames of one position report; sets ``last_status`` (and the alarm word)."""
        raise NotImplementedError

    def keepalive_frame(self) -> bytes:
        raise NotImplementedError

    def invalid_frame(self, noise: str) -> bytes:
        """A frame of this protocol that the server must refuse."""
        raise NotImplementedError

    def answer(self, frame: Any) -> list[bytes]:
        """The answers to one frame from the server; ``ValueError`` when it makes no sense."""
        raise NotImplementedError

    # --- state ----------------------------------------------------------------------------

    @property
    def power_cut(self) -> bool:
        return self.vehicle.t < self.power_cut_until or "power_cut" in self.alarm_reports

    def advance(self) -> None:
        """Bring the car and the battery up to the current simulated time."""
        before = self.vehicle.t
        self.vehicle.advance(self.sim_clock())
        dt = self.vehicle.t - before
        if self.power_cut:
            self.battery = max(0.0, self.battery - BATTERY_DRAIN_PER_S * dt)
        else:
            self.battery = min(100.0, self.battery + BATTERY_CHARGE_PER_S * dt)
        if self.rng.random() < 0.2:
            self.signal = max(5, min(31, self.signal + self.rng.choice((-1, 1))))
            self.satellites = max(4, min(14, self.satellites + self.rng.choice((-1, 1))))
        if self.battery < LOW_BATTERY_PERCENT and self.power_cut and not self.low_battery_sent:
            self.trigger_alarm("low_battery")
        elif self.battery > LOW_BATTERY_PERCENT + 10:
            self.low_battery_sent = False

    def trigger_alarm(self, alarm: str) -> None:
        """Raise ``alarm`` on the next report, which is sent at once."""
        if alarm not in ALARMS:
            raise ValueError(f"unknown alarm {alarm!r}; one of {', '.join(ALARMS)}")
        self._raise(alarm)
        self.report_now = True
        self.wake.set()

    def _raise(self, alarm: str) -> None:
        if alarm == "power_cut":
            self.power_cut_until = self.vehicle.t + self.rng.uniform(*POWER_CUT_S)
        elif alarm == "low_battery":
            self.low_battery_sent = True
            self.battery = min(self.battery, LOW_BATTERY_PERCENT - 5)
        self.pending_alarms.append(alarm)

    def interval(self) -> float:
        """Simulated seconds until the next report."""
        if self.config.burst:
            return 0.0
        if self.vehicle.t < self.tracking_until:
            return self.tracking_interval
        return self.drive_interval if self.vehicle.ignition else self.park_interval

    def fix(self) -> Fix:
        v = self.vehicle
        return Fix(self.wall_clock(), v.latitude, v.longitude, v.speed_kmh, v.course, True, 2)

    def snapshot(self) -> TrackerSnapshot:
        v = self.vehicle
        return TrackerSnapshot(
            tracker_id=self.device_id,
            protocol=self.protocol,
            terminal_id=self.terminal_id,
            connected=self.connected,
            reports_sent=self.reports_sent,
            last_sent=self.last_sent,
            last_status=self.last_status,
            last_alarm_word=self.last_alarm_word,
            latitude=v.latitude,
            longitude=v.longitude,
            speed_kmh=v.speed_kmh,
            course=v.course,
            phase=v.phase,
            ignition=v.ignition,
            immobilized=v.engine_cut,
            armed=self.armed,
            power_cut=self.power_cut,
            battery_percent=self.battery,
            odometer_km=v.odometer_m / 1000,
            active_alarms=tuple(sorted(self.alarm_reports)),
            drive_interval_s=self.drive_interval,
        )

    # --- frames the tracker sends ---------------------------------------------------------

    def report_frames(self) -> list[bytes]:
        """The next position report (with any alarm that is due), as frames to send."""
        self.advance()
        if (
            self.config.alarm == "random"
            and not self.pending_alarms
            and self.rng.random() < RANDOM_ALARM_CHANCE
        ):
            self._raise(self.rng.choice(ALARMS))
        for alarm in self.pending_alarms:
            self.alarm_reports[alarm] = max(self.alarm_reports.get(alarm, 0), ALARM_REPORTS)
            self.stats.alarms[alarm] += 1
            self.say(f"{self.device_id} {self.protocol}: alarm {alarm}")
        new_alarms, self.pending_alarms = self.pending_alarms, []
        fix = self.fix()
        frames = self.position_frames(fix, new_alarms)
        self.last_sent = fix
        self.reports_sent += 1
        self.session_reports += 1
        self.reported.set()
        self.stats.reports[self.protocol] += 1
        for alarm in list(self.alarm_reports):
            self.alarm_reports[alarm] -= 1
            if self.alarm_reports[alarm] <= 0:
                del self.alarm_reports[alarm]
        return frames

    def heartbeat_frame(self) -> bytes:
        self.advance()
        self.heartbeats_sent += 1
        self.stats.heartbeats[self.protocol] += 1
        return self.keepalive_frame()

    def garbage_frame(self) -> bytes:
        """Junk for ``chaos``: a line of noise, or a frame the server must reject."""
        noise = "".join(self.rng.choice(string.ascii_lowercase + " ") for _ in range(12))
        if self.rng.random() < 0.5:
            return f"sim {noise}\r\n".encode("ascii")
        return self.invalid_frame(noise)

    # --- what the server sends ------------------------------------------------------------

    def connection_opened(self) -> None:
        self.connected = True
        self.buffer = b""
        self.server_frames = self.new_server_frames()

    def receive(self, data: bytes, *, datagram: bool = False) -> list[bytes]:
        """Take bytes from the server; returns the frames to answer with, in order."""
        self.stats.bytes_received += len(data)
        frames, rest = self.server_frames.split(
            data if datagram else self.buffer + data, final=datagram
        )
        if len(rest) > MAX_BUFFER:
            self.stats.error(f"{self.device_id}: {len(rest)} bytes without a frame dropped")
            rest = b""
        if not datagram:
            self.buffer = rest
        out: list[bytes] = []
        for frame in frames:
            if isinstance(frame, DecodeError):
                self.stats.error(
                    f"{self.device_id}: bad frame from the server ({frame.reason}): "
                    f"{frame.raw[:60]!r}"
                )
                continue
            try:
                out.extend(self.answer(frame))
            except ValueError as err:
                raw = frame if isinstance(frame, bytes) else frame.raw
                self.stats.error(f"{self.device_id}: bad frame from the server ({err}): {raw!r}")
        return out

    def replied(self, kind: str) -> None:
        """The server answered something this tracker sent (``kind``: "V4,V1", "0x8001" …)."""
        self.stats.replies[kind] += 1
        self.replies_received += 1
