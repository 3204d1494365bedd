"""The sensor platform: every sensor of a tracker after a realistic report; the battery of a
binary frame, the sensors off by default, and the ones that appear with their first report."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.protocol.jt808 import build_frame

from .conftest import TrackerFactory
from .helpers import (
    JT808_ID,
    JT808_PHONE,
    FakeTracker,
    entity_id,
    free_port,
    jt808_location,
    listener_entry,
    state,
    wait_for_event,
    wait_for_state,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")
TID = "4106011660"


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


async def test_binary_frame_battery_and_disabled_sensors(hass: HomeAssistant, bike: Any) -> None:
    entry, tracker = bike
    # A real 32-byte binary frame (2016): its old fix time is distrusted, the receive time used.
    await tracker.send(
        bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    )
    assert (await tracker.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
    assert state(hass, "sensor", "battery").state == "100"
    assert entry.runtime_data.hub.stats.untrusted_times == 1
    fix_time = entry.runtime_data.hub.trackers[TID].fix_time
    assert fix_time is not None
    assert abs((dt_util.utcnow() - fix_time).total_seconds()) < 5
    registry = er.async_get(hass)
    for key in ("course", "signal", "satellites", "last_seen"):
        reg = registry.async_get(entity_id(hass, "sensor", f"{TID}_{key}"))
        assert reg is not None
        assert reg.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_late_sensors_appear_once_then_follow_the_reports(hass: HomeAssistant) -> None:
    port = free_port()
    entry = listener_entry(port, trackers=[(JT808_ID, "Van")])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)

    def registered(key: str) -> str | None:
        return registry.async_get_entity_id("sensor", DOMAIN, f"{JT808_ID}_{key}")

    assert registered("odometer") is None
    assert registered("voltage") is None
    tracker = await FakeTracker(port).connect()
    await tracker.send(
        build_frame(
            0x0200,
            jt808_location(mileage_hm=12345, voltage_dv=126, signal=None, satellites=None),
            JT808_PHONE,
            None,
            1,
        )
    )
    await wait_for_event(
        hass,
        er.EVENT_ENTITY_REGISTRY_UPDATED,
        lambda: registered("odometer") and registered("voltage"),
        what="late sensors",
    )
    await hass.async_block_till_done()
    odometer = entity_id(hass, "sensor", f"{JT808_ID}_odometer")
    assert hass.states.get(odometer).state == "1234.5"
    assert hass.states.get(entity_id(hass, "sensor", f"{JT808_ID}_voltage")).state == "12.6"
    # Both exist now: the next reports only update them.
    await tracker.send(
        build_frame(
            0x0200,
            jt808_location(mileage_hm=12400, voltage_dv=125, signal=None, satellites=None),
            JT808_PHONE,
            None,
            2,
        )
    )
    await wait_for_state(hass, odometer, lambda s: s.state == "1240.0")
    await hass.async_block_till_done()
    van = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert sum(e.unique_id == f"{JT808_ID}_odometer" for e in van) == 1
    # The voltage flickering by its 0.1 V step writes nothing; the engine starting does.
    voltage = entity_id(hass, "sensor", f"{JT808_ID}_voltage")
    assert hass.states.get(voltage).state == "12.6"
    await tracker.send(
        build_frame(
            0x0200,
            jt808_location(mileage_hm=12400, voltage_dv=141, signal=None, satellites=None),
            JT808_PHONE,
            None,
            3,
        )
    )
    await wait_for_state(hass, voltage, lambda s: s.state == "14.1")
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)
