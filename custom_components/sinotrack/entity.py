"""Base entity: one tracker's device; entities that follow the tracker through its signal."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, MANUFACTURER, signal_tracker_status, signal_tracker_updated
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry


def add_per_tracker(
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[TrackerState], Iterable[Entity]],
) -> None:
    """Add ``build(tracker)`` for every tracker of the entry, now and whenever one is added."""

    @callback
    def add(tracker: TrackerState) -> None:
        async_add_entities(list(build(tracker)), config_subentry_id=tracker.subentry_id)

    entry.runtime_data.hub.register_platform(add)


class SinoTrackEntity(Entity):
    """An entity of one tracker's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, tracker: TrackerState, key: str) -> None:
        self.tracker = tracker
        self._attr_translation_key = key
        self._attr_unique_id = f"{tracker.tracker_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, tracker.tracker_id)},
            manufacturer=MANUFACTURER,
            name=tracker.name,
            serial_number=tracker.tracker_id,
            model=tracker.model,
            sw_version=tracker.firmware,
        )


class SinoTrackStateEntity(SinoTrackEntity):
    """Shows something of the tracker's state: recomputed on each of the tracker's signals,
    written only when what it shows changed (the recorder keeps every state written)."""

    _follows_status = False  # the tracker's status signal, not the one of its every message
    # Shows what a live report measures (speed, ignition …): unavailable once the tracker went
    # silent for ``offline_after``, not a last value that looks current; back with its next report.
    _offline_unavailable = False

    def _refresh(self) -> bool:
        """Recompute what the entity shows into its ``_attr_`` values; whether they changed."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self._refresh()  # what the first state write shows
        self._refresh_available()
        signal = signal_tracker_status if self._follows_status else signal_tracker_updated
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal(self.tracker.subentry_id), self._tracker_updated
            )
        )

    def _refresh_available(self) -> bool:
        if not self._offline_unavailable:
            return False
        available = not self.tracker.went_offline
        if available == self._attr_available:
            return False
        self._attr_available = available
        return True

    @callback
    def _tracker_updated(self) -> None:
        # Both, always: "or" would skip the availability when the value changed.
        if self._refresh() | self._refresh_available():
            self.async_write_ha_state()
