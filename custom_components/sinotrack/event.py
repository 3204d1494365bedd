"""Alarms as events: vibration, power cut, SOS … fired when a condition becomes active."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import signal_tracker_alarm
from .entity import SinoTrackEntity, add_per_tracker
from .protocol import Alarm
from .tracker import AlarmEvent, TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

PARALLEL_UPDATES = 0

EVENT_TYPES = [alarm.value for alarm in Alarm]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_per_tracker(entry, async_add_entities, lambda tracker: [SinoTrackAlarm(tracker)])


class SinoTrackAlarm(SinoTrackEntity, EventEntity):
    """One event per alarm edge, with the report's time, position and speed."""

    _attr_event_types = EVENT_TYPES

    def __init__(self, tracker: TrackerState) -> None:
        super().__init__(tracker, "alarm")

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_tracker_alarm(self.tracker.subentry_id), self._alarm
            )
        )

    @callback
    def _alarm(self, event: AlarmEvent) -> None:
        self._trigger_event(event.alarm.value, event.data)
        self.async_write_ha_state()
