"""The immobilizer: on = engine/fuel cut. Its state is what the tracker confirmed, never a guess."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import SinoTrackEntity, add_per_tracker
from .hub import Hub
from .immobilizer import IMMOBILIZER_KINDS
from .integration import SinoTrackConfigEntry
from .protocol.model import Command, CommandKind
from .tracker import TrackerState

PARALLEL_UPDATES = 1  # one engine command at a time per platform


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    hub = entry.runtime_data.hub
    add_per_tracker(entry, async_add_entities, lambda tracker: [SinoTrackImmobilizer(hub, tracker)])


class SinoTrackImmobilizer(SinoTrackEntity, SwitchEntity, RestoreEntity):
    """Turning it on asks the tracker to cut the engine; it turns on once the tracker confirms."""

    watches = ("immobilized",)  # pending commands change it through full refreshes

    def __init__(self, hub: Hub, tracker: TrackerState) -> None:
        super().__init__(tracker, "immobilizer")
        self.hub = hub
        self._restored: bool | None = None

    def _pending(self) -> str | None:
        for pending in self.hub.commands.pending_for(self.tracker.tracker_id):
            if pending.command.kind in IMMOBILIZER_KINDS:
                return pending.command.kind.value
        return None

    def _shown(self) -> Any:
        return (self.is_on, self._pending())

    @property
    def is_on(self) -> bool | None:
        value = self.tracker.immobilized
        return self._restored if value is None else value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"pending_command": self._pending()}

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
