"""The H02 values that repeat report after report, decoded once: status words and dates.

Also the binary battery byte. Shared by the general decoder (``h02_decode``) and the fast paths
(``h02_fast``). The caches are keyed on single field values that genuinely repeat in real
traffic (a tracker sends a handful of status words and one date a day), never on whole frames;
their bound only matters under fuzzing.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntFlag

from .model import Alarm, Flags

_MASK32 = 0xFFFFFFFF
NO_ALARMS: frozenset[Alarm] = frozenset()
_CACHE_LIMIT = 4096


class H02Status(IntFlag):
    """The 32 bits of the H02 status word (h02.md §4.1), named by the condition they report.

    The word is active-low: a condition is active when its bit is 0. The vendor table marks
    bit 17 active-high, but then every idle word (FFFFFFFF) would report it, so it is treated
    like the others. Use ``active_conditions`` rather than testing bits by hand.
    """

    THEFT_ALARM = 1 << 0  # armed and vibration/motion
    ROBBERY_ALARM = 1 << 1  # panic / SOS button
    OVERSPEED_ALARM = 1 << 2
    ILLEGAL_IGNITION_ALARM = 1 << 3
    GEOFENCE_ENTER_ALARM = 1 << 4
    GPS_ANTENNA_OPEN_ALARM = 1 << 5
    GPS_ANTENNA_SHORT_ALARM = 1 << 6
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
    ANALOG_OVER_LIMIT = 1 << 17
    SOS_STATE = 1 << 18
    BACKUP_BATTERY = 1 << 19  # external power cut, running on the internal battery
    BATTERY_REMOVED = 1 << 20
    GPS_ANTENNA_OPEN = 1 << 21
    GPS_ANTENNA_SHORT = 1 << 22
    SENSOR2_LOW = 1 << 23
    TEMPERATURE_ALARM = 1 << 24
    WRONG_PASSWORD_ALARM = 1 << 25
    GPRS_BLOCKED = 1 << 26  # SinoTrack units clear it routinely: informational only
    ENGINE_CUT = 1 << 27  # immobiliser engaged (S20)
    BATTERY_REMOVAL_STATE = 1 << 28
    SENSOR1_HIGH = 1 << 29
    SENSOR2_HIGH = 1 << 30
    SENSOR1_LOW = 1 << 31


def active_conditions(status: int) -> H02Status:
    """The conditions a raw status word reports as active (undoing the negative logic)."""
    return H02Status(~status & _MASK32)


# Alarm mapping (bit -> alarm when the condition is active). Left out on purpose: bit 14
# (custom) and bit 15 (overspeed *state*), which real units clear while parked (FFFFBBFF,
# FFFF7BFF at 0 kn in the vectors), bit 24 (temperature, FEFFFFFF on a plain fix), bit 26
# (SinoTrack sets it routinely), bits 13/23/29-31 (inputs, not alarms) and bits 9/10/27
# (states exposed as flags).
_ALARM_BITS: tuple[tuple[H02Status, Alarm], ...] = (
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

StatusInfo = tuple[int, Flags, frozenset[Alarm]]
STATUS_BY_INT: dict[int, StatusInfo] = {}
STATUS_BY_TEXT: dict[str, StatusInfo | None] = {}


def status_info(status: int) -> StatusInfo:
    """``(status, Flags, alarms)`` for a raw status word (cached: words repeat constantly)."""
    info = STATUS_BY_INT.get(status)
    if info is None:
        active = int(active_conditions(status))
        flags = Flags(
            ignition=not (active & H02Status.ACC_OFF),
            external_power_cut=bool(active & H02Status.BACKUP_BATTERY),
            immobilizer_engaged=bool(active & H02Status.ENGINE_CUT),
            door_open=bool(active & H02Status.DOOR_OPEN),
            armed=bool(active & H02Status.ARMED),
        )
        alarms = frozenset(alarm for bit, alarm in _ALARM_BITS if active & bit)
        info = (status, flags, alarms or NO_ALARMS)
        if len(STATUS_BY_INT) >= _CACHE_LIMIT:
            STATUS_BY_INT.clear()
        STATUS_BY_INT[status] = info
    return info


HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def text_status(text: str) -> StatusInfo | None:
    """Status info for an 8-hex-digit field, None if the field is not a status word."""
    try:
        return STATUS_BY_TEXT[text]
    except KeyError:
        pass
    info = status_info(int(text, 16)) if len(text) == 8 and HEX_DIGITS.issuperset(text) else None
    if len(STATUS_BY_TEXT) >= _CACHE_LIMIT:
        STATUS_BY_TEXT.clear()
    STATUS_BY_TEXT[text] = info
    return info


DATES: dict[str, tuple[int, int, int] | None] = {}
ISO_DATES: dict[str, str] = {}  # valid dates only: DDMMYY -> "YYYYMMDDT" (ISO 8601 basic)


def parse_date(text: str) -> tuple[int, int, int] | None:
    """``DDMMYY`` -> (year, month, day), None if it is not a date (cached: dates repeat).

    A valid date also goes into ``ISO_DATES``, from which the fast paths make the fix time
    with one ``datetime.fromisoformat`` call.
    """
    try:
        return DATES[text]
    except KeyError:
        pass
    result = None
    if len(text) == 6 and text.isdigit():
        day, month, year = int(text[0:2]), int(text[2:4]), 2000 + int(text[4:6])
        try:
            datetime(year, month, day)
            result = (year, month, day)
        except ValueError:
            result = None
    if len(DATES) >= _CACHE_LIMIT:
        DATES.clear()
        ISO_DATES.clear()
    DATES[text] = result
    if result is not None:
        ISO_DATES[text] = f"{result[0]:04d}{result[1]:02d}{result[2]:02d}T"
    return result


def battery_percent(value: int) -> int | None:
    """The binary battery byte (§5.3): 1-6 scale, a percentage, or 0xF1-0xF6."""
    if 1 <= value <= 3:
        return (value - 1) * 10
    if 4 <= value <= 6:
        return (value - 1) * 20
    if 7 <= value <= 100:
        return value
    if 0xF1 <= value <= 0xF6:
        return value - 0xF0
    return None


BATTERY: tuple[int | None, ...] = tuple(battery_percent(value) for value in range(256))
