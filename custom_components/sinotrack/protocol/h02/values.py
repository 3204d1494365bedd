"""The H02 values that repeat report after report, decoded once: status words and dates.

Also the binary battery byte. The caches are keyed on single field values that genuinely repeat
in real traffic (a tracker sends a handful of status words and one date a day), never on whole
frames; their bound only matters under fuzzing. Reference: ``docs/protocol/h02.md`` §5 (status
words of both dialects), §3 (dates), §6 (battery byte).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntFlag
from typing import Final

from ..model import Alarm, Flags

_MASK32: Final = 0xFFFFFFFF
_CACHE_LIMIT: Final = 4096
NO_ALARMS: frozenset[Alarm] = frozenset()


class H02Status(IntFlag):
    """The 32 bits of the status word by their classic meaning (docs/protocol/h02.md §5.1).

    The word is active-low: a condition is active when its bit is 0. The vendor table marks
    bit 17 active-high, but then every idle word (FFFFFFFF) would report it, so it is treated
    like the others. The 4G dialect reads bits 5, 6, 17 and 25 otherwise (§5.2). Use
    ``active_conditions`` rather than testing bits by hand.
    """

    THEFT_ALARM = 1 << 0  # armed and vibration/motion
    ROBBERY_ALARM = 1 << 1  # panic / SOS button
    OVERSPEED_ALARM = 1 << 2
    ILLEGAL_IGNITION_ALARM = 1 << 3
    GEOFENCE_ENTER_ALARM = 1 << 4
    GPS_ANTENNA_OPEN_ALARM = 1 << 5  # 4G: low battery
    GPS_ANTENNA_SHORT_ALARM = 1 << 6  # 4G: low battery
    GEOFENCE_EXIT_ALARM = 1 << 7
    DOOR_OPEN = 1 << 8
    ARMED = 1 << 9
    ACC_OFF = 1 << 10  # bit set = ignition on
    RESERVED_11 = 1 << 11
    RESERVED_12 = 1 << 12
    ENGINE = 1 << 13
    CUSTOM_ALARM = 1 << 14
    OVERSPEED_STATE = 1 << 15
    GPS_RECEIVER_FAULT = 1 << 16
    ANALOG_OVER_LIMIT = 1 << 17  # 4G: vibration alarm
    SOS_STATE = 1 << 18
    BACKUP_BATTERY = 1 << 19  # external power cut, running on the internal battery
    BATTERY_REMOVED = 1 << 20
    GPS_ANTENNA_OPEN = 1 << 21
    GPS_ANTENNA_SHORT = 1 << 22
    SENSOR2_LOW = 1 << 23
    TEMPERATURE_ALARM = 1 << 24
    WRONG_PASSWORD_ALARM = 1 << 25  # 4G: displacement (moved) alarm
    GPRS_BLOCKED = 1 << 26  # SinoTrack clears it routinely; 4G: "data update". Not an alarm.
    ENGINE_CUT = 1 << 27  # immobiliser engaged (S20)
    BATTERY_REMOVAL_STATE = 1 << 28
    SENSOR1_HIGH = 1 << 29
    SENSOR2_HIGH = 1 << 30
    SENSOR1_LOW = 1 << 31


def active_conditions(status: int) -> H02Status:
    """The conditions a raw status word reports as active (undoing the negative logic)."""
    return H02Status(~status & _MASK32)


# Alarm mapping (bit -> alarm when the condition is active), classic table. Left out on purpose:
# bit 14 (custom) and bit 15 (overspeed *state*), which real units clear while parked (FFFFBBFF,
# FFFF7BFF at 0 kn in the vectors), bit 17 (analog input), bit 24 (temperature, FEFFFFFF on a
# plain fix), bit 26 (SinoTrack clears it routinely), bits 13/23/29-31 (inputs, not alarms) and
# bits 9/10/27 (states exposed as flags).
_CLASSIC_ALARMS: Final[tuple[tuple[int, Alarm], ...]] = (
    (H02Status.THEFT_ALARM, Alarm.VIBRATION),
    (H02Status.ROBBERY_ALARM, Alarm.SOS),
    (H02Status.SOS_STATE, Alarm.SOS),
    (H02Status.OVERSPEED_ALARM, Alarm.OVERSPEED),
    (H02Status.ILLEGAL_IGNITION_ALARM, Alarm.ILLEGAL_IGNITION),
    (H02Status.GEOFENCE_ENTER_ALARM, Alarm.GEOFENCE),
    (H02Status.GEOFENCE_EXIT_ALARM, Alarm.GEOFENCE),
    (H02Status.GPS_ANTENNA_OPEN_ALARM, Alarm.GPS_ANTENNA),
    (H02Status.GPS_ANTENNA_SHORT_ALARM, Alarm.GPS_ANTENNA),
    (H02Status.GPS_ANTENNA_OPEN, Alarm.GPS_ANTENNA),
    (H02Status.GPS_ANTENNA_SHORT, Alarm.GPS_ANTENNA),
    (H02Status.DOOR_OPEN, Alarm.DOOR),
    (H02Status.BACKUP_BATTERY, Alarm.POWER_CUT),
    (H02Status.BATTERY_REMOVED, Alarm.TAMPER),
    (H02Status.BATTERY_REMOVAL_STATE, Alarm.TAMPER),
    (H02Status.WRONG_PASSWORD_ALARM, Alarm.TAMPER),
    (H02Status.GPS_RECEIVER_FAULT, Alarm.FAULT),
)

# The 4G dialect's table (§5.2) where it disagrees with the classic one: bits 5/6 low battery
# (not the GPS antenna), 17 vibration (not the analog input), 25 moved (not wrong passwords).
# Bits it does not name keep their classic meaning (0, 19, 27 … still apply); 26 stays no alarm.
_FOUR_G_BITS: Final = (
    H02Status.GPS_ANTENNA_OPEN_ALARM
    | H02Status.GPS_ANTENNA_SHORT_ALARM
    | H02Status.ANALOG_OVER_LIMIT
    | H02Status.WRONG_PASSWORD_ALARM
)
_FOUR_G_ALARMS: Final[tuple[tuple[int, Alarm], ...]] = (
    *((bit, alarm) for bit, alarm in _CLASSIC_ALARMS if not bit & _FOUR_G_BITS),
    (H02Status.GPS_ANTENNA_OPEN_ALARM, Alarm.LOW_BATTERY),
    (H02Status.GPS_ANTENNA_SHORT_ALARM, Alarm.LOW_BATTERY),
    (H02Status.ANALOG_OVER_LIMIT, Alarm.VIBRATION),
    (H02Status.WRONG_PASSWORD_ALARM, Alarm.MOVEMENT),
)

StatusInfo = tuple[int, Flags, frozenset[Alarm]]
HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


class StatusTable:
    """One dialect's reading of the status word, with its caches (words repeat constantly)."""

    __slots__ = ("_alarm_bits", "_by_int", "_by_text", "name")

    def __init__(self, name: str, alarm_bits: tuple[tuple[int, Alarm], ...]) -> None:
        self.name = name
        self._alarm_bits = alarm_bits
        self._by_int: dict[int, StatusInfo] = {}
        self._by_text: dict[str, StatusInfo | None] = {}

    def word(self, status: int) -> StatusInfo:
        """``(status, Flags, alarms)`` of a raw status word."""
        info = self._by_int.get(status)
        if info is None:
            active = ~status & _MASK32
            # The flags' bits mean the same in both dialects (§5.2: 9, 10, 19, 27; 8 unnamed).
            flags = Flags(
                ignition=not (active & H02Status.ACC_OFF),
                external_power_cut=bool(active & H02Status.BACKUP_BATTERY),
                immobilizer_engaged=bool(active & H02Status.ENGINE_CUT),
                door_open=bool(active & H02Status.DOOR_OPEN),
                armed=bool(active & H02Status.ARMED),
            )
            alarms = frozenset(alarm for bit, alarm in self._alarm_bits if active & bit)
            info = (status, flags, alarms or NO_ALARMS)
            if len(self._by_int) >= _CACHE_LIMIT:
                self._by_int.clear()
            self._by_int[status] = info
        return info

    def text(self, text: str) -> StatusInfo | None:
        """Status info of an 8-hex-digit field; None if the field is not a status word."""
        try:
            return self._by_text[text]
        except KeyError:
            pass
        is_word = len(text) == 8 and HEX_DIGITS.issuperset(text)
        info = self.word(int(text, 16)) if is_word else None
        if len(self._by_text) >= _CACHE_LIMIT:
            self._by_text.clear()
        self._by_text[text] = info
        return info

    def cached(self) -> int:
        """Entries held (both caches), for the tests of the bound."""
        return len(self._by_int) + len(self._by_text)


CLASSIC: Final = StatusTable("classic", _CLASSIC_ALARMS)
FOUR_G: Final = StatusTable("4g", _FOUR_G_ALARMS)


def status_info(status: int, *, four_g: bool = False) -> StatusInfo:
    """``(status, Flags, alarms)`` of a raw status word, read by the classic or the 4G table."""
    return (FOUR_G if four_g else CLASSIC).word(status)


# --- dates -----------------------------------------------------------------------------------

_ISO_DAYS: dict[str, str | None] = {}


def iso_day(ddmmyy: str) -> str | None:
    """``DDMMYY`` -> ``"YYYYMMDDT"`` (ISO 8601 basic, for ``datetime.fromisoformat``), or None
    if it is not a real date (31 February). The caller checks the six ASCII digits."""
    try:
        return _ISO_DAYS[ddmmyy]
    except KeyError:
        pass
    day, month, year = int(ddmmyy[0:2]), int(ddmmyy[2:4]), 2000 + int(ddmmyy[4:6])
    try:
        datetime(year, month, day)
    except ValueError:
        result = None
    else:
        result = f"{year:04d}{month:02d}{day:02d}T"
    if len(_ISO_DAYS) >= _CACHE_LIMIT:
        _ISO_DAYS.clear()
    _ISO_DAYS[ddmmyy] = result
    return result


def cached_days() -> int:
    return len(_ISO_DAYS)


# --- the binary battery byte -------------------------------------------------------------------


def battery_percent(value: int) -> int | None:
    """The binary battery byte (§6.3): 1-6 scale, a percentage, or 0xF1-0xF6."""
    if 1 <= value <= 3:
        return (value - 1) * 10
    if 4 <= value <= 6:
        return (value - 1) * 20
    if 7 <= value <= 100:
        return value
    if 0xF1 <= value <= 0xF6:
        return value - 0xF0
    return None


BATTERY: Final[tuple[int | None, ...]] = tuple(battery_percent(value) for value in range(256))
