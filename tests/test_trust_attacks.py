"""Issue 18 through real sockets from several loopback addresses: an attacker on 127.0.0.2 …
127.0.0.9 against the Bike on 127.0.0.1. Spoofed IDs, pinned clocks, junk IDs, idle floods,
invalid IDs, the allow-list; a legitimate tracker's reports are never held or lost."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from homeassistant.config_entries import EVENT_FLOW_DISCOVERED
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.hub import LIVE_SESSION_S, MAX_PENDING_TRACKERS, Hub
from custom_components.sinotrack.protocol.jt808 import build_frame

from .helpers import (
    INTEGRATION_LOGGER,
    FakeTracker,
    UdpClient,
    free_port,
    h02_position_frame,
    setup_listener,
    state,
    wait_for,
    wait_for_event,
    warnings_from,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
HOME = (50.58855, 4.53035)
FAR = (-33.8688, 151.2093)  # 16,700 km away


class FakeClock:
    """The hub's monotonic clock, moved by the test (no sleeping through 120 s)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    import custom_components.sinotrack as integration

    fake = FakeClock()
    monkeypatch.setattr(integration, "Hub", partial(Hub, clock=fake))
    return fake


@pytest.fixture
async def listener(hass: HomeAssistant) -> Any:
    entry = await setup_listener(hass, free_port(), trackers=[(TID, "Bike")])
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


def _shown(hass: HomeAssistant) -> tuple[float, float]:
    attrs = state(hass, "device_tracker", "location").attributes
    return attrs["latitude"], attrs["longitude"]


async def _gone(client: FakeTracker, timeout: float = 5.0) -> bool:
    """Closed by the server: an end of stream, or a reset (a stranger is aborted, not closed)."""
    assert client.reader is not None
    try:
        return await asyncio.wait_for(client.reader.read(65536), timeout) == b""
    except ConnectionError:
        return True
    except TimeoutError:
        return False


async def _report(tracker: FakeTracker, lat: float, lon: float, **kw: Any) -> None:
    await tracker.send(h02_position_frame(TID, lat=lat, lon=lon, **kw))
    assert (await tracker.read_frame()).startswith(f"*HQ,{TID},V4,V1,".encode())


async def test_a_live_session_owns_its_id(hass: HomeAssistant, listener: Any, caplog: Any) -> None:
    hub = listener.runtime_data.hub
    port = listener.data["port"]
    bike = await FakeTracker(port).connect()
    await _report(bike, *HOME)
    spoof_tcp = await FakeTracker(port, source="127.0.0.2").connect()
    spoof_udp = await UdpClient.open(port, source="127.0.0.3")
    # Far away: answered (it may be the tracker's new link) but nothing moves, nothing closes.
    await _report(spoof_tcp, *FAR)
    await _report(spoof_tcp, *FAR)  # a second one from the same source confirms nothing here
    spoof_udp.send(h02_position_frame(TID, lat=FAR[0], lon=FAR[1]))
    await spoof_udp.reply()
    # Invalid fixes and heartbeats from others neither move nor take over the connection.
    await spoof_tcp.send(h02_position_frame(TID, valid=False))
    await spoof_tcp.read_frame()
    assert _shown(hass) == pytest.approx(HOME)
    assert hub.peers[TID].host == "127.0.0.1"
    assert hub.stats.contested_reports == 4
    assert hub.stats.held_positions == 0  # refused before they were judged
    # The repair names where the reports came from.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"contested_tracker_{TID}")
    assert issue is not None
    assert issue.translation_placeholders == {"name": "Bike", "sources": "127.0.0.2, 127.0.0.3"}
    # The Bike's connection is still the live one: it reports, it is shown, it gets commands.
    await _report(bike, HOME[0] + 0.001, HOME[1])
    assert _shown(hass) == pytest.approx((HOME[0] + 0.001, HOME[1]))
    task = asyncio.create_task(
        hass.services.async_call(
            DOMAIN, "request_position", {"entity_id": "device_tracker.bike"}, blocking=True
        )
    )
    assert (await bike.read_frame()).startswith(f"*HQ,{TID},CR,".encode())
    assert await spoof_tcp.read_nothing() == b""
    await bike.send(f"*HQ,{TID},V4,CR#")
    await asyncio.wait_for(task, 5)
    # A plausible report from a new connection is a genuine reconnect: taken at once.
    again = await FakeTracker(port, source="127.0.0.4").connect()
    await _report(again, HOME[0] + 0.002, HOME[1])
    assert await bike.closed_by_server()
    assert _shown(hass) == pytest.approx((HOME[0] + 0.002, HOME[1]))
    assert warnings_from(caplog.records, INTEGRATION_LOGGER) == []
    for client in (bike, spoof_tcp, again):
        await client.close()
    spoof_udp.close()


@pytest.mark.parametrize(
    ("silent_s", "taken"), [(LIVE_SESSION_S - 1, False), (LIVE_SESSION_S + 1, True)]
)
async def test_the_live_session_window_119_and_121_s(
    hass: HomeAssistant, clock: FakeClock, silent_s: float, taken: bool
) -> None:
    entry = await setup_listener(hass, free_port(), trackers=[(TID, "Bike")])
    hub = entry.runtime_data.hub
    port = entry.data["port"]
    bike = await FakeTracker(port).connect()
    await _report(bike, *HOME)
    clock.now += silent_s
    other = await FakeTracker(port, source="127.0.0.5").connect()
    await _report(other, *FAR)
    if taken:
        # Silent for longer than the window: the link counts as dead, the newcomer speaks for
        # the tracker; its far position is still only held (one report, never confirmed).
        assert await bike.closed_by_server()
        assert (hub.stats.contested_reports, hub.stats.held_positions) == (0, 1)
    else:
        assert (hub.stats.contested_reports, hub.stats.held_positions) == (1, 0)
        assert await bike.read_nothing() == b""  # not closed
        await _report(bike, HOME[0] + 0.001, HOME[1])
    assert _shown(hass)[0] == pytest.approx(HOME[0], abs=0.01)
    for client in (bike, other):
        await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_jump_from_the_tracker_itself_is_shown_once_confirmed(
    hass: HomeAssistant, listener: Any
) -> None:
    """A ferry or a tow truck: the first report far away is held, the next one confirms it."""
    hub = listener.runtime_data.hub
    bike = await FakeTracker(listener.data["port"]).connect()
    await _report(bike, *HOME)
    await _report(bike, *FAR)
    assert _shown(hass) == pytest.approx(HOME)
    assert hub.stats.held_positions == 1
    await _report(bike, FAR[0] + 0.001, FAR[1])
    assert _shown(hass) == pytest.approx((FAR[0] + 0.001, FAR[1]))
    diag_counts = hub.stats
    assert diag_counts.held_positions == 1
    await bike.close()


async def test_a_pinned_clock_does_not_pin(hass: HomeAssistant, listener: Any) -> None:
    hub = listener.runtime_data.hub
    port = listener.data["port"]
    udp = await UdpClient.open(port, source="127.0.0.6")  # no live session: UDP only
    now = dt_util.utcnow()
    udp.send(h02_position_frame(TID, lat=HOME[0], lon=HOME[1], when=now + timedelta(hours=23)))
    await udp.reply()
    assert hub.stats.untrusted_times == 1
    fix_time = hub.trackers[TID].fix_time
    assert fix_time is not None
    assert fix_time <= dt_util.utcnow()
    for n in range(1, 4):
        udp.send(h02_position_frame(TID, lat=HOME[0] + n / 1000, lon=HOME[1]))
        await udp.reply()
        assert _shown(hass)[0] == pytest.approx(HOME[0] + n / 1000)
    assert hub.stats.late_reports == 0
    udp.close()


async def test_discovery_works_after_a_flood_of_junk_ids(
    hass: HomeAssistant, listener: Any
) -> None:
    hub = listener.runtime_data.hub
    port = listener.data["port"]
    junk = await UdpClient.open(port, source="127.0.0.7")
    for n in range(200):
        junk.send(h02_position_frame(str(900_000 + n)))
    await wait_for(lambda: hub.stats.messages >= 200, timeout=10)
    assert len(hub.pending) == MAX_PENDING_TRACKERS
    new = "7000000001"
    genuine = await FakeTracker(port, source="127.0.0.8").connect()

    def discovered() -> bool:
        return any(
            f["context"].get("unique_id") == f"tracker_{new}"
            for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        )

    started = asyncio.get_running_loop().time()
    for _ in range(5):  # a tracker reports again when it is not added yet
        await genuine.send(h02_position_frame(new))
        await genuine.read_frame()
        try:
            await wait_for_event(hass, EVENT_FLOW_DISCOVERED, discovered, timeout=1.0)
            break
        except AssertionError:
            continue
    assert discovered()
    assert asyncio.get_running_loop().time() - started < 5
    await hass.async_block_till_done()
    assert len(hub.pending) <= MAX_PENDING_TRACKERS
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) <= MAX_PENDING_TRACKERS
    assert hub.stats.evicted_flows >= 1
    # Dismissing a discovery frees its place in the waiting list.
    flow = next(
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"].get("unique_id") != f"tracker_{new}"
    )
    dismissed = flow["context"]["unique_id"].removeprefix("tracker_")
    assert dismissed in hub.pending
    hass.config_entries.flow.async_abort(flow["flow_id"])
    await hass.async_block_till_done()
    assert dismissed not in hub.pending
    junk.close()
    await genuine.close()


async def test_idle_and_slowloris_connections_are_closed(
    hass: HomeAssistant, listener: Any
) -> None:
    server = listener.runtime_data.server
    server.first_frame_timeout = 0.5  # 60 s in production; 119/121-style margins are the hub's
    port = listener.data["port"]
    idle = await FakeTracker(port, source="127.0.0.2").connect()
    slow = await FakeTracker(port, source="127.0.0.3").connect()
    bike = await FakeTracker(port).connect()
    await _report(bike, *HOME)
    for _ in range(10):  # a byte now and then, never a whole frame
        try:
            await slow.send(b"*")
        except ConnectionError:
            break  # closed while it trickles: what is asserted below
        await asyncio.sleep(0.1)
    assert await _gone(idle)
    assert await _gone(slow)
    assert server.stats.first_frame_timeouts == 2
    assert await bike.read_nothing(0.3) == b""  # the Bike framed: its idle timeout is 30 min
    await _report(bike, *HOME)
    for client in (idle, slow, bike):
        await client.close()


async def test_the_cap_drops_the_oldest_stranger_never_a_tracker(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port(), max_connections=5, trackers=[(TID, "Bike")])
    server = entry.runtime_data.server
    port = entry.data["port"]
    bike = await FakeTracker(port).connect()
    await _report(bike, *HOME)
    idle = [await FakeTracker(port, source="127.0.0.2").connect() for _ in range(4)]
    await wait_for(lambda: server.stats.connections_open == 5)
    # The Bike reconnects (its old link dead) with the cap full of idle connections.
    started = asyncio.get_running_loop().time()
    again = await FakeTracker(port, source="127.0.0.9").connect()
    await _report(again, HOME[0] + 0.001, HOME[1])
    assert asyncio.get_running_loop().time() - started < 1.0
    assert await _gone(idle[0])
    assert server.stats.unidentified_dropped == 1
    assert await _gone(bike)  # its old connection, closed for the new one
    await wait_for(lambda: server.stats.connections_open == 4)
    # Strangers keep coming: they push out strangers, never the Bike's new connection.
    strangers = [await FakeTracker(port, source="127.0.0.3").connect() for _ in range(6)]
    await wait_for(lambda: server.stats.unidentified_dropped == 1 + 5)  # the first had a place
    await _report(again, HOME[0] + 0.002, HOME[1])
    assert len(server.connections) == 5
    for client in (bike, again, *idle, *strangers):
        await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_max_per_source_50th_and_51st(hass: HomeAssistant, listener: Any) -> None:
    server = listener.runtime_data.server
    port = listener.data["port"]
    assert server.max_per_source == 50
    clients = [await FakeTracker(port, source="127.0.0.4").connect() for _ in range(50)]
    await wait_for(
        lambda: server.connections.count("127.0.0.4") == 50,
        what=f"50 connections, {server.connections.count('127.0.0.4')} {server.stats}",
    )
    assert server.stats.unidentified_dropped == 0  # the 50th is in
    clients.append(await FakeTracker(port, source="127.0.0.4").connect())  # the 51st
    assert await _gone(clients[0])  # the oldest stranger of that address made room
    assert server.connections.count("127.0.0.4") == 50
    assert server.stats.unidentified_dropped == 1
    # Another address is not bound by that one.
    other = await FakeTracker(port, source="127.0.0.5").connect()
    await wait_for(lambda: server.connections.count("127.0.0.5") == 1)
    for client in (*clients, other):
        await client.close()


async def test_identified_trackers_behind_one_address_are_never_dropped(
    hass: HomeAssistant,
) -> None:
    ids = [f"41060116{n:02d}" for n in range(3)]
    entry = await setup_listener(
        hass, free_port(), options={"max_per_source": 3}, trackers=[(i, i) for i in ids]
    )
    server = entry.runtime_data.server
    port = entry.data["port"]
    trackers = []
    for tid in ids:
        tracker = await FakeTracker(port, source="127.0.0.6").connect()
        await tracker.send(h02_position_frame(tid))
        await tracker.read_frame()
        trackers.append(tracker)
    fourth = await FakeTracker(port, source="127.0.0.6").connect()
    assert await _gone(fourth)
    assert server.stats.per_source_refused == 1
    for tracker, tid in zip(trackers, ids, strict=True):
        await tracker.send(h02_position_frame(tid))
        assert (await tracker.read_frame()).startswith(f"*HQ,{tid},".encode())
    for client in (*trackers, fourth):
        await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_allowed_sources(hass: HomeAssistant) -> None:
    entry = await setup_listener(
        hass,
        free_port(),
        options={"allowed_sources": ["127.0.0.1/32", "10.0.0.0/8"]},
        trackers=[(TID, "Bike")],
    )
    server = entry.runtime_data.server
    port = entry.data["port"]
    outsider = await FakeTracker(port, source="127.0.0.2").connect()
    assert await _gone(outsider)
    udp = await UdpClient.open(port, source="127.0.0.3")
    udp.send(h02_position_frame(TID))
    with pytest.raises(TimeoutError):
        await udp.reply(timeout=0.3)
    assert server.stats.sources_refused == 2
    bike = await FakeTracker(port).connect()
    await _report(bike, *HOME)
    udp.close()
    for client in (outsider, bike):
        await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


INVALID_H02 = [
    "*HQ,../../etc/passwd,V1,120000,A,5035.3130,N,00431.8210,E,0.00,0,231126,FFFFFBFF#",
    "*HQ,41\x0060,V1,120000,A,5035.3130,N,00431.8210,E,0.00,0,231126,FFFFFBFF#",
    "*HQ,४१०६०११६६०,V1,120000,A,5035.3130,N,00431.8210,E,0.00,0,231126,FFFFFBFF#",  # not ASCII
    "*HQ,123456789012345678901,V1,120000,A,5035.3130,N,00431.8210,E,0.00,0,231126,FFFFFBFF#",
    f"*HQ,{TID},V1,120000,A,NaN,N,00431.8210,E,0.00,0,231126,FFFFFBFF#",
    f"*HQ,{TID},V1,120000,A,5035.3130,N,inf,E,0.00,0,231126,FFFFFBFF#",
]
# A binary frame whose ID is not digits, and a JT/T 808 location whose terminal ID is not BCD.
INVALID_BINARY = bytes.fromhex("24410601166a1245431311165035313006004318210e000000fffffbffff0024")
# (A non-BCD field is an IMEI as an integer, §4: beyond 14 digits it names nothing.)
INVALID_JT808 = build_frame(0x0200, bytes(28), bytes.fromhex("ffffffffffff"), None, 1)


async def test_invalid_ids_get_no_reply_and_bad_input_never_raises(
    hass: HomeAssistant, listener: Any, caplog: Any
) -> None:
    server = listener.runtime_data.server
    port = listener.data["port"]
    for frame in (*INVALID_H02, INVALID_BINARY, INVALID_JT808, b"*HQ," + b"9" * 70_000):
        data = frame.encode("utf-8") if isinstance(frame, str) else frame
        tcp = await FakeTracker(port, source="127.0.0.2").connect()
        await tcp.send(data)
        assert await tcp.read_nothing(0.2) == b"", data[:40]
        await tcp.close()
        udp = await UdpClient.open(port, source="127.0.0.3")
        udp.send(data[:60_000])
        with pytest.raises(TimeoutError):
            await udp.reply(timeout=0.2)
        udp.close()
    stats = server.stats
    assert stats.codec.errors + stats.codec.overflows + stats.unknown_protocol_bytes > 0
    assert stats.sink_errors == 0
    assert not listener.runtime_data.hub.pending
    assert warnings_from(caplog.records, INTEGRATION_LOGGER, "asyncio") == []
    assert "Traceback" not in caplog.text
    print(f"{sys.getsizeof(stats)} bytes of counters", file=sys.stderr)


async def test_legitimate_reports_are_never_held_or_lost_under_attack(
    hass: HomeAssistant, listener: Any
) -> None:
    hub = listener.runtime_data.hub
    port = listener.data["port"]
    bike = await FakeTracker(port).connect()
    attackers = [await FakeTracker(port, source=f"127.0.0.{n}").connect() for n in (2, 3)]
    udp = await UdpClient.open(port, source="127.0.0.4")
    for n in range(40):
        lat = HOME[0] + n / 2000  # 55 m a report
        await _report(bike, lat, HOME[1])
        assert _shown(hass)[0] == pytest.approx(lat)
        for attacker in attackers:
            await attacker.send(h02_position_frame(TID, lat=FAR[0], lon=FAR[1]))
            await attacker.read_frame()
        udp.send(
            h02_position_frame(
                TID, lat=FAR[0], lon=FAR[1], when=dt_util.utcnow() + timedelta(hours=23)
            )
        )
        await udp.reply()
    assert hub.stats.held_positions == 0
    assert hub.stats.late_reports == 0
    assert hub.stats.contested_reports == 120
    assert hub.peers[TID].host == "127.0.0.1"
    for client in (bike, *attackers):
        await client.close()
    udp.close()
