"""Telemetry sensors, described once and restored across restarts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    DEGREE,
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricPotential,
    UnitOfLength,
    UnitOfSpeed,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import DOMAIN, signal_tracker_status
from .entity import SinoTrackStateEntity
from .motion import MOVING_SPEED_KMH
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

PARALLEL_UPDATES = 0

LAST_SEEN_STEP_S = 600.0


def _speed(tracker: TrackerState) -> float | None:
    """Whole km/h, as shown; below the moving threshold GPS drift, shown as 0 (as ``moving``)."""
    speed = tracker.speed_kmh
    if speed is None:
        return None
    return 0.0 if speed < MOVING_SPEED_KMH else float(round(speed))


def _course(tracker: TrackerState) -> float | None:
    """Whole degrees, as shown."""
    if tracker.course is None:
        return None
    return float(round(tracker.course) % 360)


@dataclass(frozen=True, kw_only=True)
class SinoTrackSensorDescription(SensorEntityDescription):
    """A tracker value shown as a sensor."""

    value_fn: Callable[[TrackerState], StateType | datetime]
    status: bool = False  # follows the tracker's status signal: changes a few times a day
    # A new value is written only once it is this far from the one shown (seconds for a
    # timestamp): where a reading flickers by a step while nothing a user cares about changed.
    deadband: float = 0.0
    held_while_stopped: bool = False  # the value of the last move stays while stopped
    only_when_reported: bool = False  # created once the tracker reports it (not every model does)
    # Puts the restored value back into the tracker's state (which then shows it), instead of
    # the sensor showing it until the tracker reports one: for what the integration computes.
    restore_fn: Callable[[TrackerState, object], None] | None = None
    offline_unavailable: bool = False  # a live measurement: unavailable while offline


def _restore_distance(tracker: TrackerState, value: object) -> None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        tracker.trip.resume(float(value))


def _restore_parked_since(tracker: TrackerState, value: object) -> None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        tracker.parked.resume(value)


SENSORS: tuple[SinoTrackSensorDescription, ...] = (
    SinoTrackSensorDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda t: t.battery_percent,
        status=True,
        # A parked tracker's backup battery reads a percent up and down between reports (the
        # ADC at a step's edge, the temperature): a write once it moved 2 points from the value
        # shown, as signal and satellites; charging and draining still show.
        deadband=2,
    ),
    SinoTrackSensorDescription(
        key="speed",
        offline_unavailable=True,
        device_class=SensorDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_speed,
    ),
    SinoTrackSensorDescription(
        key="course",
        offline_unavailable=True,
        native_unit_of_measurement=DEGREE,
        entity_registry_enabled_default=False,
        suggested_display_precision=0,
        value_fn=_course,
        held_while_stopped=True,  # a stopped GPS's course spins at random
    ),
    SinoTrackSensorDescription(
        key="signal",
        offline_unavailable=True,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda t: t.signal,
        # A parked tracker's signal wanders by a step or two between reports (GSM CSQ 0-31):
        # a write only when it really changed.
        deadband=2,
    ),
    SinoTrackSensorDescription(
        key="satellites",
        offline_unavailable=True,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda t: t.satellites,
        deadband=2,  # one satellite rising or setting is noise, not a change of reception
    ),
    SinoTrackSensorDescription(
        key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Disabled by default, as Z-Wave JS does with its own "Last seen": it changes with every
        # message, and the logbook leaves out only sensors with a unit or a state class, which a
        # timestamp has neither of, so it would log every report of every tracker ("Last seen
        # changed to …") and drown the changes a person cares about. Connectivity tells online
        # and offline; whoever wants the exact time enables this one.
        entity_registry_enabled_default=False,
        # A coarse timestamp: written when the latest message is 10 minutes newer than the one
        # shown, so that even enabled it costs at most a row per 10 minutes, not one per report
        # (the frontend shows it as "n minutes ago"; connectivity tells the moment it goes).
        value_fn=lambda t: None if t.last_seen is None else t.last_seen.replace(microsecond=0),
        deadband=LAST_SEEN_STEP_S,
    ),
    SinoTrackSensorDescription(
        key="odometer",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda t: t.odometer_km,
        only_when_reported=True,
    ),
    SinoTrackSensorDescription(
        # Computed here (motion.Trip) over the fixes shown, for the many trackers that report no
        # odometer: parked jitter and impossible jumps are not driven. Metres are enough
        # (the display shows 100 m; a new state per fix while driving either way).
        key="distance",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.KILOMETERS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda t: round(t.trip.km, 3),
        restore_fn=_restore_distance,
    ),
    SinoTrackSensorDescription(
        key="parked_since",  # the start of the current stop; unknown while driving
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda t: t.parked.since,
        restore_fn=_restore_parked_since,
    ),
    SinoTrackSensorDescription(
        key="altitude",  # of the fix shown; disabled by default: few people look at it
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.METERS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        suggested_display_precision=0,
        value_fn=lambda t: t.altitude_m,
    ),
    SinoTrackSensorDescription(
        key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=1,
        value_fn=lambda t: t.voltage,
        only_when_reported=True,
        # Supply voltages flicker by the ADC's 0.1 V step either way between reports (a parked
        # car's 12.5/12.6/12.7 V): written once it moved 0.3 V from the value shown, which the
        # engine starting (13.8-14.4 V charging) or a draining battery does.
        deadband=0.3,
    ),
    SinoTrackSensorDescription(
        key="iccid",  # the SIM's number, to top it up: H02 4G trackers send it at power-on (V6)
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda t: t.iccid,
        status=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    registry = er.async_get(hass)

    @callback
    def add(tracker: TrackerState) -> None:
        def exists(description: SinoTrackSensorDescription) -> bool:
            unique_id = f"{tracker.tracker_id}_{description.key}"
            return registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, unique_id) is not None

        waiting = [
            d
            for d in SENSORS
            if d.only_when_reported and d.value_fn(tracker) is None and not exists(d)
        ]
        async_add_entities(
            [SinoTrackSensor(tracker, d) for d in SENSORS if d not in waiting],
            config_subentry_id=tracker.subentry_id,
        )
        if not waiting:
            return

        @callback
        def first_report() -> None:
            # Odometer and voltage appear the first time the tracker reports them.
            for description in [d for d in waiting if d.value_fn(tracker) is not None]:
                waiting.remove(description)
                async_add_entities(
                    [SinoTrackSensor(tracker, description)],
                    config_subentry_id=tracker.subentry_id,
                )
            if not waiting:
                stop()  # the dispatcher iterates over a copy: leaving while it signals is safe

        # The status signal tells when one of them first appears (TrackerState.status_key).
        unsubscribe: CALLBACK_TYPE | None = async_dispatcher_connect(
            hass, signal_tracker_status(tracker.subentry_id), first_report
        )

        @callback
        def stop() -> None:
            nonlocal unsubscribe
            if unsubscribe is not None:
                unsubscribe()
                unsubscribe = None

        entry.async_on_unload(stop)

    entry.runtime_data.hub.register_platform(add)


class SinoTrackSensor(SinoTrackStateEntity, RestoreSensor):
    """Shows the tracker's value, or the restored one until the tracker reports it."""

    entity_description: SinoTrackSensorDescription

    def __init__(self, tracker: TrackerState, description: SinoTrackSensorDescription) -> None:
        super().__init__(tracker, description.key)
        self.entity_description = description
        self._follows_status = description.status
        self._offline_unavailable = description.offline_unavailable
        self._value_fn = description.value_fn
        self._deadband = description.deadband
        self._held = description.held_while_stopped
        self._restored: StateType | date | datetime | Decimal = None

    def _refresh(self) -> bool:
        value: StateType | date | datetime | Decimal = self._value_fn(self.tracker)
        if value is None:
            value = self._restored
        shown = self._attr_native_value
        if value == shown:
            return False
        if self._held and shown is not None and self.tracker.moving is False:
            return False
        if self._deadband and _within(value, shown, self._deadband):
            return False
        self._attr_native_value = value
        return True

    async def async_added_to_hass(self) -> None:
        if (last := await self.async_get_last_sensor_data()) is not None:
            if (restore := self.entity_description.restore_fn) is not None:
                restore(self.tracker, last.native_value)
            else:
                self._restored = last.native_value
        await super().async_added_to_hass()


def _within(value: object, shown: object, deadband: float) -> bool:
    """Whether ``value`` is less than ``deadband`` from ``shown`` (seconds for timestamps)."""
    if isinstance(value, datetime) and isinstance(shown, datetime):
        return abs((value - shown).total_seconds()) < deadband
    if isinstance(value, int | float) and isinstance(shown, int | float):
        return abs(value - shown) < deadband - 1e-9
    return False
