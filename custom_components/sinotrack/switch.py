"""The immobilizer: on = engine/fuel cut. Its state is what the tracker confirmed, never a guess."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import SinoTrackStateEntity, add_per_tracker
from .hub import Hub
from .immobilizer import IMMOBILIZER_KINDS
from .protocol import Command, CommandKind
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

PARALLEL_UPDATES = 1  # one engine command at a time per platform


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    hub = entry.runtime_data.hub
    add_per_tracker(entry, async_add_entities, lambda tracker: [SinoTrackImmobilizer(hub, tracker)])


class SinoTrackImmobilizer(SinoTrackStateEntity, SwitchEntity, RestoreEntity):
    """Turning it on asks the tracker to cut the engine; it turns on once the tracker confirms."""

    _follows_status = True  # the immobilizer flag and the command queue

    def __init__(self, hub: Hub, tracker: TrackerState) -> None:
        super().__init__(tracker, "immobilizer")
        self.hub = hub
        self._restored: bool | None = None
        self._attr_extra_state_attributes = {"pending_command": None}

    def _pending(self) -> str | None:
        for pending in self.hub.commands.pending_for(self.tracker.tracker_id):
            if pending.command.kind in IMMOBILIZER_KINDS:
                return pending.command.kind.value
        return None

    def _refresh(self) -> bool:
        is_on = self.tracker.immobilized
        if is_on is None:
            is_on = self._restored
        pending = self._pending()
        if is_on == self._attr_is_on and pending == self._attr_extra_state_attributes.get(
            "pending_command"
        ):
            return False
        self._attr_is_on = is_on
        self._attr_extra_state_attributes = {"pending_command": pending}
        return True

    async def async_added_to_hass(self) -> None:
        if (last := await self.async_get_last_state()) is not None:
            self._restored = {"on": True, "off": False}.get(last.state)
        await super().async_added_to_hass()

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.hub.send_command(self.tracker.tracker_id, Command(CommandKind.ENGINE_STOP))
        self._tracker_updated()

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.hub.send_command(self.tracker.tracker_id, Command(CommandKind.ENGINE_RESUME))
        self._tracker_updated()
