"""The relay, end to end: real trackers on the listener, a fake upstream server on loopback.

The upstream (``FakeUpstream``) is a TCP server and a UDP socket on one free port of 127.0.0.1:
it records what each connection (or UDP source) sent it and can answer down that connection.
Backoff timings are the hub's constructor parameters (short here).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.sinotrack as integration
from custom_components.sinotrack.commands import EVENT_LOGBOOK_ENTRY
from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.hub import Hub
from custom_components.sinotrack.relay import BUFFER_LIMIT

from .helpers import (
    HOST,
    FakeTracker,
    UdpClient,
    free_port,
    h02_position_frame,
    listener_entry,
    wait_for,
    wait_for_event,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
OTHER = "4106011661"  # not configured
UNREACHABLE_AFTER = 0.5


class UpstreamConnection(asyncio.Protocol):
    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream
        self.data = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.upstream.connections.append(self)
        if self.upstream.reset:
            transport.abort()
        elif not self.upstream.reading:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)


class UpstreamDatagrams(asyncio.DatagramProtocol):
    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.upstream.datagrams.setdefault(addr, []).append(data)


class FakeUpstream:
    """The server a tracker reported to before (SinoTrack's, a Traccar), on loopback."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: list[UpstreamConnection] = []
        self.datagrams: dict[Any, list[bytes]] = {}
        self.reset = False  # accept and reset every connection
        self.reading = True
        self._server: asyncio.Server | None = None
        self._udp: UpstreamDatagrams | None = None

    async def start(self) -> FakeUpstream:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: UpstreamConnection(self), HOST, self.port, reuse_address=True
        )
        _transport, self._udp = await loop.create_datagram_endpoint(
            lambda: UpstreamDatagrams(self), local_addr=(HOST, self.port)
        )
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in self.connections:
                if conn.transport is not None:
                    conn.transport.abort()
            await self._server.wait_closed()
            self._server = None
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()
            self._udp = None

    def send_datagram(self, data: bytes, addr: Any) -> None:
        assert self._udp is not None
        assert self._udp.transport is not None
        self._udp.transport.sendto(data, addr)


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    server = await FakeUpstream(free_port()).start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        integration,
        "Hub",
        partial(Hub, relay_backoff=(0.05, 0.2), relay_unreachable_after=UNREACHABLE_AFTER),
    )


async def _setup(
    hass: HomeAssistant, relay_port: int | None, *, commands: bool = False, **kwargs: Any
) -> MockConfigEntry:
    entry = listener_entry(free_port(), trackers=[(TID, "Bike")], **kwargs)
    entry.add_to_hass(hass)
    if relay_port is not None:
        _relay_options(hass, entry, relay_port, commands=commands)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _relay_options(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, *, host: str = HOST, commands: bool
) -> None:
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            "relay_host": host,
            "relay_port": port,
            "relay_commands": commands,
        },
    )


@contextlib.asynccontextmanager
async def _tracker(entry: MockConfigEntry) -> AsyncIterator[FakeTracker]:
    tracker = await FakeTracker(int(entry.data["port"])).connect()
    try:
        yield tracker
    finally:
        await tracker.close()


def _report(speed_knots: float = 0.0, tracker_id: str = TID) -> bytes:
    return h02_position_frame(tracker_id, speed_knots=speed_knots).encode()


def _stats(entry: MockConfigEntry) -> Any:
    return entry.runtime_data.hub.relay.stats[TID]


class Logbook:
    """The logbook lines the integration writes, from now on."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.seen: list[str] = []
        self.unsub = hass.bus.async_listen(EVENT_LOGBOOK_ENTRY, self._entry)

    @callback
    def _entry(self, event: Any) -> None:
        self.seen.append(event.data["message"])

    async def wait(self, text: str) -> None:
        await wait_for_event(
            self.hass, EVENT_LOGBOOK_ENTRY, lambda: any(text in m for m in self.seen), what=text
        )


async def test_bytes_relayed_exactly_in_order_over_many_chunkings(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    """Each tracker connection is one upstream connection carrying its exact bytes, from the
    first byte (before the tracker was identified), frames the integration does not know too."""
    entry = await _setup(hass, upstream.port)
    stream = (
        b"\r\n"  # what some trackers send before their first frame
        + f"*HQ,{TID},SMS,ST906(70SACD)_TQ_V_2.0 2024/06/07\nID:{TID}#".encode()
        + _report()
        + f"*HQ,{TID},ZZ9,whatever,this,is#".encode()  # a frame nobody here understands
        + _report(12.0)
        + f"*HQ,{TID},HTBT#".encode()
    )
    for number, size in enumerate((1, 2, 3, 7, 16, 61, len(stream)), start=1):
        async with _tracker(entry) as tracker:
            for k in range(0, len(stream), size):
                await tracker.send(stream[k : k + size])
                if size < 4:
                    await asyncio.sleep(0)
            await wait_for(
                lambda n=number: (
                    len(upstream.connections) == n
                    and bytes(upstream.connections[-1].data) == stream
                ),
                what=f"the stream in chunks of {size} upstream",
            )
        await wait_for(upstream.connections[-1].closed.done, what="upstream closed")
    assert all(bytes(c.data) == stream for c in upstream.connections)
    assert _stats(entry).bytes_up == len(stream) * 7
    await hass.config_entries.async_unload(entry.entry_id)


async def test_replies_never_reach_the_tracker_commands_only_with_relay_commands(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    entry = await _setup(hass, upstream.port)
    async with _tracker(entry) as tracker:
        await tracker.send(_report())
        assert b",V4,V1," in await tracker.read_frame()  # Home Assistant's own answer
        await wait_for(lambda: upstream.connections, what="the upstream connection")
        conn = upstream.connections[0]
        await wait_for(lambda: conn.data, what="the report upstream")
        # The upstream answers the report too, and sends a command: none of it goes down.
        command = f"*HQ,{TID},D1,120000,30#".encode()
        conn.send(
            f"*HQ,{TID},V4,V1,20261123120000#*HQ,{TID},R12,120000#".encode()
            + command[:9]  # a command cut in two segments
        )
        await asyncio.sleep(0.05)
        conn.send(command[9:] + b"\x00\xffgarbage")
        assert await tracker.read_nothing(0.3) == b""
        await wait_for(lambda: _stats(entry).commands_refused == 1, what="the refused command")
        assert _stats(entry).replies_dropped == 2

        # relay_commands on, live: the same link; the command goes down, logged.
        _relay_options(hass, entry, upstream.port, commands=True)
        await hass.async_block_till_done()
        assert len(upstream.connections) == 1
        logbook = Logbook(hass)
        conn.send(f"*HQ,{TID},V4,V1,20261123120001#".encode() + command)
        assert await tracker.read_frame() == command
        await logbook.wait("command D1 from the relay server sent")
        logbook.unsub()
        # Another device's ID is never sent to this tracker.
        conn.send(f"*HQ,{OTHER},D1,120000,30#".encode())
        assert await tracker.read_nothing(0.3) == b""
        # The tracker's acknowledgement goes up as part of its stream.
        ack = f"*HQ,{TID},V4,D1,120000,30,120001,A,5035.3130,N,00431.8210,E,0.00,0,231126,FFFFFBFF#"
        await tracker.send(ack.encode())
        await wait_for(lambda: conn.data.endswith(ack.encode()), what="the ack upstream")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_an_upstream_engine_cut_meets_the_interlock(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    entry = await _setup(hass, upstream.port, commands=True)
    cut = f"*HQ,{TID},S20,120000,1,1#".encode()
    async with _tracker(entry) as tracker:
        await tracker.send(_report(speed_knots=40.0))  # 74 km/h
        await tracker.read_frame()
        await wait_for(lambda: upstream.connections, what="the upstream connection")
        conn = upstream.connections[0]
        logbook = Logbook(hass)
        conn.send(cut)
        await logbook.wait("engine cut from the relay server refused: moving at 74 km/h")
        assert await tracker.read_nothing(0.3) == b""
        # Parked: the same cut goes through, in the logbook like Home Assistant's own.
        await tracker.send(_report(speed_knots=0.0))
        await tracker.read_frame()
        conn.send(cut)
        assert await tracker.read_frame() == cut
        await logbook.wait("engine cut from the relay server sent")
        logbook.unsub()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unknown_trackers_are_not_relayed(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    entry = await _setup(hass, upstream.port, new_trackers="ignore")
    report = _report()
    async with _tracker(entry) as stranger, _tracker(entry) as known:
        await stranger.send(_report(tracker_id=OTHER))
        await stranger.send(b"*HQ,notdigits,V1#")
        await known.send(report)
        await known.read_frame()
        await wait_for(lambda: upstream.connections and upstream.connections[0].data, what="up")
        await stranger.send(_report(tracker_id=OTHER))
        await asyncio.sleep(0.2)
    assert len(upstream.connections) == 1
    assert bytes(upstream.connections[0].data) == report
    assert OTHER.encode() not in upstream.connections[0].data
    assert list(entry.runtime_data.hub.relay.stats) == [TID]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_upstream_down_buffer_bounded_then_back(hass: HomeAssistant) -> None:
    """Nothing listens upstream: Home Assistant answers and shows every report, the relay keeps
    the newest 64 KiB (the oldest dropped, counted), a repair after the hour (short here), and
    once the upstream is back it reconnects and gets the buffered tail in order."""
    port = free_port()
    entry = await _setup(hass, port)
    reports = [_report(speed_knots=k % 30) for k in range(900)]
    async with _tracker(entry) as tracker:
        for report in reports:
            await tracker.send(report)
            assert b",V4,V1," in await tracker.read_frame()
        stats = _stats(entry)
        assert stats.state in ("connecting", "waiting")
        assert stats.last_error is not None
        assert stats.dropped_bytes > 0
        total = sum(map(len, reports))
        assert stats.dropped_bytes == total - BUFFER_LIMIT
        issue_id = f"relay_unreachable_{entry.entry_id}"
        await asyncio.sleep(UNREACHABLE_AFTER)
        await wait_for(
            lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id), what="the repair"
        )
        back = await FakeUpstream(port).start()
        try:
            await wait_for(
                lambda: back.connections and len(back.connections[0].data) == BUFFER_LIMIT,
                what="the buffered tail upstream",
            )
            whole = b"".join(reports)
            got = bytes(back.connections[0].data)
            assert got == whole[-BUFFER_LIMIT:]
            assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
            await tracker.send(_report())
            await tracker.read_frame()
            await wait_for(lambda: back.connections[0].data.endswith(_report()), what="live")
            assert _stats(entry).state == "connected"
        finally:
            await back.stop()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_upstream_resetting_or_slow_changes_nothing_in_home_assistant(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    upstream.reset = True
    entry = await _setup(hass, upstream.port)
    async with _tracker(entry) as tracker:
        for k in range(20):
            await tracker.send(_report(speed_knots=k))
            assert b",V4,V1," in await tracker.read_frame()
        await wait_for(lambda: _stats(entry).connects >= 2, what="reconnects after resets")
        # Now it accepts but never reads: the tracker is still answered at once.
        upstream.reset = False
        upstream.reading = False
        count = len(upstream.connections)
        await wait_for(lambda: len(upstream.connections) > count, what="a connection kept")
        for k in range(300):
            await tracker.send(_report(speed_knots=k % 30) + b"x" * 2000)
            assert b",V4,V1," in await tracker.read_frame()
        relay = entry.runtime_data.hub.relay
        link = next(iter(relay.links.values()))
        assert link._pending_size <= BUFFER_LIMIT
    await hass.config_entries.async_unload(entry.entry_id)


async def test_udp_one_socket_per_source_replies_filtered(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    entry = await _setup(hass, upstream.port, commands=True)
    client = await UdpClient.open(int(entry.data["port"]))
    try:
        first, second = _report(), _report(speed_knots=3.0)
        client.send(first)
        assert b",V4,V1," in await client.reply()
        client.send(second)
        await client.reply()
        await wait_for(lambda: upstream.datagrams, what="datagrams upstream")
        assert list(upstream.datagrams.values()) == [[first, second]]
        source = next(iter(upstream.datagrams))
        upstream.send_datagram(f"*HQ,{TID},V4,V1,20261123120000#".encode(), source)
        command = f"*HQ,{TID},CR#".encode()
        upstream.send_datagram(command, source)
        assert await client.reply() == command  # the reply before it never came down
        assert _stats(entry).replies_dropped == 1
    finally:
        client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_relay_options_apply_without_a_restart(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    entry = await _setup(hass, None)
    server = entry.runtime_data.server
    async with _tracker(entry) as tracker:
        await tracker.send(_report())
        await tracker.read_frame()
        await asyncio.sleep(0.1)
        assert upstream.connections == []
        _relay_options(hass, entry, upstream.port, commands=False)  # on, live
        await hass.async_block_till_done()
        assert entry.runtime_data.server is server
        await tracker.send(_report(speed_knots=1.0))
        await tracker.read_frame()
        await wait_for(
            lambda: (
                upstream.connections
                and bytes(upstream.connections[0].data) == _report(speed_knots=1.0)
            ),
            what="relayed from now on",
        )
        _relay_options(hass, entry, upstream.port, host="", commands=False)  # off again
        await hass.async_block_till_done()
        await wait_for(upstream.connections[0].closed.done, what="link closed")
        assert server.tap is None
        await tracker.send(_report())
        assert b",V4,V1," in await tracker.read_frame()
    await hass.config_entries.async_unload(entry.entry_id)
