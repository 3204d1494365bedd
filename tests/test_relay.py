"""The relay, end to end: real trackers on the listener, a fake upstream server on loopback.

The upstream (``FakeUpstream``) is a TCP server and a UDP socket on one free port of 127.0.0.1:
it records what each connection (or UDP source) sent it and can answer down that connection.
Backoff timings are the hub's constructor parameters (short here).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import partial
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.sinotrack as integration
from custom_components.sinotrack.commands import EVENT_LOGBOOK_ENTRY
from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.hub import Hub
from custom_components.sinotrack.protocol import H02Codec
from custom_components.sinotrack.relay import (
    BUFFER_LIMIT,
    MAX_UNDECIDED,
    PRELUDE_LIMIT,
    Relay,
    RelayTiming,
    _error_text,
)
from custom_components.sinotrack.server import Peer

from .helpers import (
    HOST,
    FakeTracker,
    UdpClient,
    free_port,
    h02_position_frame,
    listener_entry,
    logbook_lines,
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
        if self.upstream.reset:  # a true reset (RST), not an orderly close: no lingering
            transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
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


async def _logbook_says(hass: HomeAssistant, book: list[str], text: str) -> None:
    await wait_for_event(hass, EVENT_LOGBOOK_ENTRY, lambda: any(text in m for m in book), what=text)


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
        book = logbook_lines(hass)
        conn.send(f"*HQ,{TID},V4,V1,20261123120001#".encode() + command)
        assert await tracker.read_frame() == command
        await _logbook_says(hass, book, "command D1 from the relay server sent")
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
        book = logbook_lines(hass)
        conn.send(cut)
        await _logbook_says(
            hass, book, "engine cut from the relay server refused: moving at 74 km/h"
        )
        assert await tracker.read_nothing(0.3) == b""
        # Parked: the same cut goes through, in the logbook like Home Assistant's own.
        await tracker.send(_report(speed_knots=0.0))
        await tracker.read_frame()
        conn.send(cut)
        assert await tracker.read_frame() == cut
        await _logbook_says(hass, book, "engine cut from the relay server sent")
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
            live = _report()  # built once: a frame carries the time, down to the second
            await tracker.send(live)
            await tracker.read_frame()
            await wait_for(lambda: back.connections[0].data.endswith(live), what="live")
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
        relayed = _report(speed_knots=1.0)  # built once: a frame carries the time, to the second
        await tracker.send(relayed)
        await tracker.read_frame()
        await wait_for(
            lambda: upstream.connections and bytes(upstream.connections[0].data) == relayed,
            what="relayed from now on",
        )
        _relay_options(hass, entry, upstream.port, host="", commands=False)  # off again
        await hass.async_block_till_done()
        await wait_for(upstream.connections[0].closed.done, what="link closed")
        assert server.tap is None
        await tracker.send(_report())
        assert b",V4,V1," in await tracker.read_frame()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_upstream_udp_port_closed_noted_and_unreadable_frames_counted(
    hass: HomeAssistant, upstream: FakeUpstream
) -> None:
    """Nothing listens on the relay's UDP port: its host says so (ICMP), the error is noted and
    the socket stays; on TCP, frames the codec refuses are counted and never reach the tracker."""
    entry = await _setup(hass, free_port(), commands=True)
    client = await UdpClient.open(int(entry.data["port"]))
    try:
        for k in range(3):  # the first datagram up draws the ICMP, the next ones read it
            client.send(_report(speed_knots=k))
            assert b",V4,V1," in await client.reply()
            await asyncio.sleep(0.05)
        await wait_for(lambda: _stats(entry).last_error == "Connection refused", what="ICMP")
        assert _stats(entry).state == "connected"
        assert _stats(entry).bytes_up >= len(_report())
    finally:
        client.close()
    _relay_options(hass, entry, upstream.port, commands=True)
    await hass.async_block_till_done()
    async with _tracker(entry) as tracker:
        await tracker.send(_report())
        await tracker.read_frame()
        await wait_for(lambda: upstream.connections, what="the upstream connection")
        upstream.connections[0].send(b"*HQ,notdigits,D1,120000,30#")
        await wait_for(lambda: _stats(entry).unreadable == 1, what="the unreadable frame")
        assert await tracker.read_nothing(0.3) == b""
        assert _stats(entry).commands_relayed == _stats(entry).commands_refused == 0
    await hass.config_entries.async_unload(entry.entry_id)


# --- the Relay alone: its links to a real upstream, for peers the listener would have made ------


class _TcpPeer(Peer):
    """A tracker's end of the listener as the relay sees it: only its name, codec and state."""

    stream = True

    def __init__(self, name: str) -> None:
        self.name, self.host = name, name.rsplit(":", 1)[0]
        self.codec = H02Codec()
        self.open = True

    @property
    def is_open(self) -> bool:
        return self.open


class _UdpPeer(_TcpPeer):
    stream = False


class _RelayUnderTest:
    """A ``Relay`` aimed at the fake upstream, its tasks awaited when the test ends."""

    def __init__(self, upstream: FakeUpstream, **kwargs: Any) -> None:
        self.tasks: list[asyncio.Task[None]] = []
        self.relay = Relay(
            lambda *_args: False,
            lambda _down: None,
            self._spawn,
            RelayTiming(backoff_base=0.01, backoff_max=0.02, **kwargs),
        )
        self.relay.configure(HOST, upstream.port, commands=False)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.append(task)
        return task

    async def close(self) -> None:
        self.relay.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def relays(upstream: FakeUpstream) -> AsyncIterator[Callable[..., Relay]]:
    made: list[_RelayUnderTest] = []

    def make(**kwargs: Any) -> Relay:
        made.append(_RelayUnderTest(upstream, **kwargs))
        return made[-1].relay

    yield make
    for under_test in made:
        await under_test.close()


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (TimeoutError(), "timed out"),
        (socket.gaierror(socket.EAI_AGAIN, "Try again"), "name not resolved (Try again)"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "Connection refused"),
        (ConnectionResetError(), "ConnectionResetError"),  # an error without the OS's words
        (EOFError(), "EOFError"),
    ],
)
def test_error_text_in_the_stats(error: BaseException, text: str) -> None:
    assert _error_text(error) == text


def _data(upstream: FakeUpstream) -> list[bytes]:
    return sorted(bytes(conn.data) for conn in upstream.connections)


async def test_each_failure_noted_then_connected(
    relays: Callable[..., Relay],
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A name not resolved, a resolver with no address, a connect timing out: each is noted (in
    the stats and at debug) and retried; the bytes wait, and go up once a connect succeeds."""
    caplog.set_level(logging.DEBUG, logger="custom_components.sinotrack.relay")
    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo
    answers: list[Any] = [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), []]

    async def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        if answers:
            answer = answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return await real_getaddrinfo(*args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    relay = relays(connect_timeout=0.0)
    peer = _TcpPeer("127.0.0.2:40000")
    relay.received(peer, b"first")
    relay.attach(TID, peer)
    stats = relay.stats[TID]

    def errors() -> list[str]:
        prefix = f"Relay of tracker {TID}: "
        return [r.message[len(prefix) :] for r in caplog.records if r.message.startswith(prefix)]

    await wait_for(lambda: len(errors()) >= 3, what="three failures")
    assert errors()[:3] == [
        "name not resolved (Name or service not known)",
        "name not resolved (no address for the relay server)",
        "timed out",
    ]
    assert stats.last_error == "timed out"
    assert stats.connects == 0
    relay.received(peer, b"second")
    relay.timing = dataclasses.replace(relay.timing, connect_timeout=5.0)
    await wait_for(lambda: b"firstsecond" in _data(upstream), what="the bytes upstream")
    assert set(_data(upstream)) <= {b"", b"firstsecond"}  # a connect that timed out got nothing
    assert stats.state == "connected"
    assert stats.connects == 1


@pytest.mark.parametrize(("stable_after", "attempts"), [(0.0, [0, 0, 0]), (3600.0, [0, 1, 2])])
async def test_a_connection_that_lasted_starts_the_backoff_over(
    relays: Callable[..., Relay], upstream: FakeUpstream, stable_after: float, attempts: list[int]
) -> None:
    upstream.reset = True
    relay = relays(stable_after=stable_after)
    seen: list[int] = []

    def backoff(attempt: int) -> float:
        seen.append(attempt)
        return 0.01

    relay.backoff = backoff  # type: ignore[method-assign]
    relay.attach(TID, _TcpPeer("127.0.0.2:40000"))
    await wait_for(lambda: len(seen) >= 3, what="three reconnects")
    assert seen[:3] == attempts
    assert relay.stats[TID].connects >= 3
    assert relay.stats[TID].last_error == "Connection reset by peer"


async def test_a_full_upstream_pauses_the_link_and_its_resume_flushes_in_order(
    relays: Callable[..., Relay], upstream: FakeUpstream
) -> None:
    """The upstream stops reading: once its socket is full the link buffers (the newest
    ``BUFFER_LIMIT`` bytes), and what waited goes up when it reads again, then live bytes."""
    upstream.reading = False
    relay = relays()
    peer = _TcpPeer("127.0.0.2:40000")
    relay.attach(TID, peer)
    stats = relay.stats[TID]
    await wait_for(lambda: stats.state == "connected", what="connected")
    sent = bytearray()
    while stats.dropped_bytes == 0 and len(sent) < 64 * 1024 * 1024:  # the socket fills first
        chunk = os.urandom(16 * 1024)
        sent += chunk
        relay.received(peer, chunk)
        await asyncio.sleep(0)
    dropped = stats.dropped_bytes
    assert 0 < dropped < len(sent) - BUFFER_LIMIT
    conn = upstream.connections[0]
    assert conn.transport is not None
    conn.transport.resume_reading()
    await wait_for(lambda: len(conn.data) == len(sent) - dropped, what="the buffered bytes")
    data = bytes(conn.data)
    written = len(data) - BUFFER_LIMIT  # before the pause; then the buffer's tail
    assert data == bytes(sent[:written] + sent[written + dropped :])
    relay.received(peer, b"live")
    await wait_for(lambda: conn.data.endswith(b"live"), what="live again")
    assert stats.bytes_up == len(data) + 4
    assert stats.dropped_bytes == dropped


async def test_bytes_waiting_for_a_decision_are_bounded(
    relays: Callable[..., Relay], upstream: FakeUpstream
) -> None:
    """At most ``MAX_UNDECIDED`` connections wait (the oldest forgotten), each with at most
    ``PRELUDE_LIMIT`` bytes (beyond, never a tracker of ours); at most ``MAX_UNDECIDED`` refused
    connections are remembered; refusing a relayed connection changes nothing."""
    relay = relays()
    waiting = [_TcpPeer(f"127.0.0.2:{k}") for k in range(MAX_UNDECIDED + 1)]
    for k, peer in enumerate(waiting):
        relay.received(peer, f"prelude {k};".encode())
    relay.attach(TID, waiting[0])  # forgotten: its prelude went
    relay.attach(TID, waiting[-1])
    await wait_for(lambda: len(upstream.connections) == 2, what="two links")
    await wait_for(lambda: _data(upstream) == [b"", b"prelude 512;"], what="the kept prelude")

    talker = _TcpPeer("127.0.0.3:1")
    relay.received(talker, b"x" * PRELUDE_LIMIT)
    relay.received(talker, b"y")  # over the limit: refused
    relay.received(talker, b"z")  # ignored
    relay.attach(TID, talker)
    relay.refuse(talker)  # relayed already: stays relayed
    relay.received(talker, b"after")
    await wait_for(lambda: b"after" in _data(upstream), what="only what came after")

    refused = [_TcpPeer(f"127.0.0.4:{k}") for k in range(MAX_UNDECIDED + 1)]
    for peer in refused:
        relay.refuse(peer)
    relay.received(refused[0], b"forgotten, waits again")
    relay.received(refused[1], b"still refused")
    relay.attach(TID, refused[0])
    relay.attach(TID, refused[1])
    await wait_for(lambda: len(upstream.connections) == 5, what="five links")
    await wait_for(
        lambda: _data(upstream) == [b"", b"", b"after", b"forgotten, waits again", b"prelude 512;"],
        what="the remembered refusal",
    )


async def test_a_udp_tracker_has_one_socket_per_live_source(
    relays: Callable[..., Relay], upstream: FakeUpstream
) -> None:
    """The same source again (the listener made its peer anew) keeps the socket; another source
    closes it and opens one; a closed source's socket goes; forgetting the tracker closes all."""
    relay = relays()

    async def up(peer: _UdpPeer, data: bytes, sources: int) -> Any:
        relay.received(peer, data)
        await wait_for(
            lambda: any(data in got for got in upstream.datagrams.values()), what=repr(data)
        )
        assert len(upstream.datagrams) == sources
        return next(addr for addr, got in upstream.datagrams.items() if data in got)

    first = _UdpPeer("127.0.0.2:5000")
    relay.attach(TID, first)
    source = await up(first, b"1", 1)
    again = _UdpPeer("127.0.0.2:5000")
    relay.attach(TID, again)
    assert await up(again, b"2", 1) == source
    relay.received(first, b"old peer")  # no longer relayed: waits for a decision
    moved = _UdpPeer("127.0.0.2:5001")
    relay.attach(TID, moved)
    assert await up(moved, b"3", 2) != source
    relay.received(again, b"left")  # its socket closed with it
    relay.peer_closed(moved)
    back = _UdpPeer("127.0.0.2:5001")
    relay.attach(TID, back)
    await up(back, b"4", 3)
    assert upstream.datagrams[source] == [b"1", b"2"]
    assert sorted(d for got in upstream.datagrams.values() for d in got) == [b"1", b"2", b"3", b"4"]
    diagnostics = relay.diagnostics(TID)
    assert diagnostics is not None
    assert (diagnostics["bytes_up"], diagnostics["connects"]) == (4, 3)
    other = _TcpPeer("127.0.0.3:1")
    relay.attach(OTHER, other)
    relay.forget(TID)
    assert list(relay.links) == [other]
    assert relay.diagnostics(TID) is None
    assert relay.diagnostics(OTHER) is not None
