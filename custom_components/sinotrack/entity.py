"""Base entity: one tracker's device, and state written only when the shown value changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, MANUFACTURER
from .tracker import TrackerState

if TYPE_CHECKING:
    from .integration import SinoTrackConfigEntry


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
    """Subscribes to its tracker's updates; subclasses say what they show in ``_shown`` and
    which tracker fields (``tracker.WATCHABLE``) that depends on in ``watches``."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    watches: tuple[str, ...] = ()  # none: the entity does not follow the tracker's state

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
        self._last_shown: Any = object()

    def _shown(self) -> Any:
        """What this entity shows; state is written only when it changes."""
        raise NotImplementedError

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self.watches:
            self.async_on_remove(self.tracker.watch(self.watches, self._tracker_updated))
        self._last_shown = self._shown()

    @callback
    def _tracker_updated(self) -> None:
        shown = self._shown()
        if shown != self._last_shown:
            self._last_shown = shown
            self.async_write_ha_state()
