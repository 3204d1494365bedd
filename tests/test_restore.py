"""What a restart brings back: positions, sensor values, flags; never a fix from the future."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    mock_restore_cache,
    mock_restore_cache_with_extra_data,
)

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.device_tracker import restore_fix
from custom_components.sinotrack.tracker import TrackerState

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    listener_entry,
    setup_listener,
    states_written,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


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


async def test_restore_after_restart(hass: HomeAssistant) -> None:
    port = free_port()
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("device_tracker.bike", "not_home", {"latitude": 48.1, "longitude": 11.5}),
                {"latitude": 48.1, "longitude": 11.5, "fix_time": "2026-01-01T10:00:00+00:00"},
            ),
            (
                State("sensor.bike_battery", "80"),
                {"native_value": 80, "native_unit_of_measurement": "%"},
            ),
            (State("binary_sensor.bike_ignition", "on"), {}),
        ],
    )
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    loc = hass.states.get("device_tracker.bike")
    assert loc is not None
    assert (loc.attributes["latitude"], loc.attributes["longitude"]) == (48.1, 11.5)
    assert hass.states.get("sensor.bike_battery").state == "80"
    assert hass.states.get("binary_sensor.bike_ignition").state == "on"
    assert hass.states.get("binary_sensor.bike_connectivity").state == "off"
    # An older report than the restored fix does not move it back.
    tracker = await FakeTracker(port).connect()
    await tracker.send(
        h02_position_frame(
            TID, lat=1.0, lon=1.0, when=dt_util.parse_datetime("2025-12-31T10:00:00Z")
        )
    )
    await tracker.read_frame()
    assert hass.states.get("device_tracker.bike").attributes["latitude"] == 48.1
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


def test_a_restored_fix_in_the_future_does_not_hold_reports_back() -> None:
    """A fix time saved 2 h ahead (by an older version) is read as now at most."""
    tracker = TrackerState(TID, "Bike")
    ahead = dt_util.utcnow() + timedelta(hours=2)
    restore_fix(tracker, {"latitude": 1.0, "longitude": 2.0, "fix_time": ahead.isoformat()})
    assert tracker.fix_time is not None
    assert tracker.fix_time <= dt_util.utcnow()


async def test_active_alarm_survives_a_restart_without_a_new_event(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    alarm_id = entity_id(hass, "event", f"{TID}_alarm")
    events = states_written(hass, alarm_id)
    power_cut = "FFF7FBFF"  # bit 19 active (active-low): running on the backup battery
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, status=power_cut))
    await tracker.read_frame()
    await hass.async_block_till_done()
    assert [e.attributes["event_type"] for e in events] == ["power_cut"]
    fired = hass.states.get(alarm_id)
    assert fired is not None
    await tracker.close()
    # Home Assistant stops and starts on the same storage while the power is still cut.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[f"{DOMAIN}.{entry.entry_id}.trackers"]["data"][TID]["alarms"] == [
        "power_cut"
    ]
    events.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, status=power_cut))
    await tracker.read_frame()
    await hass.async_block_till_done()
    # The restored entity's one write keeps the event's time; the report fires nothing.
    assert all(e.state == fired.state for e in events)
    restored = hass.states.get(alarm_id)
    assert restored is not None
    assert restored.state == fired.state  # the time of the one event, kept
    assert restored.attributes["event_type"] == "power_cut"
    # The power comes back and is cut again: that is a new edge, a new event.
    await tracker.send(h02_position_frame(TID))
    await tracker.read_frame()
    await tracker.send(h02_position_frame(TID, status=power_cut))
    await tracker.read_frame()
    await hass.async_block_till_done()
    assert hass.states.get(alarm_id).state != fired.state
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)
