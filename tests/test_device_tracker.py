"""The device tracker platform: the tracker on the map after a realistic report."""

from __future__ import annotations

import pytest
from homeassistant.components.device_tracker import const as device_tracker_const
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.DEVICE_TRACKER]


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "tracker_reported")
async def test_device_tracker(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    listener_entry: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, listener_entry.entry_id)
    # Newer Home Assistant (2026.x) also says how the tracker locates (by its position) and
    # which zones it is in (none): the snapshot leaves both out, 2025.4 has neither.
    if (tracking_type := getattr(device_tracker_const, "TrackingType", None)) is not None:
        (entry,) = er.async_entries_for_config_entry(entity_registry, listener_entry.entry_id)
        assert entry.capabilities == {"tracking_type": tracking_type.POSITION}
        state = hass.states.get(entry.entity_id)
        assert state is not None
        assert state.attributes["tracking_type"] == tracking_type.POSITION
        assert state.attributes["in_zones"] == []
