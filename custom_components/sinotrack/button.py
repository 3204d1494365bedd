"""Ask a tracker for its position now; send the set-up SMS again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SinoTrackEntity, add_per_tracker
from .hub import Hub
from .protocol import Command, CommandKind
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    hub = entry.runtime_data.hub
    add_per_tracker(
        entry,
        async_add_entities,
        lambda tracker: [
            SinoTrackRequestPosition(hub, tracker),
            SinoTrackConfigureBySms(hub, tracker),
        ],
    )


class SinoTrackRequestPosition(SinoTrackEntity, ButtonEntity):
    """Sends the position request (H02 ``CR``, JT/T 808 0x8201); queued if the tracker is away."""

    def __init__(self, hub: Hub, tracker: TrackerState) -> None:
        super().__init__(tracker, "request_position")
        self.hub = hub

    async def async_press(self) -> None:
        await self.hub.send_command(self.tracker.tracker_id, Command(CommandKind.REQUEST_POSITION))


class SinoTrackConfigureBySms(SinoTrackEntity, ButtonEntity):
    """Sends the set-up SMS again with the values ``configure_by_sms`` last had."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_entity_registry_enabled_default = False  # needs an SMS gateway

    def __init__(self, hub: Hub, tracker: TrackerState) -> None:
        super().__init__(tracker, "configure_by_sms")
        self.hub = hub

    async def async_press(self) -> None:
        await self.hub.configure_by_sms(self.tracker.tracker_id)
