"""Setting up, unloading and stopping: the port is bound and released for real."""

from __future__ import annotations

import asyncio
import errno
import socket
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant

from custom_components.sinotrack.config_flow import probe_port

from .helpers import HOST, FakeTracker, UdpClient, free_port, listener_entry, setup_listener

pytestmark = pytest.mark.usefixtures("socket_enabled")


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
    from homeassistant.helpers import issue_registry as ir

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
