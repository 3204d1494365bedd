"""What a restart brings back, and sensors that appear with a tracker's first report of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache,
    mock_restore_cache_with_extra_data,
)

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.protocol.jt808 import build_frame

from .helpers import FakeTracker, entity_id, free_port, listener_entry, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
PHONE = bytes.fromhex("012345678900")
JT_ID = "12345678900"  # the terminal ID without its leading zero


def jt808_location(mileage_hm: int, *, voltage_dv: int | None = None) -> bytes:
    """A JT/T 808 0x0200 body now (device clock GMT+8), valid fix, with a mileage (0.1 km) item
    and, if given, an external power voltage (0.1 V, item 0xE1)."""
    local = dt_util.utcnow() + timedelta(hours=8)
    body = (
        (0).to_bytes(4)
        + (0b10).to_bytes(4)
        + (52_370_216).to_bytes(4)
        + (4_895_168).to_bytes(4)
        + (5).to_bytes(2)
        + (0).to_bytes(2)
        + (90).to_bytes(2)
        + bytes.fromhex(f"{local:%y%m%d%H%M%S}")
        + bytes((0x01, 4))
        + mileage_hm.to_bytes(4)
    )
    if voltage_dv is not None:
        body += bytes((0xE1, 2)) + voltage_dv.to_bytes(2)
    return body


async def test_location_restored_from_a_state_without_extra_data(hass: HomeAssistant) -> None:
    # A state written without the fix's extra data (an older version, a recorder import): its
    # coordinate attributes still put the tracker back on the map, with no fix time.
    mock_restore_cache(
        hass, [State("device_tracker.bike", "not_home", {"latitude": 48.1, "longitude": 11.5})]
    )
    entry = listener_entry(free_port(), trackers=[(TID, "Bike")])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    loc = hass.states.get(entity_id(hass, "device_tracker", f"{TID}_location"))
    assert loc is not None
    assert (loc.attributes["latitude"], loc.attributes["longitude"]) == (48.1, 11.5)
    tracker = entry.runtime_data.hub.trackers[TID]
    assert (tracker.latitude, tracker.longitude, tracker.fix_time) == (48.1, 11.5, None)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_restored_coordinates_off_the_globe_are_not_used(hass: HomeAssistant) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("device_tracker.bike", "not_home", {"latitude": 48.1, "longitude": 11.5}),
                {"latitude": 123.0, "longitude": 11.5, "fix_time": "2026-01-01T10:00:00+00:00"},
            )
        ],
    )
    entry = listener_entry(free_port(), trackers=[(TID, "Bike")])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    loc = hass.states.get(entity_id(hass, "device_tracker", f"{TID}_location"))
    assert loc is not None
    assert "latitude" not in loc.attributes
    tracker = entry.runtime_data.hub.trackers[TID]
    assert (tracker.latitude, tracker.longitude, tracker.fix_time) == (None, None, None)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_sensors_reported_before_a_restart_are_back_at_once(hass: HomeAssistant) -> None:
    # Odometer and voltage exist once a tracker has reported them: after a restart they are
    # there from the start, with their last values, before the tracker reports again.
    entry = listener_entry(free_port(), trackers=[(TID, "Bike")])
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    for key in ("odometer", "voltage"):
        registry.async_get_or_create(
            "sensor", DOMAIN, f"{TID}_{key}", config_entry=entry, suggested_object_id=f"bike_{key}"
        )
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.bike_odometer", "1234.5"),
                {"native_value": 1234.5, "native_unit_of_measurement": "km"},
            ),
            (
                State("sensor.bike_voltage", "12.6"),
                {"native_value": 12.6, "native_unit_of_measurement": "V"},
            ),
        ],
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id(hass, "sensor", f"{TID}_odometer")).state == "1234.5"
    assert hass.states.get(entity_id(hass, "sensor", f"{TID}_voltage")).state == "12.6"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_late_sensors_appear_once_then_follow_the_reports(hass: HomeAssistant) -> None:
    port = free_port()
    entry = listener_entry(port, trackers=[(JT_ID, "Van")])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)

    def registered(key: str) -> str | None:
        return registry.async_get_entity_id("sensor", DOMAIN, f"{JT_ID}_{key}")

    assert registered("odometer") is None
    assert registered("voltage") is None
    tracker = await FakeTracker(port).connect()
    await tracker.send(build_frame(0x0200, jt808_location(12345, voltage_dv=126), PHONE, None, 1))
    await wait_for(lambda: registered("odometer") and registered("voltage"), what="late sensors")
    await hass.async_block_till_done()
    odometer = entity_id(hass, "sensor", f"{JT_ID}_odometer")
    assert hass.states.get(odometer).state == "1234.5"
    assert hass.states.get(entity_id(hass, "sensor", f"{JT_ID}_voltage")).state == "12.6"
    # Both exist now: the next reports only update them.
    # (The voltage flickering by its 0.1 V step writes nothing; the engine starting does.)
    await tracker.send(build_frame(0x0200, jt808_location(12400, voltage_dv=125), PHONE, None, 2))
    await wait_for(lambda: hass.states.get(odometer).state == "1240.0", what="odometer update")
    await hass.async_block_till_done()
    van = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert sum(e.unique_id == f"{JT_ID}_odometer" for e in van) == 1
    voltage = entity_id(hass, "sensor", f"{JT_ID}_voltage")
    assert hass.states.get(voltage).state == "12.6"
    await tracker.send(build_frame(0x0200, jt808_location(12400, voltage_dv=141), PHONE, None, 3))
    await wait_for(lambda: hass.states.get(voltage).state == "14.1", what="voltage update")
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)
