"""The server (TCP and UDP) under bad conditions: caps, junk, idle peers, failures, running out
of file descriptors; UDP replies to their source; status messages."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import resource
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.sinotrack import server as server_module
from custom_components.sinotrack.protocol import Command, CommandKind, ProtocolError
from custom_components.sinotrack.server import Peer, RateLimitedLog, _format_peer

from .helpers import (
    HOST,
    FakeTracker,
    UdpClient,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
    state,
    tracker_device,
    wait_for,
    wait_for_event,
    wait_for_state,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"

# A binary frame shorter than the one before waits for more bytes: it could be the start of a
# longer frame cut at a segment boundary.
LONG_FRAME = bytes.fromhex(  # 45 bytes, this tracker's ID, 50.58955 N 4.53035 E (111 m away
    # from SHORT_FRAME: a position thousands of km away would be an implausible jump, held)
    f"24{TID}2153213108155035373006004318210e000000fffffbfdff0015060000002c02dc0c000000001f"
)
SHORT_FRAME = bytes.fromhex(  # 32 bytes, 50.58855 N 4.53035 E
    f"24{TID}1245431311165035313006004318210e000000fffffbffff0024"
)


async def test_connection_cap_refuses_logs_once_and_recovers(
    hass: HomeAssistant, caplog: Any
) -> None:
    """Two trackers fill the cap: newcomers are refused (issue 18: a connection that never
    identified itself would be dropped for them instead, so these two identify themselves)."""
    port = free_port()
    entry = await setup_listener(hass, port, max_connections=2, trackers=[("1", "A"), ("2", "B")])
    stats = entry.runtime_data.server.stats
    first = await FakeTracker(port).connect()
    second = await FakeTracker(port).connect()
    for client, tid in ((first, "1"), (second, "2")):
        await client.send(f"*HQ,{tid},V0#")
        assert await client.read_frame() == f"*HQ,{tid},V0#".encode()
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
        b"*HQ,4106011660,V1,1234" + h02_position_frame(TID, lat=1.003, lon=2.0).encode()
    )
    await wait_for_event(
        hass,
        EVENT_STATE_CHANGED,
        lambda: (
            hass.states.get(entity_id(hass, "device_tracker", f"{TID}_location")).attributes.get(
                "latitude"
            )
            == pytest.approx(1.003)
        ),
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
        # 100 m apart: one tracker driving (farther apart in one read would be held as jumps)
        frames = [h02_position_frame(TID, lat=1 + n / 1000, lon=1.0) for n in (1, 2, 3)]
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
    assert lat == pytest.approx(1.003)
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
    await wait_for_state(
        hass, entity_id(hass, "sensor", f"{TID}_battery"), lambda s: s.state == "55"
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


async def _hold_a_short_frame(hass: HomeAssistant, port: int) -> tuple[FakeTracker, str]:
    assert (len(LONG_FRAME), len(SHORT_FRAME)) == (45, 32)
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    client = await FakeTracker(port).connect()
    await client.send(LONG_FRAME)
    assert (await client.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
    first = (await wait_for_state(hass, location, lambda s: "latitude" in s.attributes)).attributes[
        "latitude"
    ]
    await client.send(SHORT_FRAME)
    await asyncio.sleep(0.2)
    assert hass.states.get(location).attributes["latitude"] == first  # held, not yet decoded
    return client, location


async def _the_short_frame_is_in(hass: HomeAssistant, location: str) -> None:
    await wait_for_state(
        hass, location, lambda s: s.attributes.get("latitude") == pytest.approx(50.58855)
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


async def test_a_report_trickling_in_waits_while_its_bytes_keep_coming(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settle check finds the tracker still sending: it waits for the quiet again, and once
    the frame's end has come (nothing held any more) it has nothing to do."""
    monkeypatch.setattr(server_module, "SETTLE_S", 0.5)
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    server = entry.runtime_data.server
    frame = h02_position_frame(TID)
    client = await FakeTracker(port).connect()
    await client.send(frame[:20])  # held: the settle check is due in 0.5 s
    await asyncio.sleep(0.25)
    await client.send(frame[20:-1])  # more of it, 0.25 s before the check: not quiet yet
    (peer,) = list(server.connections)
    await wait_for(lambda: peer.codec.buffered == len(frame) - 1, what="the bytes held")
    assert await client.read_nothing(wait=0.35) == b""  # the check came and waits again
    assert peer._settle_timer is not None
    await client.send("#")  # the end: the report is taken, the next check finds nothing held
    assert (await client.read_frame()).startswith(f"*HQ,{TID},V4,V1,".encode())
    await wait_for(lambda: peer._settle_timer is None, what="the last settle check")
    assert await client.read_nothing() == b""
    assert (server.stats.codec.errors, peer.codec.buffered) == (0, 0)
    await client.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_udp_reports_and_replies_to_source(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    udp = await UdpClient.open(port)
    # Two messages in one datagram: both are taken.
    udp.send(
        h02_position_frame(TID, lat=1.0, lon=2.0) + h02_position_frame(TID, lat=1.002, lon=2.0)
    )
    assert (await udp.reply()).startswith(f"*HQ,{TID},V4,V1,".encode())
    assert (await udp.reply()).startswith(f"*HQ,{TID},V4,V1,".encode())
    loc = state(hass, "device_tracker", "location")
    assert loc.attributes["latitude"] == pytest.approx(1.002, abs=1e-5)
    udp.close()
    await hass.config_entries.async_unload(entry.entry_id)


# Running out of file descriptors: asyncio's own accept loop hands EMFILE to the loop's exception
# handler, which Home Assistant (2025.x and later) treats as fatal: it stops the event loop. The
# server accepts itself, refuses, logs once and recovers.


@contextlib.contextmanager
def descriptors_exhausted() -> Iterator[None]:
    """Lower the open-file limit near what is open and fill the rest; restore both after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fillers: list[int] = []
    try:
        in_use = len(os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, in_use + 32), hard))
        while True:
            try:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        yield
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
async def test_out_of_descriptors_refuses_logs_once_and_recovers(
    hass: HomeAssistant, caplog: Any
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    # Client sockets made while descriptors are still free: connecting needs none.
    clients = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(3)]
    try:
        with descriptors_exhausted():
            for client in clients:
                client.setblocking(False)
                client.connect_ex((HOST, port))
            await wait_for(lambda: server.stats.connections_refused >= 1, what="a refusal")
        assert caplog.text.count("out of file descriptors") == 1
        assert "out of system resource" not in caplog.text  # asyncio's path never ran
        assert hass.loop.is_running()

        # Descriptors are back: the listener resumes by itself and serves trackers again.
        tracker = await FakeTracker(port).connect()
        await tracker.send(h02_position_frame(TID))
        assert (await tracker.read_frame(timeout=server_module.ACCEPT_RETRY_S + 5)).startswith(
            f"*HQ,{TID},V4,V1,".encode()
        )
        assert "Accepting tracker connections again" in caplog.text
        await tracker.close()
    finally:
        for client in clients:
            client.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_near_the_open_file_limit_connections_are_refused(
    hass: HomeAssistant, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trackers never take the last descriptors the rest of Home Assistant needs."""
    port = free_port()
    entry = await setup_listener(hass, port, udp=False)
    server = entry.runtime_data.server
    monkeypatch.setattr(server_module.TrackerServer, "_fd_ceiling", staticmethod(lambda: 0))
    tracker = await FakeTracker(port).connect()
    assert await tracker.closed_by_server()
    await tracker.close()
    assert server.stats.connections_refused == 1
    assert server.stats.connections_open == 0
    assert caplog.text.count("open-file limit is near") == 1
    monkeypatch.undo()
    served = await FakeTracker(port).connect()
    await wait_for(lambda: server.stats.connections_open == 1, what="the connection")
    await served.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def _serves_a_tracker(port: int, source: str | None = None) -> None:
    """A tracker connects (from ``source``), reports and is acknowledged: the listener serves."""
    tracker = await FakeTracker(port, source=source).connect()
    await tracker.send(h02_position_frame(TID))
    assert (await tracker.read_frame()).startswith(f"*HQ,{TID},V4,V1,".encode())
    await tracker.close()


class _Listening:
    """A listening socket whose ``accept`` gives scripted outcomes (errors the kernel gives
    rarely, or under a race), then what ``real`` (a listening socket) has waiting, if any."""

    def __init__(self, *outcomes: Any, real: socket.socket | None = None) -> None:
        self.outcomes = list(outcomes)
        self.real = real

    def accept(self) -> Any:
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if callable(outcome):
                outcome = outcome()
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        if self.real is None:
            raise BlockingIOError
        return self.real.accept()


async def test_an_accept_error_pauses_accepting_until_the_listener_stops(
    hass: HomeAssistant, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An accept error other than running out of descriptors is logged and pauses accepting
    (the socket stays readable: no spinning); a connection aborted before it was accepted is
    skipped silently; stopping cancels the pending retry and leaves nothing bound."""
    monkeypatch.setattr(server_module, "ACCEPT_RETRY_S", 60.0)
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    protocol_error = OSError(errno.EPROTO, os.strerror(errno.EPROTO))
    server._accept(_Listening(protocol_error))
    assert caplog.text.count(f"Accepting a tracker failed: {protocol_error}") == 1
    retry = server._accept_retry
    assert retry is not None  # paused: retried in ACCEPT_RETRY_S
    # A tracker connects meanwhile; the next accept meets a connection that was aborted in
    # the backlog first: skipped, and the tracker behind it is served.
    tracker = await FakeTracker(port).connect()
    (ipv4,) = (sock for sock in server._accepting if sock.family == socket.AF_INET)
    server._accept(_Listening(ConnectionAbortedError(), real=ipv4))
    await tracker.send(h02_position_frame(TID))
    assert (await tracker.read_frame()).startswith(f"*HQ,{TID},V4,V1,".encode())
    assert (server.stats.connections_accepted, server.stats.connections_refused) == (1, 0)
    assert caplog.text.count("Accepting a tracker failed") == 1
    await tracker.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert retry.cancelled()
    assert server.bound_port is None
    server._resume_accepting()  # a retry that fires after the stop opens nothing
    assert server._reserve_fd is None


async def test_a_connection_asyncio_cannot_take_is_logged_at_debug(
    hass: HomeAssistant, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger=server_module.__name__)
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    wrong = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # not a stream: refused by asyncio
    try:
        server._accept(_Listening((wrong, ("127.0.0.9", 5013))))
        await wait_for(
            lambda: "A tracker connection failed: A Stream Socket was expected" in caplog.text,
            what="the failed connection's log line",
        )
    finally:
        wrong.close()
    assert not server._tasks
    assert server.stats.connections_open == 0
    await _serves_a_tracker(port)  # the listener goes on
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_backlog_longer_than_one_accept_round_is_served(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One readable event accepts at most BACKLOG connections; the rest are taken next round."""
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    monkeypatch.setattr(server_module, "BACKLOG", 2)
    # Blocking connects, one after the other with no await: all three wait in the backlog.
    socks = [socket.create_connection((HOST, port), timeout=5) for _ in range(3)]
    streams = [await asyncio.open_connection(sock=sock) for sock in socks]
    for reader, writer in streams:
        writer.write(f"*HQ,{TID},V0#".encode())
        assert await asyncio.wait_for(reader.readuntil(b"#"), 5) == f"*HQ,{TID},V0#".encode()
    assert server.stats.connections_accepted == 3
    for _reader, writer in streams:
        writer.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
async def test_out_of_descriptors_when_the_reserve_is_taken_meanwhile(
    hass: HomeAssistant, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of descriptors, the reserve is released to shed a waiting connection; if another
    thread takes that descriptor first, the listener keeps retrying without a reserve, and
    recovers once one is free (a refusal while it is short is not logged again)."""
    monkeypatch.setattr(server_module, "ACCEPT_RETRY_S", 0.05)
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    taken: list[int] = []

    def another_thread_opens_a_file() -> OSError:
        taken.append(os.open(os.devnull, os.O_RDONLY))  # the descriptor the reserve freed
        return OSError(errno.EMFILE, "Too many open files")

    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # made while descriptors are free
    try:
        with descriptors_exhausted():
            emfile = OSError(errno.EMFILE, "Too many open files")
            server._accept(_Listening(emfile, another_thread_opens_a_file))
            assert server.stats.connections_refused == 1
            assert len(taken) == 1
            assert server._reserve_fd is None
            await asyncio.sleep(0.3)  # a few retries: no reserve to be had, still paused
            assert server._reserve_fd is None
            assert server._accept_retry is not None
            client.setblocking(False)
            client.connect_ex((HOST, port))  # waits in the backlog
            os.close(taken.pop())  # the other thread is done: the next retry gets a reserve
            await wait_for(lambda: server.stats.connections_refused == 2, what="a refusal")
            assert server._reserve_fd is not None
        assert caplog.text.count("out of file descriptors") == 1
        await _serves_a_tracker(port)
        assert "Accepting tracker connections again" in caplog.text
    finally:
        client.close()
        for fd in taken:
            os.close(fd)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_no_open_file_limit_refuses_nothing(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    unlimited = SimpleNamespace(
        RLIMIT_NOFILE=resource.RLIMIT_NOFILE,
        RLIM_INFINITY=resource.RLIM_INFINITY,
        getrlimit=lambda _which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY),
    )
    monkeypatch.setattr(server_module, "resource", unlimited)
    assert server_module.TrackerServer._fd_ceiling() == 1 << 30
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    await _serves_a_tracker(port)
    assert (server.stats.connections_accepted, server.stats.connections_refused) == (1, 0)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_invalid_allowed_sources_option_allows_every_source(
    hass: HomeAssistant, caplog: Any
) -> None:
    """A stored list the options flow would have refused (edited by hand): warned, ignored."""
    port = free_port()
    entry = await setup_listener(
        hass, port, options={"allowed_sources": ["not-a-network"]}, trackers=[(TID, "Bike")]
    )
    server = entry.runtime_data.server
    assert f"Ignoring an invalid allowed_sources option on port {port}" in caplog.text
    assert server.allowed_sources == ()
    await _serves_a_tracker(port, source="127.0.0.2")
    assert server.stats.sources_refused == 0
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_failing_close_is_counted_and_a_closed_peer_sends_nothing(
    hass: HomeAssistant, caplog: Any
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    stats = entry.runtime_data.server.stats
    hub = entry.runtime_data.hub
    closed: list[Peer] = []

    def failing(peer: Peer) -> None:
        closed.append(peer)
        raise RuntimeError("boom")

    client = await FakeTracker(port).connect()
    await client.send(f"*HQ,{TID},V0#")
    assert await client.read_frame() == f"*HQ,{TID},V0#".encode()
    with patch.object(hub, "peer_closed", failing):
        await client.close()
        await wait_for(lambda: stats.sink_errors == 1, what="the failed close")
    assert "Error closing the connection of 127.0.0.1:" in caplog.text
    assert stats.connections_open == 0
    (peer,) = closed
    assert not peer.is_open
    transport = peer.transport
    # A command for a tracker whose link is gone is dropped; closing it again does nothing.
    with (
        patch.object(transport, "write") as write,
        patch.object(transport, "close") as close,
        patch.object(transport, "abort") as abort,
    ):
        peer.send(f"*HQ,{TID},S20,1#".encode())
        peer.close()
        peer.abort()
    write.assert_not_called()
    close.assert_not_called()
    abort.assert_not_called()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_command_before_the_protocol_is_known_is_refused(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    server = entry.runtime_data.server
    scanner = await FakeTracker(port).connect()
    await scanner.send(b"\x00\x01 no protocol yet")
    await wait_for(lambda: server.stats.unknown_protocol_bytes == 18, what="the junk")
    (peer,) = list(server.connections)
    assert peer.protocol is None
    with pytest.raises(ProtocolError, match="protocol is not known yet"):
        peer.send_command(TID, Command(CommandKind.REQUEST_POSITION), datetime.now(UTC))
    assert await scanner.read_nothing() == b""
    await scanner.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_udp_peer_errors_forgetting_and_sending_after_the_stop(
    hass: HomeAssistant, caplog: Any
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, tcp=False, trackers=[(TID, "Bike")])
    server = entry.runtime_data.server
    assert server.bound_port == port  # UDP only: the port is the datagram socket's
    endpoint = server._udp_endpoint
    caplog.set_level(logging.DEBUG, logger=server_module.__name__)
    udp = await UdpClient.open(port)
    try:
        udp.send(f"*HQ,{TID},V0#")
        assert await udp.reply() == f"*HQ,{TID},V0#".encode()
        (peer,) = endpoint.peers.values()
        # A send the socket refuses (larger than a datagram can be) is logged at debug.
        peer.send(b"*" * 70000)
        assert f"UDP error on the tracker port: [Errno {errno.EMSGSIZE}]" in caplog.text
        # Forgotten: its codec state goes; the next datagram from it starts afresh.
        peer.close()
        assert not peer.is_open
        assert not endpoint.peers
        udp.send(f"*HQ,{TID},V0#")
        assert await udp.reply() == f"*HQ,{TID},V0#".encode()
        (again,) = endpoint.peers.values()
        assert again is not peer
        assert again.is_open
        assert await hass.config_entries.async_unload(entry.entry_id)
        again.send(f"*HQ,{TID},V0#".encode())  # the socket is closed: dropped
        with pytest.raises(TimeoutError):
            await udp.reply(timeout=0.3)
    finally:
        udp.close()


def test_peer_names_for_logs() -> None:
    assert _format_peer(("127.0.0.1", 5013)) == "127.0.0.1:5013"
    assert _format_peer(("::1", 5013, 0, 0)) == "[::1]:5013"
    assert _format_peer(None) == "None"  # no address (a socket that is no longer connected)
    assert _format_peer("/run/trackers.sock") == "/run/trackers.sock"
