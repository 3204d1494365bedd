"""Deleting a device from Home Assistant: only the tracker it belongs to goes."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.sinotrack import async_remove_config_entry_device
from custom_components.sinotrack.const import DOMAIN

from .helpers import free_port, setup_listener, tracker_device

pytestmark = pytest.mark.usefixtures("socket_enabled")

BIKE = "4106011660"
VAN = "4106011661"


async def test_deleting_a_device_removes_its_tracker_only(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port(), trackers=[(BIKE, "Bike"), (VAN, "Van")])
    van = tracker_device(hass, entry.entry_id, VAN)
    assert await async_remove_config_entry_device(hass, entry, van)
    await hass.async_block_till_done()
    assert [s.unique_id for s in entry.subentries.values()] == [BIKE]
    assert list(entry.runtime_data.hub.trackers) == [BIKE]
    assert tracker_device(hass, entry.entry_id, BIKE) is not None

    # A device of this entry that no tracker speaks for any more (left over in the registry):
    # it may be deleted, and the configured tracker stays.
    leftover = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "4106019999")}
    )
    assert await async_remove_config_entry_device(hass, entry, leftover)
    await hass.async_block_till_done()
    assert [s.unique_id for s in entry.subentries.values()] == [BIKE]
    assert list(entry.runtime_data.hub.trackers) == [BIKE]
    await hass.config_entries.async_unload(entry.entry_id)
