"""The relay: each configured tracker's stream also goes to an upstream server (the SinoTrack
platform, a Traccar), as if the tracker were connected to it directly.

The peer taps the raw bytes it received (``TrackerServer.tap``); until the hub has identified
the tracker they wait here (bounded), then a ``Link`` is made for that peer: one upstream TCP
connection per tracker TCP connection, one connected UDP socket per tracker UDP source. Bytes
go up exactly and in order, whatever the integration understood of them. What comes back is
read by the tracker's codec (``Codec.server_reader``): replies (Home Assistant has answered
already) and anything unreadable are dropped, commands go to the hub (``on_command``), which
applies the interlock and sends them through the peer, the one exit for bytes.

The upstream never slows Home Assistant down: nothing here is awaited on the hot path, bytes
wait in a bounded buffer per link (the oldest dropped and counted), connects have a timeout,
names are resolved by the loop's resolver (a thread, not the event loop) on every connect,
and a failing upstream is retried with exponential backoff and jitter. The relay only ever
connects out: it opens no port. It imports no Home Assistant: the hub gives it a way to run
tasks (``spawn``) and is told when the upstream has been unreachable for long.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any

from .protocol import DecodeError, ServerMessage, ServerReader
from .server import Peer, TrackerServer

_LOGGER = logging.getLogger(__name__)

BUFFER_LIMIT = 64 * 1024  # bytes waiting per link; beyond it the oldest are dropped
WRITE_HIGH_WATER = 16 * 1024  # the transport's own buffer before it pauses us
PRELUDE_LIMIT = 8 * 1024  # bytes kept per connection before its tracker is identified
MAX_UNDECIDED = 512  # connections whose bytes wait for a decision
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 20.0  # with the jitter at most 24 s: an upstream back is reached within 30 s
JITTER = 0.2  # each delay is scaled by a random factor in [1 - JITTER, 1 + JITTER]
CONNECT_TIMEOUT_S = 10.0
STABLE_S = 30.0  # a connection that lasted this long starts the backoff over
UNREACHABLE_AFTER_S = 3600.0  # then the hub raises a repair

type CommandSink = Callable[[str, Peer, ServerMessage], bool]
type Spawn = Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]


@dataclass(slots=True)
class RelayStats:
    """One tracker's relay, across its connections (shown in diagnostics)."""

    state: str = "idle"  # connecting, connected, waiting (backoff), closed
    bytes_up: int = 0
    bytes_down: int = 0
    dropped_bytes: int = 0
    replies_dropped: int = 0
    commands_relayed: int = 0
    commands_refused: int = 0  # relay_commands off, another device's ID, or the interlock
    unreadable: int = 0  # upstream frames the codec refused
    connects: int = 0
    last_error: str | None = None


def _error_text(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, socket.gaierror):
        return f"name not resolved ({err.strerror})"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return type(err).__name__


class Link:
    """One tracker connection (or UDP source) relayed to the upstream."""

    def __init__(self, relay: Relay, tracker_id: str, peer: Peer, stats: RelayStats) -> None:
        self.relay = relay
        self.tracker_id = tracker_id
        self.peer = peer
        self.stats = stats
        self.stream = peer.stream
        self._pending: list[bytes] = []  # waiting to go up: chunks (TCP) or datagrams (UDP)
        self._pending_size = 0
        self._transport: asyncio.BaseTransport | None = None
        self._paused = False
        self._closed = False
        self._lost: asyncio.Future[None] | None = None
        self._reader: ServerReader | None = None
        self._task: asyncio.Task[None] | None = None

    def is_closed(self) -> bool:
        """A method, not an attribute: an ``await`` may have closed the link meanwhile."""
        return self._closed

    def start(self) -> None:
        self._task = self.relay.spawn(self._run())

    # --- up ------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Bytes the tracker sent: up now, or into the bounded buffer."""
        transport = self._transport
        if transport is not None and not self._paused and not self._pending:
            self._write(transport, data)
            return
        self._pending.append(data)
        self._pending_size += len(data)
        excess = self._pending_size - self.relay.timing.buffer_limit
        while excess > 0 and self._pending:
            oldest = self._pending[0]
            if len(oldest) <= excess or not self.stream:  # a datagram goes whole or not at all
                self._pending.pop(0)
                cut = len(oldest)
            else:
                self._pending[0] = oldest[excess:]
                cut = excess
            self._pending_size -= cut
            self.stats.dropped_bytes += cut
            excess -= cut

    def _write(self, transport: asyncio.BaseTransport, data: bytes) -> None:
        if isinstance(transport, asyncio.DatagramTransport):
            transport.sendto(data)
        else:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(data)
        self.stats.bytes_up += len(data)

    def _flush(self) -> None:
        transport = self._transport
        if transport is None or not self._pending:
            return
        pending, self._pending, self._pending_size = self._pending, [], 0
        if self.stream:
            self._write(transport, b"".join(pending))
        else:
            for datagram in pending:
                self._write(transport, datagram)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._flush()

    # --- down ----------------------------------------------------------------------------------

    def received(self, data: bytes) -> None:
        """Bytes from the upstream: read by the tracker's codec; commands to the hub."""
        stats = self.stats
        stats.bytes_down += len(data)
        self.relay.reachable()
        reader = self._reader
        if reader is None:
            codec = self.peer.codec
            if codec is None:  # pragma: no cover - a link is made for an identified tracker
                return
            reader = self._reader = codec.server_reader()
        items = reader.feed(data) if self.stream else reader.feed_datagram(data)
        for item in items:
            if isinstance(item, DecodeError):
                stats.unreadable += 1
            elif item.reply:
                stats.replies_dropped += 1
            elif not self.relay.commands or item.device_id not in (self.tracker_id, ""):
                stats.commands_refused += 1
                _LOGGER.debug("Upstream command %s for %s not relayed", item.name, self.tracker_id)
            elif self.peer.is_open and self.relay.on_command(self.tracker_id, self.peer, item):
                stats.commands_relayed += 1
            else:
                stats.commands_refused += 1

    # --- the connection ------------------------------------------------------------------------

    async def _run(self) -> None:
        relay = self.relay
        loop = asyncio.get_running_loop()
        attempt = 0
        while not self._closed:
            self.stats.state = "connecting"
            connected_at = None
            try:
                # The loop's resolver runs in a thread; asked again on every connect.
                infos = await loop.getaddrinfo(
                    relay.host,
                    relay.port,
                    type=socket.SOCK_STREAM if self.stream else socket.SOCK_DGRAM,
                )
                if not infos:  # an OSError of one argument has no strerror: it would read "OSError"
                    raise socket.gaierror(socket.EAI_NONAME, "no address for the relay server")
                host, port = str(infos[0][4][0]), int(infos[0][4][1])
                self._lost = loop.create_future()
                async with asyncio.timeout(relay.timing.connect_timeout):
                    if self.stream:
                        transport: asyncio.BaseTransport = (
                            await loop.create_connection(
                                lambda: _StreamUpstream(self), host=host, port=port
                            )
                        )[0]
                    else:
                        transport = (
                            await loop.create_datagram_endpoint(
                                lambda: _DatagramUpstream(self), remote_addr=(host, port)
                            )
                        )[0]
            except (OSError, TimeoutError) as err:
                self._failed(err)
            else:
                if self.is_closed():
                    transport.close()
                    return
                connected_at = loop.time()
                self._connected(transport)
                await self._lost
                if self.is_closed():
                    return
            if connected_at is not None and loop.time() - connected_at >= relay.timing.stable_after:
                attempt = 0
            self.stats.state = "waiting"
            await asyncio.sleep(relay.backoff(attempt))
            attempt += 1

    def _connected(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._paused = False
        self.stats.state = "connected"
        self.stats.connects += 1
        if self.stream:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
            self.relay.reachable()
        _LOGGER.debug("Relaying tracker %s to %s", self.tracker_id, self.relay.host)
        self._flush()

    def _failed(self, err: BaseException) -> None:
        self.stats.last_error = _error_text(err)
        _LOGGER.debug("Relay of tracker %s: %s", self.tracker_id, self.stats.last_error)
        self.relay.unreachable()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._transport = None
        if exc is not None:
            self._failed(exc)
        elif not self._closed:
            self.stats.last_error = "closed by the relay server"
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def error_received(self, exc: BaseException) -> None:
        """UDP: the upstream's host said no (ICMP); the socket stays, the error is noted."""
        self._failed(exc)

    def close(self) -> None:
        """Stop relaying this connection; what is written already still goes out."""
        self._closed = True
        self.stats.state = "closed"
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._pending.clear()
        self._pending_size = 0


class _StreamUpstream(asyncio.Protocol):
    def __init__(self, link: Link) -> None:
        self.link = link

    def data_received(self, data: bytes) -> None:
        self.link.received(data)

    def pause_writing(self) -> None:
        self.link.pause_writing()

    def resume_writing(self) -> None:
        self.link.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.connection_lost(exc)


class _DatagramUpstream(asyncio.DatagramProtocol):
    def __init__(self, link: Link) -> None:
        self.link = link

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.link.received(data)

    def error_received(self, exc: Exception) -> None:
        self.link.error_received(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.connection_lost(exc)


@dataclass(frozen=True, slots=True)
class RelayTiming:
    """The relay's bound and clocks (the tests shorten them)."""

    buffer_limit: int = BUFFER_LIMIT
    backoff_base: float = BACKOFF_BASE_S
    backoff_max: float = BACKOFF_MAX_S
    jitter: float = JITTER
    connect_timeout: float = CONNECT_TIMEOUT_S
    stable_after: float = STABLE_S
    unreachable_after: float = UNREACHABLE_AFTER_S


class Relay:
    """The relay of one listener entry: its target, the links, the bytes waiting for a tracker."""

    def __init__(
        self,
        on_command: CommandSink,
        on_unreachable: Callable[[bool], None],
        spawn: Spawn,
        timing: RelayTiming = RelayTiming(),  # frozen: one default for every relay
    ) -> None:
        self.on_command = on_command
        self._on_unreachable = on_unreachable
        self.spawn = spawn
        self.timing = timing
        self.host = ""
        self.port = 0
        self.commands = False
        self.stats: dict[str, RelayStats] = {}  # per tracker ID
        self.links: dict[Peer, Link] = {}
        self._udp: dict[str, Link] = {}  # a tracker's UDP link (one source at a time)
        self._undecided: OrderedDict[Peer, list[bytes]] = OrderedDict()
        self._ignored: OrderedDict[Peer, None] = OrderedDict()
        self._server: TrackerServer | None = None
        self.down_since: float | None = None
        self.is_unreachable = False

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def bind(self, server: TrackerServer) -> None:
        """The listener whose peers are tapped (while a target is set)."""
        self._server = server
        self._sync_tap()

    def _sync_tap(self) -> None:
        if self._server is not None:
            self._server.tap = self.received if self.enabled else None

    def configure(self, host: str, port: int, commands: bool) -> bool:
        """Apply the options; True when the target changed (every link starts over)."""
        self.commands = commands
        host = host.strip()
        if (host, port) == (self.host, self.port):
            return False
        self.close()
        self.host, self.port = host, port
        self._sync_tap()
        return True

    def backoff(self, attempt: int) -> float:
        timing = self.timing
        delay = min(timing.backoff_max, timing.backoff_base * float(1 << min(attempt, 30)))
        return delay * random.uniform(1 - timing.jitter, 1 + timing.jitter)

    # --- the tap and the hub's decisions -------------------------------------------------------

    def received(self, peer: Peer, data: bytes) -> None:
        """The tap: bytes a peer received, before its codec sees them."""
        link = self.links.get(peer)
        if link is not None:
            link.send(data)
            return
        if peer in self._ignored:
            return
        prelude = self._undecided.get(peer)
        if prelude is None:
            prelude = self._undecided[peer] = []
            if len(self._undecided) > MAX_UNDECIDED:
                self._undecided.popitem(last=False)
        prelude.append(data)
        if sum(map(len, prelude)) > PRELUDE_LIMIT:  # never identified: not a tracker of ours
            self.refuse(peer)

    def attach(self, tracker_id: str, peer: Peer) -> None:
        """The hub identified ``peer`` as configured tracker ``tracker_id``: relay it."""
        if not self.enabled or peer in self.links or not peer.is_open:
            return
        self._ignored.pop(peer, None)
        prelude = self._undecided.pop(peer, None)
        stats = self.stats.setdefault(tracker_id, RelayStats())
        link: Link | None = None
        if not peer.stream:
            old = self._udp.get(tracker_id)
            if old is not None:
                self.links.pop(old.peer, None)
                if old.peer.name == peer.name:  # the same source (its peer was recreated)
                    link = old
                    link.peer = peer
                else:  # the tracker moved to another source: one socket per live source
                    old.close()
        if link is None:
            link = Link(self, tracker_id, peer, stats)
            link.start()
            if not peer.stream:
                self._udp[tracker_id] = link
        self.links[peer] = link
        if prelude:
            if peer.stream:
                link.send(b"".join(prelude))
            else:
                for datagram in prelude:
                    link.send(datagram)

    def refuse(self, peer: Peer) -> None:
        """``peer`` is not a configured tracker (an unknown or invalid ID): nothing relayed."""
        self._undecided.pop(peer, None)
        if peer not in self.links:
            self._ignored[peer] = None
            if len(self._ignored) > MAX_UNDECIDED:
                self._ignored.popitem(last=False)

    def peer_closed(self, peer: Peer) -> None:
        self._undecided.pop(peer, None)
        self._ignored.pop(peer, None)
        link = self.links.pop(peer, None)
        if link is not None:
            link.close()
            if self._udp.get(link.tracker_id) is link:
                del self._udp[link.tracker_id]

    def forget(self, tracker_id: str) -> None:
        """The tracker was removed: its links close, its counters go."""
        for peer, link in list(self.links.items()):
            if link.tracker_id == tracker_id:
                self.peer_closed(peer)
        self.stats.pop(tracker_id, None)

    def close(self) -> None:
        for link in self.links.values():
            link.close()
        self.links.clear()
        self._udp.clear()
        self._undecided.clear()
        self._ignored.clear()
        self.reachable()
        self.down_since = None

    # --- reachability --------------------------------------------------------------------------

    def reachable(self) -> None:
        self.down_since = None
        if self.is_unreachable:
            self.is_unreachable = False
            self._on_unreachable(False)

    def unreachable(self) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = now
        elif not self.is_unreachable and now - self.down_since >= self.timing.unreachable_after:
            self.is_unreachable = True
            self._on_unreachable(True)

    def diagnostics(self, tracker_id: str) -> dict[str, Any] | None:
        stats = self.stats.get(tracker_id)
        return None if stats is None else asdict(stats)
