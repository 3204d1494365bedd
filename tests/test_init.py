"""Setting up, unloading, reloading and stopping: the port is bound and released for real;
deleting a device deletes its tracker."""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.sinotrack import async_remove_config_entry_device
from custom_components.sinotrack.config_flow import probe_port
from custom_components.sinotrack.const import DOMAIN

from .helpers import (
    HOST,
    FakeTracker,
    UdpClient,
    free_port,
    h02_position_frame,
    listener_entry,
    setup_listener,
    state,
    tracker_device,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
BIKE = "4106011660"
VAN = "4106011661"


async def test_setup_accepts_tcp_and_udp_then_unload_frees_port(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port)
    assert entry.state is ConfigEntryState.LOADED
    tracker = await FakeTracker(port).connect()
    await tracker.send("*HQ,4106011660,V0#")
    assert await tracker.read_frame() == b"*HQ,4106011660,V0#"
    udp = await UdpClient.open(port)
    udp.send("*HQ,4106011660,V0#")
    assert await udp.reply() == b"*HQ,4106011660,V0#"
    udp.close()

    assert await hass.config_entries.async_unload(entry.entry_id)
    # The connected tracker was closed, and the same port binds again.
    assert await tracker.closed_by_server()
    await tracker.close()
    assert probe_port(port, True, True) is None


async def test_tcp_only_and_udp_only(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, udp=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("", port))  # UDP is free: only TCP was bound
    await hass.config_entries.async_unload(entry.entry_id)

    port = free_port()
    entry = await setup_listener(hass, port, tcp=False)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(HOST, port)
    assert entry.runtime_data.server.bound_port == port
    await hass.config_entries.async_unload(entry.entry_id)


async def test_port_in_use_is_not_ready(hass: HomeAssistant) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("", port))
        busy.listen()
        entry = listener_entry(port)
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.reason == f"Port {port} is already in use by another program"
        # Nothing of ours is left bound: UDP on that port is free too.
        assert probe_port(port, False, True) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_other_bind_error_is_a_setup_error(hass: HomeAssistant) -> None:
    entry = listener_entry(free_port())
    entry.add_to_hass(hass)
    with patch(
        "custom_components.sinotrack.server.TrackerServer.start",
        side_effect=OSError(errno.EACCES, "Permission denied"),
    ):
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "cannot be opened" in (entry.reason or "")


async def test_home_assistant_stop_releases_port(hass: HomeAssistant) -> None:
    port = free_port()
    await setup_listener(hass, port)
    tracker = await FakeTracker(port).connect()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert await tracker.closed_by_server()
    await tracker.close()
    assert probe_port(port, True, True) is None


async def test_port_taken_then_freed_recovers(hass: HomeAssistant) -> None:

    from custom_components.sinotrack.const import DOMAIN

    port = free_port()
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("", port))
    busy.listen()
    entry = listener_entry(port)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"port_in_use_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"port": str(port)}
    busy.close()
    # The retry (Home Assistant's backoff; here triggered at once) binds and clears the repair.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"port_in_use_{entry.entry_id}") is None
    tracker = await FakeTracker(port).connect()
    await tracker.send("*HQ,1,V0#")
    assert await tracker.read_frame() == b"*HQ,1,V0#"
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


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
    await again.send(h02_position_frame(TID, lat=3.001, lon=4.0))  # driven on, plausibly
    await again.read_frame()
    assert state(hass, "device_tracker", "location").attributes["latitude"] == pytest.approx(3.001)
    await again.close()


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
