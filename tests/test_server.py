"""The tracker port (server.py) under bad conditions: caps, junk, idle peers, failures; and status
messages."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.sinotrack import server as server_module
from custom_components.sinotrack.server import RateLimitedLog

from .helpers import (
    FakeTracker,
    UdpClient,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
    tracker_device,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


async def test_connection_cap_refuses_logs_once_and_recovers(
    hass: HomeAssistant, caplog: Any
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, max_connections=2)
    stats = entry.runtime_data.server.stats
    first = await FakeTracker(port).connect()
    second = await FakeTracker(port).connect()
    await wait_for(lambda: stats.connections_open == 2)
    extra = [await FakeTracker(port).connect() for _ in range(3)]
    for client in extra:
        assert await client.closed_by_server()
        await client.close()
    assert stats.connections_refused == 3
    assert caplog.text.count("Refusing tracker connections") == 1
    await first.close()
    await wait_for(lambda: stats.connections_open == 1)
    third = await FakeTracker(port).connect()
    await third.send("*HQ,1,V0#")
    assert await third.read_frame() == b"*HQ,1,V0#"
    assert "Accepting tracker connections again" in caplog.text
    for client in (second, third):
        await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_idle_connection_is_closed(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port)
    server = entry.runtime_data.server
    server.idle_timeout = 1.0  # wide margins: a busy CI machine can stall the loop a little
    client = await FakeTracker(port).connect()
    await asyncio.sleep(0.3)
    await client.send("*HQ,1,V0#")  # activity postpones the timeout
    assert await client.read_frame() == b"*HQ,1,V0#"
    assert await client.closed_by_server(timeout=3)
    assert server.stats.idle_timeouts == 1
    await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_junk_is_skipped_and_good_frames_kept(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    stats = entry.runtime_data.server.stats
    scanner = await FakeTracker(port).connect()
    await scanner.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await scanner.send(b"\x00\xff\xfe more junk")
    assert await scanner.read_nothing() == b""
    await wait_for(lambda: stats.unknown_protocol_bytes > 30)
    # Junk, then a frame far over the cap, then a good frame: the good one is taken.
    await scanner.send(b"\x16\x03\x01 hello " + h02_position_frame(TID, lat=1.0, lon=2.0).encode())
    assert (await scanner.read_frame()).startswith(b"*HQ,")
    await scanner.send(b"*HQ," + b"9" * 10000)  # endless bytes without a terminator
    await wait_for(lambda: stats.codec.overflows >= 1)
    assert entry.runtime_data.hub.trackers[TID].latitude == pytest.approx(1.0)
    # A frame cut short by the start of the next one: the next one is kept.
    await scanner.send(
        b"*HQ,4106011660,V1,1234" + h02_position_frame(TID, lat=3.0, lon=4.0).encode()
    )
    await wait_for(
        lambda: (
            hass.states.get(entity_id(hass, "device_tracker", f"{TID}_location")).attributes.get(
                "latitude"
            )
            == pytest.approx(3.0)
        )
    )
    # No device for junk.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [d.serial_number for d in devices] == [TID]
    await scanner.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_failing_report_loses_nothing_around_it(hass: HomeAssistant, caplog: Any) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    hub = entry.runtime_data.hub
    real = hub.handle
    calls = 0

    def flaky(decoded: Any, peer: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("boom")
        return real(decoded, peer)

    client = await FakeTracker(port).connect()
    with patch.object(hub, "handle", flaky):
        frames = [h02_position_frame(TID, lat=float(n), lon=float(n)) for n in (1, 2, 3)]
        await client.send("".join(frames))
        replies = [await client.read_frame(), await client.read_frame()]
    # The failed report got no acknowledgement (the tracker resends it); the others did.
    assert all(r.startswith(b"*HQ,4106011660,V4,V1,") for r in replies)
    assert await client.read_nothing() == b""
    assert entry.runtime_data.server.stats.sink_errors == 1
    assert "Error handling a message" in caplog.text
    lat = hass.states.get(entity_id(hass, "device_tracker", f"{TID}_location")).attributes[
        "latitude"
    ]
    assert lat == pytest.approx(3.0)
    await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_udp_junk_and_peer_cap(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "MAX_UDP_PEERS", 2)
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    endpoint = entry.runtime_data.server._udp_endpoint
    junk = await UdpClient.open(port)
    junk.send(b"\x01\x02\x03")
    await wait_for(lambda: entry.runtime_data.server.stats.datagrams == 1)
    assert not endpoint.peers  # nothing kept for junk
    clients = [await UdpClient.open(port) for _ in range(3)]
    for client in clients:
        client.send(b"xx*HQ,1,V0#")
        assert await client.reply() == b"*HQ,1,V0#"
    assert len(endpoint.peers) == 2
    for client in [junk, *clients]:
        client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_status_messages_update_the_tracker(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    client = await FakeTracker(port).connect()
    await client.send(f"*HQ,{TID},LINK,112233,20,8,75,0,0,231126,FFFFFFFF#")
    await client.send(f"*HQ,{TID},HTBT,55#")
    assert await client.read_frame() == f"*HQ,{TID},HTBT#".encode()
    await wait_for(
        lambda: hass.states.get(entity_id(hass, "sensor", f"{TID}_battery")).state == "55"
    )
    tracker = entry.runtime_data.hub.trackers[TID]
    assert (tracker.signal, tracker.satellites, tracker.ignition) == (20, 8, True)
    await client.send(
        f"*HQ,{TID},V3,095426,74001,01,010278,045142,128,-92,02DE,0,X,090517,FFF7FBFF#"
    )
    await wait_for(lambda: tracker.external_power is False)
    await client.send(f"*HQ,{TID},SMS,ST906(70SACD)_TQ_V_2.0 2024/06/07\nID:{TID}#")
    await wait_for(lambda: tracker.model == "ST906")
    await hass.async_block_till_done()
    device = tracker_device(hass, entry.entry_id, TID)
    assert device.model == "ST906"
    assert device.sw_version == "ST906(70SACD)_TQ_V_2.0 2024/06/07"
    await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


def test_rate_limited_log(caplog: Any) -> None:
    log = RateLimitedLog(interval=60)
    caplog.set_level(logging.DEBUG, logger=server_module.__name__)
    for _ in range(5):
        log(logging.DEBUG, "k", "bad frame %s", "x")
    assert caplog.text.count("bad frame x") == 1
    log._last["k"] -= 61
    log(logging.DEBUG, "k", "bad frame %s", "y")
    assert "bad frame y (4 similar messages suppressed)" in caplog.text


# A binary frame shorter than the one before waits for more bytes: it could be the start of a
# longer frame cut at a segment boundary.
LONG_FRAME = bytes.fromhex(  # 45 bytes, this tracker's ID
    f"24{TID}21532131081504419390060740418306000000fffffbfdff0015060000002c02dc0c000000001f"
)
SHORT_FRAME = bytes.fromhex(  # 32 bytes, 50.58855 N 4.53035 E
    f"24{TID}1245431311165035313006004318210e000000fffffbffff0024"
)


async def _hold_a_short_frame(hass: HomeAssistant, port: int) -> tuple[FakeTracker, str]:
    assert (len(LONG_FRAME), len(SHORT_FRAME)) == (45, 32)
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    client = await FakeTracker(port).connect()
    await client.send(LONG_FRAME)
    assert (await client.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
    first = await wait_for(lambda: hass.states.get(location).attributes.get("latitude"))
    await client.send(SHORT_FRAME)
    await asyncio.sleep(0.2)
    assert hass.states.get(location).attributes["latitude"] == first  # held, not yet decoded
    return client, location


async def _the_short_frame_is_in(hass: HomeAssistant, location: str) -> None:
    await wait_for(
        lambda: hass.states.get(location).attributes["latitude"] == pytest.approx(50.58855),
        what="the held report in the state machine",
    )
    assert hass.states.get(location).attributes["longitude"] == pytest.approx(4.53035)


async def test_a_report_held_back_is_taken_once_the_tracker_is_quiet(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "SETTLE_S", 1.0)  # well after the "still held" check
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    client, location = await _hold_a_short_frame(hass, port)
    await _the_short_frame_is_in(hass, location)
    assert (await client.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
    assert entry.runtime_data.server.stats.codec.errors == 0
    # The connection goes on as before: a report alone in a segment is taken at once.
    await client.send(LONG_FRAME)
    assert (await client.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
    await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_report_held_back_is_taken_when_the_tracker_hangs_up(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "SETTLE_S", 60.0)
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    client, location = await _hold_a_short_frame(hass, port)
    await client.close()
    await _the_short_frame_is_in(hass, location)
    await hass.config_entries.async_unload(entry.entry_id)
