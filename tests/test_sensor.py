"""The sensor platform: every sensor of a tracker after a realistic report."""

from __future__ import annotations

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.sinotrack.protocol.jt808 import build_frame

from .conftest import TrackerFactory
from .helpers import JT808_ID, JT808_PHONE, jt808_location


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.SENSOR]


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "tracker_reported")
async def test_sensors(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    listener_entry: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, listener_entry.entry_id)


@pytest.mark.parametrize("trackers", [[(JT808_ID, "Van")]], indirect=True, ids=["van"])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "frozen_time")
async def test_sensors_of_a_tracker_with_odometer_and_voltage(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
    fake_tracker: TrackerFactory,
) -> None:
    """A JT/T 808 tracker: its odometer and voltage sensors appear with the first report that
    carries them."""
    van = await fake_tracker()
    body = jt808_location(speed_dkmh=452, status=0b11, mileage_hm=123456, voltage_dv=126)
    await van.send(build_frame(0x0200, body, JT808_PHONE, None, 1))
    await van.read_jt808_frame()
    await hass.async_block_till_done()
    assert entity_registry.async_get_entity_id("sensor", "sinotrack", f"{JT808_ID}_odometer")
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
