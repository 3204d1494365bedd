"""The hub: a report's way to the entities, late and invalid fixes, online and offline, the
new-tracker policies and their bounds, which connection speaks for a tracker."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.config_entries import EVENT_FLOW_DISCOVERED
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.hub import MAX_PENDING_TRACKERS, Hub

from .helpers import (
    INTEGRATION_LOGGER,
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
    state,
    states_written,
    tracker_device,
    wait_for_event,
    wait_for_state,
    warnings_from,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


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
    await tracker.send(h02_position_frame(TID, lat=-23.5, lon=-46.6, status="F7F7FBFF"))
    await tracker.read_frame()
    assert state(hass, "binary_sensor", "external_power").state == "off"
    assert state(hass, "binary_sensor", "immobilized").state == "on"
    assert state(hass, "binary_sensor", "ignition").state == "off"
    assert state(hass, "binary_sensor", "moving").state == "off"


async def test_late_and_invalid_fixes_never_move_it(hass: HomeAssistant, bike: Any) -> None:
    entry, tracker = bike
    now = dt_util.utcnow()
    await tracker.send(h02_position_frame(TID, lat=10.0, lon=10.0, when=now))
    await tracker.read_frame()
    # An invalid fix: ignored for the map.
    await tracker.send(h02_position_frame(TID, lat=11.0, lon=11.0, valid=False))
    await tracker.read_frame()
    # A late report (stored while offline) with an alarm: no move, the alarm fires delayed.
    events = states_written(hass, entity_id(hass, "event", f"{TID}_alarm"))
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
    # (100 m from the first: a fix far away seconds later would be an implausible jump, held)
    await tracker.send(
        h02_position_frame(TID, lat=10.001, lon=10.0, when=now + timedelta(seconds=5))
    )
    await tracker.read_frame()
    assert state(hass, "device_tracker", "location").attributes["latitude"] == pytest.approx(10.001)


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
    flows = await wait_for_event(
        hass,
        EVENT_FLOW_DISCOVERED,
        lambda: hass.config_entries.flow.async_progress_by_handler(DOMAIN),
    )
    assert flows[0]["context"]["title_placeholders"] == {"tracker_id": TID}
    assert flows[0]["step_id"] == "confirm_tracker"
    await tracker.send(h02_position_frame(TID, lat=5.001, lon=6.001))  # driven on, plausibly
    await tracker.read_frame()
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {"name": "Car"})
    assert result["reason"] == "tracker_added"
    await hass.async_block_till_done()
    loc = hass.states.get("device_tracker.car")
    assert loc is not None
    assert loc.attributes["latitude"] == pytest.approx(5.001, abs=1e-5)
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
    await wait_for_state(hass, "device_tracker.sinotrack_a_1660")
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


async def test_pending_trackers_are_capped_and_junk_ids_dropped(hass: HomeAssistant) -> None:
    """At the cap the oldest waiting tracker makes room (issue 18: it used to be the newcomer
    that was dropped, and a genuine tracker after junk IDs got no discovery)."""
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
    assert list(hub.pending) == [f"{1000 + n}" for n in range(5, MAX_PENDING_TRACKERS + 5)]
    assert (hub.stats.unknown_dropped, hub.stats.evicted_flows) == (0, 5)
    assert entry.runtime_data.server.stats.codec.errors == 3
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == MAX_PENDING_TRACKERS
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_newest_connection_wins(hass: HomeAssistant, bike: Any, caplog: Any) -> None:
    entry, first = bike
    port = entry.data["port"]
    await first.send(h02_position_frame(TID))
    await first.read_frame()
    # A reconnect from a new address: the old connection is closed, quietly.
    second = await FakeTracker(port).connect()
    await second.send(h02_position_frame(TID, lat=50.589, lon=4.5305))  # plausible: it drove on
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
