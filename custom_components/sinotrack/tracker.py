"""The last known state of one tracker, and how each message changes it (no Home Assistant).

Pure state: the hub folds each message in (``TrackerState.apply``) and then tells the tracker's
entities through its dispatcher signal; nothing here knows who shows what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from .const import (
    DEFAULT_COMMAND_STYLE,
    DEFAULT_MAX_CUT_SPEED,
    DEFAULT_R12_REPLIES,
    DEFAULT_SMS_PASSWORD,
    CommandStyle,
    valid_iccid,
)
from .fix_clock import OFFSET_TOLERANCE_S, FixClock
from .motion import MOVING_SPEED_KMH, ParkedFilter, Trip, fix_accuracy_m
from .protocol import (
    Alarm,
    CellReport,
    CommandAck,
    DeviceIdentity,
    Flags,
    Heartbeat,
    Message,
    Position,
)
from .trust import Fix, PositionTrust, Verdict


@dataclass(slots=True)
class AlarmEvent:
    """An alarm that became active (or arrived late), ready to fire as an event."""

    alarm: Alarm
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one message did to the state beyond the state itself."""

    alarms: tuple[AlarmEvent, ...] = ()
    untrusted_time: bool = False
    late: bool = False
    offset_changed: bool = False
    held: bool = False  # an implausible jump, not shown (trust.py)


QUIET: Final = Outcome()  # the usual report: nothing to count, nothing to fire (no allocation)


@dataclass(slots=True)
class TrackerState:
    """Everything the entities show for one tracker."""

    tracker_id: str
    name: str
    subentry_id: str = ""
    protocol: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    fix_time: datetime | None = None
    accuracy_m: float | None = None  # of the fix shown (gps_accuracy), never 0
    altitude_m: float | None = None
    speed_kmh: float | None = None
    course: float | None = None
    battery_percent: int | None = None
    voltage: float | None = None
    odometer_km: float | None = None
    signal: int | None = None
    satellites: int | None = None
    last_seen: datetime | None = None
    last_seen_mono: float = 0.0
    report_time: datetime | None = None  # receive time of the latest (not late) position
    report_speed_kmh: float | None = None  # its speed, valid fix or not: what the interlock checks
    max_cut_speed: float = DEFAULT_MAX_CUT_SPEED  # km/h: above this an engine cut is refused
    online: bool = False
    # Silent for offline_after (or since the start): "back online" is logged once, and what a
    # live report measures (speed, ignition …) is unavailable until the next one.
    went_offline: bool = False
    ignition: bool | None = None
    external_power: bool | None = None
    immobilized: bool | None = None
    armed: bool | None = None  # H02 status bit 9 (JT/T 808 does not report it)
    status: int | None = None
    active_alarms: frozenset[Alarm] = frozenset()
    model: str | None = None
    firmware: str | None = None
    iccid: str | None = None  # its SIM (H02 V6), remembered across restarts
    dialect: str | None = None  # H02: "4g" once it sent V6/V8, remembered across restarts
    mcc: int | None = None  # the radio of the latest report that listed any (diagnostics)
    mnc: int | None = None
    cell_count: int = 0  # cells and Wi-Fi access points that report listed: counts only,
    wifi_count: int = 0  # their IDs locate the tracker
    r12_replies: bool = DEFAULT_R12_REPLIES  # the tracker's settings (subentry)
    command_style: CommandStyle = DEFAULT_COMMAND_STYLE
    phone_number: str | None = field(default=None, repr=False)  # SMS: the tracker's SIM
    sms_password: str = field(default=DEFAULT_SMS_PASSWORD, repr=False)  # a secret
    sms_fallback: bool = False  # an offline or silent tracker's immobilizer goes by SMS
    clock: FixClock = field(default_factory=FixClock)
    parked: ParkedFilter = field(default_factory=ParkedFilter)  # holds the marker while parked
    trip: Trip = field(default_factory=Trip)  # the distance driven, over the fixes shown
    trust: PositionTrust = field(default_factory=PositionTrust)  # which jumps are believed
    # The fix shown carries its receive time (its own was missing or impossible): a genuine
    # report whose clock is a little behind ours is not "late" for it (fix_clock.py).
    fix_time_untrusted: bool = False

    @property
    def moving(self) -> bool | None:
        return None if self.speed_kmh is None else self.speed_kmh >= MOVING_SPEED_KMH

    def status_key(self) -> tuple[object, ...]:
        """What changes the tracker's status (its rarer signal fires when this does): online,
        the status word (the flags come from it), the immobilizer, the battery, and whether the
        values only some models report have appeared (their sensors are created then), the SIM."""
        return (
            self.online,
            self.status,
            self.immobilized,
            self.battery_percent,
            self.odometer_km is None,
            self.voltage is None,
            self.iccid,
        )

    def apply(
        self, message: Message, received: datetime, received_mono: float, source: str = ""
    ) -> Outcome:
        """Fold one message into the state; never moves the tracker back, onto a bad fix or
        onto a jump ``source`` (the peer's address) has not confirmed (``trust.py``)."""
        self.last_seen = received
        self.last_seen_mono = received_mono
        self.protocol = message.protocol
        if isinstance(message, Position):
            return self._apply_position(message, received, source)
        if isinstance(message, CommandAck):
            if message.position is not None:
                return self._apply_position(message.position, received, source)
        elif isinstance(message, Heartbeat | CellReport):
            self._apply_flags(message.flags, message.status)
            alarms = self._apply_alarms(
                message.alarms, message.status, pos=None, when=received, late=False
            )
            if message.battery_percent is not None:
                self.battery_percent = message.battery_percent
            if isinstance(message, Heartbeat):
                self._apply_telemetry(message)
            if alarms:
                return Outcome(alarms)
        elif isinstance(message, DeviceIdentity):
            self.model = message.model or self.model
            self.firmware = message.firmware or self.firmware
            self._apply_iccid(message.iccid)
        return QUIET

    def would_move(self, pos: Position, received: datetime) -> bool:
        """Whether ``pos`` is a fix that may move the marker: valid, live, not older than the
        fix shown and plausible from the last trusted one. Judges nothing, learns nothing."""
        if not pos.valid or pos.stored:
            return False
        when = self.clock.peek(pos.fix_time, received)
        if (floor := self._late_before()) is not None and when < floor:
            return False
        return self.trust.would_trust(Fix(pos.latitude, pos.longitude, when))

    def _apply_position(self, pos: Position, received: datetime, source: str) -> Outcome:
        if pos.iccid is not None:
            self._apply_iccid(pos.iccid)
        corrected = self.clock.correct(pos.fix_time, received, live=not pos.stored)
        untrusted = pos.fix_time is not None and not corrected.trusted
        shift = corrected.offset_shift_hours
        if shift and self.fix_time is not None:
            # The fix shown was read with the old offset: read it with the new one, but never
            # later than this report. A tracker switched from local time to UTC sent correct
            # times before and after; shifting them would leave the shown fix hours in the
            # future and every genuine report after it "late", the marker frozen.
            self.fix_time = min(self.fix_time - timedelta(hours=shift), corrected.time)
        # Never later than it arrived: a clock running ahead (or a forged time) must not make
        # the next genuine reports look older than the one shown ("late", and not shown).
        fix_time = min(corrected.time, received)
        floor = self._late_before()
        late = pos.stored or (corrected.trusted and floor is not None and fix_time < floor)
        newer = not (late and floor is not None and fix_time < floor)
        # An implausible jump (trust.py): nothing of the position is shown (its alarms are).
        fix = Fix(pos.latitude, pos.longitude, fix_time)
        held = newer and pos.valid and self._held(fix, source)
        if newer and not held:
            # A newer report (live, or stored but still the newest we have).
            self.report_time = received
            self.report_speed_kmh = pos.speed_kmh
            if pos.status is not None:
                self._apply_flags(pos.flags, pos.status)
            self._apply_telemetry(pos)
            if pos.mcc is not None or pos.cells or pos.wifi:
                self.mcc, self.mnc = pos.mcc, pos.mnc
                self.cell_count, self.wifi_count = len(pos.cells), len(pos.wifi)
            if pos.valid:
                accuracy = fix_accuracy_m(pos.protocol, pos.satellites)
                # Parked jitter moves neither the marker nor the distance (motion.py).
                if self.parked.shows(
                    pos.latitude,
                    pos.longitude,
                    speed_kmh=pos.speed_kmh,
                    ignition=self.ignition,
                    accuracy_m=accuracy,
                    when=fix_time,
                ):
                    self.latitude = pos.latitude
                    self.longitude = pos.longitude
                    self.accuracy_m = accuracy
                    if pos.altitude_m is not None:
                        self.altitude_m = pos.altitude_m
                    if not untrusted:
                        self.trip.add(pos.latitude, pos.longitude, fix_time)
                elif self.latitude is not None and self.longitude is not None and not untrusted:
                    self.trip.start(self.latitude, self.longitude, fix_time)
                self.fix_time = fix_time
                self.fix_time_untrusted = untrusted or pos.fix_time is None
                self.speed_kmh = pos.speed_kmh
                self.course = pos.course
            if pos.odometer_km is not None:
                self.odometer_km = pos.odometer_km
        alarms = self._apply_alarms(pos.alarms, pos.status, pos=pos, when=fix_time, late=late)
        if alarms or untrusted or late or shift or held:
            return Outcome(alarms, untrusted, late, bool(shift), held)
        return QUIET

    def _late_before(self) -> datetime | None:
        """A fix older than this is late (not shown): the fix shown, less the network's delay
        when it carries only its receive time."""
        if self.fix_time is None or not self.fix_time_untrusted:
            return self.fix_time
        return self.fix_time - timedelta(seconds=OFFSET_TOLERANCE_S)

    def _held(self, fix: Fix, source: str) -> bool:
        trust = self.trust
        if trust.anchor is None and self.latitude is not None and self.longitude is not None:
            # Nothing judged since the start: the restored fix is the last trusted one.
            trust.anchor = Fix(self.latitude, self.longitude, self.fix_time)
        return trust.judge(fix, source) is Verdict.HELD

    def _apply_flags(self, flags: Flags, status: int | None) -> None:
        if status is None:
            return
        self.status = status
        if flags.ignition is not None:
            self.ignition = flags.ignition
        if flags.external_power_cut is not None:
            self.external_power = not flags.external_power_cut
        if flags.immobilizer_engaged is not None:
            self.immobilized = flags.immobilizer_engaged
        if flags.armed is not None:
            self.armed = flags.armed

    def _apply_iccid(self, iccid: str | None) -> None:
        if iccid is not None and valid_iccid(iccid):
            self.iccid = iccid

    def _apply_telemetry(self, msg: Position | Heartbeat) -> None:
        if msg.battery_percent is not None:
            self.battery_percent = msg.battery_percent
        voltage = msg.power_voltage if msg.power_voltage is not None else msg.battery_voltage
        if voltage is not None:
            self.voltage = voltage
        if msg.signal is not None:
            self.signal = msg.signal
        if msg.satellites is not None:
            self.satellites = msg.satellites

    def _apply_alarms(
        self,
        alarms: frozenset[Alarm],
        status: int | None,
        *,
        pos: Position | None,
        when: datetime,
        late: bool,
    ) -> tuple[AlarmEvent, ...]:
        """The alarms to fire, on the edge: one that stays active across reports fires once."""
        if not alarms:  # the usual report: nothing can fire
            if not late and status is not None:
                self.active_alarms = alarms
            return ()
        if late:
            fresh: frozenset[Alarm] = alarms - self.active_alarms
        elif status is None:
            fresh = alarms  # a one-shot alarm message (H02 ALRM …), not a status word
        else:
            fresh = alarms - self.active_alarms
            self.active_alarms = alarms
        events = []
        for alarm in sorted(fresh):
            data: dict[str, Any] = {"fix_time": when.isoformat(), "delayed": late}
            if pos is not None and pos.valid:
                # Not "latitude"/"longitude": the map draws every entity with those attributes,
                # and the alarm would be a second marker beside its tracker.
                data["fix_latitude"] = pos.latitude
                data["fix_longitude"] = pos.longitude
            if pos is not None:
                data["speed"] = pos.speed_kmh
            events.append(AlarmEvent(alarm, data))
        return tuple(events)
