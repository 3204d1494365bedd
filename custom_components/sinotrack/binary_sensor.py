"""On/off facts about a tracker: online, ignition, external power, immobilizer, armed, moving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined, unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import SinoTrackStateEntity, add_per_tracker
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SinoTrackBinarySensorDescription(BinarySensorEntityDescription):
    """A tracker flag shown as a binary sensor."""

    value_fn: Callable[[TrackerState], bool | None]
    restore: bool = True  # connectivity is not restored: it is what we see now
    status: bool = True  # follows the tracker's status signal (motion follows every report)
    offline_unavailable: bool = False  # what a live report tells: unavailable while offline


BINARY_SENSORS: tuple[SinoTrackBinarySensorDescription, ...] = (
    SinoTrackBinarySensorDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda t: t.online,
        restore=False,
    ),
    SinoTrackBinarySensorDescription(
        key="ignition",
        offline_unavailable=True,
        value_fn=lambda t: t.ignition,
    ),
    SinoTrackBinarySensorDescription(
        key="external_power",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda t: t.external_power,
    ),
    SinoTrackBinarySensorDescription(
        key="immobilized",
        value_fn=lambda t: t.immobilized,
    ),
    SinoTrackBinarySensorDescription(
        key="armed",  # the status word's bit 9 (H02); unknown where the protocol has none
        value_fn=lambda t: t.armed,
    ),
    SinoTrackBinarySensorDescription(
        key="moving",
        offline_unavailable=True,
        device_class=BinarySensorDeviceClass.MOVING,
        value_fn=lambda t: t.moving,
        status=False,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_per_tracker(
        entry,
        async_add_entities,
        lambda tracker: [SinoTrackBinarySensor(tracker, d) for d in BINARY_SENSORS],
    )


class SinoTrackBinarySensor(SinoTrackStateEntity, BinarySensorEntity, RestoreEntity):
    """Shows the tracker's flag, or the restored one until the tracker reports it."""

    entity_description: SinoTrackBinarySensorDescription

    def __init__(
        self, tracker: TrackerState, description: SinoTrackBinarySensorDescription
    ) -> None:
        super().__init__(tracker, description.key)
        self.entity_description = description
        self._follows_status = description.status
        self._offline_unavailable = description.offline_unavailable
        self._value_fn = description.value_fn
        self._restored: bool | None = None

    def _refresh(self) -> bool:
        value = self._value_fn(self.tracker)  # once per signal per entity: kept lean
        if value is None:
            value = self._restored
        if value == self._attr_is_on:
            return False
        self._attr_is_on = value
        return True

    async def async_added_to_hass(self) -> None:
        if self.entity_description.restore and (last := await self.async_get_last_state()):
            self._restored = {STATE_ON: True, STATE_OFF: False}.get(last.state)
        await super().async_added_to_hass()
