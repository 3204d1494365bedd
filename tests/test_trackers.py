"""Trackers end to end: real sockets in, entities, events, policies and time rules out."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.sinotrack import async_remove_config_entry_device
from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.device_tracker import restore_fix
from custom_components.sinotrack.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from custom_components.sinotrack.hub import MAX_PENDING_TRACKERS, Hub
from custom_components.sinotrack.subentries import default_tracker_name, map_marker
from custom_components.sinotrack.tracker import TrackerState

from .helpers import (
    INTEGRATION_LOGGER,
    FakeTracker,
    UdpClient,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
    tracker_device,
    wait_for,
    warnings_from,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


def state(hass: HomeAssistant, platform: str, key: str, tid: str = TID) -> State:
    found = hass.states.get(entity_id(hass, platform, f"{tid}_{key}"))
    assert found is not None
    return found


def enable(hass: HomeAssistant, platform: str, key: str, tid: str = TID) -> None:
    registry = er.async_get(hass)
    registry.async_update_entity(entity_id(hass, platform, f"{tid}_{key}"), disabled_by=None)


@pytest.fixture
async def bike(hass: HomeAssistant) -> Any:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    tracker = await FakeTracker(port).connect()
    yield entry, tracker
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_position_updates_entities_and_is_acknowledged(
    hass: HomeAssistant, bike: Any
) -> None:
    entry, tracker = bike
    loc = state(hass, "device_tracker", "location")
    assert loc.state == "unknown"
    await tracker.send(
        h02_position_frame(TID, lat=-23.5, lon=-46.6, speed_knots=27.0, status="FFFFFFFF")
    )
    reply = await tracker.read_frame()
    assert reply.startswith(f"*HQ,{TID},V4,V1,".encode())
    # The hub had the report before the reply was written.
    loc = state(hass, "device_tracker", "location")
    assert loc.attributes["latitude"] == pytest.approx(-23.5, abs=1e-5)
    assert loc.attributes["longitude"] == pytest.approx(-46.6, abs=1e-5)
    assert loc.attributes["source_type"] == "gps"
    assert float(state(hass, "sensor", "speed").state) == pytest.approx(50.0, abs=0.1)
    assert state(hass, "binary_sensor", "ignition").state == "on"
    assert state(hass, "binary_sensor", "moving").state == "on"
    assert state(hass, "binary_sensor", "external_power").state == "on"
    assert state(hass, "binary_sensor", "immobilized").state == "off"
    assert state(hass, "binary_sensor", "connectivity").state == "on"
    last_seen = entry.runtime_data.hub.trackers[TID].last_seen  # its sensor is off by default
    assert last_seen is not None
    assert abs((dt_util.utcnow() - last_seen).total_seconds()) < 5

    device = tracker_device(hass, entry.entry_id, TID)
    assert device is not None
    assert (device.manufacturer, device.serial_number, device.name) == ("SinoTrack", TID, "Bike")
    # This tracker reports no odometer and no voltage: no such sensors clutter its device.
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{TID}_odometer") is None
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{TID}_voltage") is None
    # Entity names come from the device plus the translated key.
    assert state(hass, "sensor", "speed").name == "Bike Speed"
    assert loc.name == "Bike"

    # Power cut and immobilizer bits.
    await tracker.send(h02_position_frame(TID, status="F7F7FBFF"))
    await tracker.read_frame()
    assert state(hass, "binary_sensor", "external_power").state == "off"
    assert state(hass, "binary_sensor", "immobilized").state == "on"
    assert state(hass, "binary_sensor", "ignition").state == "off"
    assert state(hass, "binary_sensor", "moving").state == "off"


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


async def test_udp_reports_and_replies_to_source(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    udp = await UdpClient.open(port)
    # Two messages in one datagram: both are taken.
    udp.send(h02_position_frame(TID, lat=1.0, lon=2.0) + h02_position_frame(TID, lat=1.5, lon=2.5))
    assert (await udp.reply()).startswith(f"*HQ,{TID},V4,V1,".encode())
    assert (await udp.reply()).startswith(f"*HQ,{TID},V4,V1,".encode())
    loc = state(hass, "device_tracker", "location")
    assert loc.attributes["latitude"] == pytest.approx(1.5, abs=1e-5)
    udp.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_alarm_fires_on_edges_only(hass: HomeAssistant, bike: Any) -> None:
    _, tracker = bike
    events: list[State] = []
    alarm_id = entity_id(hass, "event", f"{TID}_alarm")

    @callback
    def changed(event: Event) -> None:
        if event.data["entity_id"] == alarm_id and event.data["new_state"] is not None:
            events.append(event.data["new_state"])

    hass.bus.async_listen("state_changed", changed)
    vibrating = "FFFFFBFE"  # bit 0 active (active-low)
    for status in (vibrating, vibrating, "FFFFFBFF", vibrating):
        await tracker.send(h02_position_frame(TID, status=status, speed_knots=3.0))
        await tracker.read_frame()
    await hass.async_block_till_done()
    assert [e.attributes["event_type"] for e in events] == ["vibration", "vibration"]
    data = events[0].attributes
    assert data["delayed"] is False
    assert data["fix_latitude"] == pytest.approx(50.58855, abs=1e-5)
    assert data["fix_longitude"] == pytest.approx(4.53035, abs=1e-5)
    # No latitude/longitude: the map would draw the alarm as a second marker of the tracker.
    assert "latitude" not in data
    assert "longitude" not in data
    assert data["speed"] == pytest.approx(5.556, abs=0.01)
    assert "fix_time" in data
    # Several alarms at once (SOS + power cut) fire one event each.
    await tracker.send(h02_position_frame(TID, status="FFF7FBFD"))
    await tracker.read_frame()
    await hass.async_block_till_done()
    assert sorted(e.attributes["event_type"] for e in events[2:]) == ["power_cut", "sos"]


async def test_active_alarm_survives_a_restart_without_a_new_event(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    alarm_id = entity_id(hass, "event", f"{TID}_alarm")
    events: list[State] = []

    @callback
    def changed(event: Event) -> None:
        if event.data["entity_id"] == alarm_id and event.data["new_state"] is not None:
            events.append(event.data["new_state"])

    hass.bus.async_listen("state_changed", changed)
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


async def test_late_and_invalid_fixes_never_move_it(hass: HomeAssistant, bike: Any) -> None:
    entry, tracker = bike
    now = dt_util.utcnow()
    await tracker.send(h02_position_frame(TID, lat=10.0, lon=10.0, when=now))
    await tracker.read_frame()
    # An invalid fix: ignored for the map.
    await tracker.send(h02_position_frame(TID, lat=11.0, lon=11.0, valid=False))
    await tracker.read_frame()
    # A late report (stored while offline) with an alarm: no move, the alarm fires delayed.
    events: list[State] = []
    alarm_id = entity_id(hass, "event", f"{TID}_alarm")

    @callback
    def changed(event: Event) -> None:
        if event.data["entity_id"] == alarm_id:
            events.append(event.data["new_state"])

    hass.bus.async_listen("state_changed", changed)
    await tracker.send(
        h02_position_frame(
            TID, lat=12.0, lon=12.0, when=now - timedelta(hours=3, minutes=7), status="FFFFFBFD"
        )
    )
    await tracker.read_frame()
    await hass.async_block_till_done()
    loc = state(hass, "device_tracker", "location")
    assert (loc.attributes["latitude"], loc.attributes["longitude"]) == pytest.approx((10.0, 10.0))
    assert entry.runtime_data.hub.stats.late_reports == 1
    assert [e.attributes["event_type"] for e in events] == ["sos"]
    assert events[0].attributes["delayed"] is True
    # A newer fix moves it again.
    await tracker.send(h02_position_frame(TID, lat=13.0, lon=13.0, when=now + timedelta(seconds=5)))
    await tracker.read_frame()
    assert state(hass, "device_tracker", "location").attributes["latitude"] == pytest.approx(13.0)


async def test_offline_and_back(hass: HomeAssistant, bike: Any, caplog: Any) -> None:
    entry, tracker = bike
    hub: Hub = entry.runtime_data.hub
    await tracker.send(h02_position_frame(TID))
    await tracker.read_frame()
    assert state(hass, "binary_sensor", "connectivity").state == "on"
    hub.offline_after = timedelta(seconds=0)
    caplog.set_level(logging.INFO)
    hub._check_offline()
    hub._check_offline()
    assert state(hass, "binary_sensor", "connectivity").state == "off"
    # Stays on the map while offline.
    assert state(hass, "device_tracker", "location").attributes["latitude"] == pytest.approx(
        50.58855
    )
    assert caplog.text.count("Tracker Bike is offline") == 1
    await tracker.send("*HQ,4106011660,V0#")
    await tracker.read_frame()
    assert state(hass, "binary_sensor", "connectivity").state == "on"
    assert caplog.text.count("Tracker Bike is back online") == 1


async def test_policy_ask_keeps_report_until_confirmed(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="ask")
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, lat=5.0, lon=6.0))
    await tracker.read_frame()  # unknown trackers still get their acknowledgement
    flows = await wait_for(lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN))
    assert flows[0]["context"]["title_placeholders"] == {"tracker_id": TID}
    assert flows[0]["step_id"] == "confirm_tracker"
    await tracker.send(h02_position_frame(TID, lat=5.5, lon=6.5))
    await tracker.read_frame()
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {"name": "Car"})
    assert result["reason"] == "tracker_added"
    await hass.async_block_till_done()
    loc = hass.states.get("device_tracker.car")
    assert loc is not None
    assert loc.attributes["latitude"] == pytest.approx(5.5, abs=1e-5)
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_policy_add_and_ignore(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="add")
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, lat=7.0, lon=8.0))
    await tracker.read_frame()
    await hass.async_block_till_done()
    (sub,) = entry.subentries.values()
    assert (sub.title, sub.unique_id) == ("SinoTrack A 1660", TID)
    await wait_for(lambda: hass.states.get("device_tracker.sinotrack_a_1660"))
    location = hass.states.get("device_tracker.sinotrack_a_1660")
    assert location.attributes["latitude"] == pytest.approx(7.0)
    # Its connection is known at once: a command goes out before its next report.
    task = asyncio.create_task(
        hass.services.async_call(
            DOMAIN,
            "request_position",
            {"entity_id": "device_tracker.sinotrack_a_1660"},
            blocking=True,
        )
    )
    assert (await tracker.read_frame()).startswith(f"*HQ,{TID},CR,".encode())
    await tracker.send(f"*HQ,{TID},V4,CR#")
    await asyncio.wait_for(task, 5)

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "new_trackers": "ignore"}
    )
    await hass.async_block_till_done()
    await tracker.send(h02_position_frame("999"))
    await tracker.read_frame()
    await hass.async_block_till_done()
    assert len(entry.subentries) == 1
    assert entry.runtime_data.hub.stats.unknown_ignored == 1
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_new_trackers_get_names_with_different_map_markers(hass: HomeAssistant) -> None:
    """Three trackers of one batch, added by themselves: one marker each on the map."""
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="add", trackers=[("555", "Scooter")])
    tracker = await FakeTracker(port).connect()
    for tracker_id in ("4106011600", "4106011601", "4106011602"):
        await tracker.send(h02_position_frame(tracker_id))
        await tracker.read_frame()
        await hass.async_block_till_done()
    await tracker.close()
    names = sorted(sub.title for sub in entry.subentries.values())
    assert names == ["Scooter", "SinoTrack A 1600", "SinoTrack B 1601", "SinoTrack C 1602"]
    assert [map_marker(name) for name in names] == ["S", "SA1", "SB1", "SC1"]
    # The map shows each device_tracker's friendly name as those initials.
    shown = {map_marker(state.name) for state in hass.states.async_all("device_tracker")}
    assert shown == {"S", "SA1", "SB1", "SC1"}
    await hass.config_entries.async_unload(entry.entry_id)


def test_map_markers_as_the_frontend_draws_them() -> None:
    """ha-map: name.split(" "), first character of each part, substr(0, 3)."""
    assert map_marker("SinoTrack 1600") == map_marker("SinoTrack 1601") == "S1"  # the old names
    assert map_marker("Paulus Schoutsen") == "PS"
    assert map_marker("My  old car here") == "Moc"
    names = ["SinoTrack 1600"]
    for _ in range(30):
        names.append(default_tracker_name("4106011600", names))
    markers = [map_marker(name) for name in names[:27]]
    assert len(set(markers)) == 27  # 26 letters, and the old-style name
    assert names[27:] == ["SinoTrack 1600"] * 4  # no letter left: the ID alone


async def test_pending_trackers_are_capped_and_junk_ids_dropped(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port)
    tracker = await FakeTracker(port).connect()
    for n in range(MAX_PENDING_TRACKERS + 5):
        await tracker.send(h02_position_frame(f"{1000 + n}"))
        await tracker.read_frame()
    for bad in ("12AB", "1" * 21, ""):
        await tracker.send(h02_position_frame(bad))
        assert await tracker.read_nothing() == b""  # refused by the codec: no reply, no message
    await hass.async_block_till_done()
    hub: Hub = entry.runtime_data.hub
    assert len(hub.pending) == MAX_PENDING_TRACKERS
    assert hub.stats.unknown_dropped == 5
    assert entry.runtime_data.server.stats.codec.errors == 3
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == MAX_PENDING_TRACKERS
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    await tracker.close()
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


@pytest.fixture
def offsets_learnt_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hubs whose trackers adopt a local-time offset from three reports however close together
    (a real hub wants them spread over a minute)."""
    import custom_components.sinotrack as integration

    monkeypatch.setattr(integration, "Hub", partial(Hub, clock_min_span_s=0.0))


@pytest.mark.usefixtures("offsets_learnt_at_once")
async def test_local_time_offset_detected_and_corrected(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    tracker = await FakeTracker(port).connect()
    for _ in range(3):
        await tracker.send(h02_position_frame(TID, when=dt_util.utcnow() + timedelta(hours=8)))
        await tracker.read_frame()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"local_time_{TID}")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Bike", "offset": "+8", "sms": "8960000E00"}
    await tracker.send(h02_position_frame(TID, when=dt_util.utcnow() + timedelta(hours=8)))
    await tracker.read_frame()
    fix_time = entry.runtime_data.hub.trackers[TID].fix_time
    assert fix_time is not None
    assert abs((fix_time - dt_util.utcnow()).total_seconds()) < 10
    # Set to UTC later: the offset is unlearnt and the repair goes away.
    for _ in range(3):
        await tracker.send(h02_position_frame(TID))
        await tracker.read_frame()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"local_time_{TID}") is None
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("offsets_learnt_at_once")
async def test_local_time_repair_then_utc_the_marker_follows(hass: HomeAssistant) -> None:
    """Local time, the repair, the SMS to UTC: the marker follows every report, never frozen."""
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    hub: Hub = entry.runtime_data.hub
    issues = ir.async_get(hass)
    tracker = await FakeTracker(port).connect()
    latitude = 50.0

    async def report(hours: int) -> State:
        nonlocal latitude
        latitude += 0.01
        when = dt_util.utcnow() + timedelta(hours=hours, seconds=-2)
        await tracker.send(h02_position_frame(TID, lat=latitude, lon=4.5, when=when))
        await tracker.read_frame()
        return state(hass, "device_tracker", "location")

    try:
        # The tracker in local time (UTC+2): corrected once three reports agree; the repair.
        for _ in range(4):
            moved = await report(2)
            assert moved.attributes["latitude"] == pytest.approx(latitude, abs=1e-5)
        assert issues.async_get_issue(DOMAIN, f"local_time_{TID}") is not None
        assert hub.trackers[TID].clock.offset_hours == 2
        # The user sends the repair's SMS: the very first UTC report moves the marker.
        for _ in range(6):
            moved = await report(0)
            assert moved.attributes["latitude"] == pytest.approx(latitude, abs=1e-5)
            fix_time = hub.trackers[TID].fix_time
            assert fix_time is not None
            assert fix_time <= dt_util.utcnow()  # never a fix in the future
        assert hub.stats.late_reports == 0
        assert issues.async_get_issue(DOMAIN, f"local_time_{TID}") is None
        diag = await async_get_config_entry_diagnostics(hass, entry)
        assert diag["trackers"][0]["clock_offset_hours"] == 0
        assert diag["counters"]["hub"]["late_reports"] == 0
    finally:
        await tracker.close()
        await hass.config_entries.async_unload(entry.entry_id)


def test_a_restored_fix_in_the_future_does_not_hold_reports_back() -> None:
    """A fix time saved 2 h ahead (by an older version) is read as now at most."""
    tracker = TrackerState(TID, "Bike")
    ahead = dt_util.utcnow() + timedelta(hours=2)
    restore_fix(tracker, {"latitude": 1.0, "longitude": 2.0, "fix_time": ahead.isoformat()})
    assert tracker.fix_time is not None
    assert tracker.fix_time <= dt_util.utcnow()


async def test_reconfigure_and_reload_with_trackers_connected(
    hass: HomeAssistant, bike: Any
) -> None:
    entry, tracker = bike
    await tracker.send(h02_position_frame(TID, lat=3.0, lon=4.0))
    await tracker.read_frame()
    new_port = free_port()
    hass.config_entries.async_update_entry(entry, data={**entry.data, "port": new_port})
    await hass.async_block_till_done()
    assert await tracker.closed_by_server()
    assert entry.runtime_data.server.port == new_port
    # Still on the map after the rebind, and the tracker reconnects on the new port.
    assert state(hass, "device_tracker", "location").attributes["latitude"] == pytest.approx(3.0)
    again = await FakeTracker(new_port).connect()
    await again.send(h02_position_frame(TID, lat=3.5, lon=4.5))
    await again.read_frame()
    assert state(hass, "device_tracker", "location").attributes["latitude"] == pytest.approx(3.5)
    await again.close()


async def test_newest_connection_wins(hass: HomeAssistant, bike: Any, caplog: Any) -> None:
    entry, first = bike
    port = entry.data["port"]
    await first.send(h02_position_frame(TID))
    await first.read_frame()
    # A reconnect from a new address: the old connection is closed, quietly.
    second = await FakeTracker(port).connect()
    await second.send(h02_position_frame(TID, lat=1.0, lon=1.0))
    await second.read_frame()
    assert await first.closed_by_server()
    assert entry.runtime_data.hub.peers[TID].is_open
    assert "take" not in caplog.text
    # Commands go to the newest connection.
    task = asyncio.create_task(
        hass.services.async_call(
            "sinotrack", "request_position", {"entity_id": "device_tracker.bike"}, blocking=True
        )
    )
    assert (await second.read_frame()).startswith(b"*HQ,4106011660,CR,")
    await second.send(f"*HQ,{TID},V4,CR#")
    await asyncio.wait_for(task, 5)
    # Connections that keep taking over one ID: two devices share it; warned, newest wins.
    clients = [second]
    for _ in range(2):
        client = await FakeTracker(port).connect()
        await client.send(h02_position_frame(TID))
        await client.read_frame()
        clients.append(client)
    assert "two devices may share this ID" in caplog.text
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"duplicate_tracker_{TID}")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Bike"}
    assert warnings_from(caplog.records, INTEGRATION_LOGGER) == []
    assert entry.runtime_data.hub.stats.duplicate_sessions == 1
    for client in clients:
        await client.close()


async def test_removing_device_removes_tracker(hass: HomeAssistant, bike: Any) -> None:
    entry, _ = bike
    device = tracker_device(hass, entry.entry_id, TID)
    assert device is not None
    assert await async_remove_config_entry_device(hass, entry, device)
    await hass.async_block_till_done()
    assert not entry.subentries
    assert TID not in entry.runtime_data.hub.trackers
    assert tracker_device(hass, entry.entry_id, TID) is None
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{TID}_speed") is None


async def test_diagnostics_are_redacted(hass: HomeAssistant, bike: Any) -> None:
    entry, tracker = bike
    await tracker.send(h02_position_frame(TID, lat=-23.48349, lon=-46.85975))
    await tracker.read_frame()
    await tracker.send(
        bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    )
    await tracker.read_frame()
    await tracker.send("*HQ,4106011660,V1,garbage#")
    await tracker.read_nothing()
    diag = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diag)
    for secret in (TID, "2329.0", "4651.5", "-23.48", "-46.85"):
        assert secret not in text
    assert diag["counters"]["hub"]["messages"] == 2
    assert diag["counters"]["codec"]["errors"] >= 1
    assert diag["trackers"][0]["has_fix"] is True
    assert len(diag["recent_frames"]) == 3
    device = tracker_device(hass, entry.entry_id, TID)
    assert device is not None
    device_diag = await async_get_device_diagnostics(hass, entry, device)
    assert TID not in json.dumps(device_diag)
    assert device_diag["tracker"]["battery_percent"] == 100
