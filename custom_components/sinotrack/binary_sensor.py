"""On/off facts about a tracker: online, ignition, external power, immobilizer, moving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined, unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import SinoTrackEntity, add_per_tracker
from .integration import SinoTrackConfigEntry
from .tracker import TrackerState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SinoTrackBinarySensorDescription(BinarySensorEntityDescription):
    """A tracker flag shown as a binary sensor."""

    value_fn: Callable[[TrackerState], bool | None]
    watches: tuple[str, ...]  # the tracker fields value_fn reads
    restore: bool = True  # connectivity is not restored: it is what we see now


BINARY_SENSORS: tuple[SinoTrackBinarySensorDescription, ...] = (
    SinoTrackBinarySensorDescription(
        key="connectivity",
        watches=("online",),
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda t: t.online,
        restore=False,
    ),
    SinoTrackBinarySensorDescription(
        key="ignition",
        watches=("ignition",),
        value_fn=lambda t: t.ignition,
    ),
    SinoTrackBinarySensorDescription(
        key="external_power",
        watches=("external_power",),
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda t: t.external_power,
    ),
    SinoTrackBinarySensorDescription(
        key="immobilized",
        watches=("immobilized",),
        value_fn=lambda t: t.immobilized,
    ),
    SinoTrackBinarySensorDescription(
        key="moving",
        watches=("speed_kmh",),
        device_class=BinarySensorDeviceClass.MOVING,
        value_fn=lambda t: t.moving,
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


class SinoTrackBinarySensor(SinoTrackEntity, BinarySensorEntity, RestoreEntity):
    """Shows the tracker's flag, or the restored one until the tracker reports it."""

    entity_description: SinoTrackBinarySensorDescription

    def __init__(
        self, tracker: TrackerState, description: SinoTrackBinarySensorDescription
    ) -> None:
        super().__init__(tracker, description.key)
        self.entity_description = description
        self.watches = description.watches
        self._value_fn = description.value_fn
        self._restored: bool | None = None

    def _shown(self) -> bool | None:
        value = self._value_fn(self.tracker)  # once per report per entity: kept lean
        return self._restored if value is None else value

    @property
    def is_on(self) -> bool | None:
        return self._shown()

    async def async_added_to_hass(self) -> None:
        if self.entity_description.restore and (last := await self.async_get_last_state()):
            self._restored = {STATE_ON: True, STATE_OFF: False}.get(last.state)
        await super().async_added_to_hass()
