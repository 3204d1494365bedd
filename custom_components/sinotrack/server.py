"""The tracker port: an asyncio TCP server and UDP endpoint, one peer object per tracker link.

A peer is a TCP connection (``TcpPeer``) or a UDP source address (``UdpPeer``). It owns its
transport and its codec (picked from the first bytes) and is the one way in and the one way out
for bytes: what arrives goes through its codec and each message to the receiver (the hub), which
answers, and sends queued commands, through ``Peer.send`` / ``Peer.send_command``. The server
knows messages and peers, not trackers or entities; it bounds what a peer may cost (connections,
buffers, idle time) and counts what it refuses.

TCP peers are ``asyncio.Protocol`` callbacks, not tasks: nothing is left running per connection,
and a connection costs a few hundred bytes plus its codec buffer.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from .const import (
    CONF_ALLOWED_SOURCES,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_PER_SOURCE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PER_SOURCE,
)
from .protocol import (
    DEFAULT_MAX_BUFFER,
    Codec,
    CodecStats,
    Command,
    CommandAck,
    Decoded,
    DecodeError,
    EncodedCommand,
    ProtocolError,
    detect,
    start_pattern,
)
from .sources import Connections, Network, allowed, parse_networks

_LOGGER = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 30 * 60  # since the last valid frame (bytes that make none keep nothing open)
FIRST_FRAME_TIMEOUT_S = 60.0  # a connection that sent no valid frame by then is closed
IDLE_SWEEPS = 30  # idle connections are looked for this many times per timeout
SETTLE_S = 2.0  # quiet time after which bytes a codec holds are checked for a whole frame
MAX_UDP_PEERS = 4096  # codec state kept per UDP source address, least recently seen dropped first
RECENT_FRAMES = 20
READ_CHUNK = 8192  # bytes read per callback: about a hundred reports, well under a millisecond
LOG_INTERVAL_S = 60.0
BACKLOG = 1024
ACCEPT_RETRY_S = 1.0  # pause accepting this long when the process is out of file descriptors
FD_HEADROOM = 64  # file descriptors always left to the rest of Home Assistant
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class Receiver(Protocol):
    """Where decoded messages go (the hub): it answers through the peer."""

    def handle(self, decoded: Decoded, peer: Peer) -> None:
        """Take one message; send its reply (and queued commands) through ``peer``."""

    def peer_closed(self, peer: Peer) -> None:
        """A TCP connection has ended."""


@dataclass(slots=True)
class ServerStats:
    """Counters for diagnostics: what came in and what was dropped, and why."""

    codec: CodecStats = field(default_factory=CodecStats)
    connections_accepted: int = 0
    connections_refused: int = 0
    connections_open: int = 0
    idle_timeouts: int = 0
    first_frame_timeouts: int = 0  # closed: no valid frame within FIRST_FRAME_TIMEOUT_S
    unidentified_dropped: int = 0  # never identified, dropped at a cap for a newcomer
    per_source_refused: int = 0  # refused: max_per_source connections open from its address
    sources_refused: int = 0  # connections and datagrams from outside allowed_sources
    bytes_received: int = 0
    datagrams: int = 0
    unknown_protocol_bytes: int = 0
    sink_errors: int = 0  # messages the receiver failed on (the name is a diagnostics key)
    recent_frames: deque[bytes] = field(default_factory=lambda: deque(maxlen=RECENT_FRAMES))


class RateLimitedLog:
    """Logs a kind of event at most once per interval, counting what it held back."""

    def __init__(self, interval: float = LOG_INTERVAL_S) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, level: int, key: str, msg: str, *args: object) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            msg += " (%d similar messages suppressed)"
            args = (*args, held)
        _LOGGER.log(level, msg, *args)


class Peer:
    """A tracker's end of the port: the one way out for bytes (replies and commands).

    ``stream`` tells a TCP connection (a command can be pushed at any time) from a UDP source
    (it can only be answered right after it sent something).
    """

    stream: ClassVar[bool]
    name: str  # the address, for logs
    host: str  # the source address without the port (per-source rules, repairs)
    codec: Codec | None  # None until the first bytes named the protocol
    # Set by the receiver once the peer speaks for a known tracker: never dropped at a cap.
    identified: bool = False

    def send(self, data: bytes) -> None:
        """Send bytes to the tracker (dropped when the link is gone)."""
        raise NotImplementedError

    def send_command(self, device_id: str, command: Command, now: datetime) -> EncodedCommand:
        """Encode a command for this tracker's protocol and send it; returns what was sent.

        Raises ``ProtocolError`` when the protocol has no such command.
        """
        if self.codec is None:
            raise ProtocolError("the tracker's protocol is not known yet")
        encoded = self.codec.encode(device_id, command, now)
        self.send(encoded.data)
        return encoded

    @property
    def protocol(self) -> str | None:
        """The protocol the tracker speaks (``"h02"``, ``"jt808"``), once its bytes said."""
        return None if self.codec is None else self.codec.protocol

    def answers(self, sent: EncodedCommand, ack: CommandAck) -> bool:
        """Whether ``ack``, received from this peer, answers the command ``sent``."""
        return self.codec is not None and self.codec.matches(sent, ack)

    def close(self) -> None:
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        raise NotImplementedError


def _host_of(addr: object) -> str:
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


def _format_peer(addr: object) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = str(addr[0])
        return f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}"
    return str(addr)


class TrackerServer:
    """Binds the port of one listener entry and runs every peer on it."""

    def __init__(
        self,
        receiver: Receiver,
        *,
        port: int,
        tcp: bool = True,
        udp: bool = True,
        host: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_per_source: int = DEFAULT_MAX_PER_SOURCE,
        allowed_sources: tuple[Network, ...] = (),
        idle_timeout: float = IDLE_TIMEOUT_S,
        first_frame_timeout: float = FIRST_FRAME_TIMEOUT_S,
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        self.receiver = receiver
        self.port = port
        self.tcp = tcp
        self.udp = udp
        self.host = host
        self.max_connections = max_connections
        self.max_per_source = max_per_source
        self.allowed_sources = allowed_sources
        self.idle_timeout = idle_timeout
        self.first_frame_timeout = first_frame_timeout
        self.max_buffer = max_buffer
        self.stats = ServerStats()
        self.log = RateLimitedLog()
        self.connections: Connections[TcpPeer] = Connections()
        self._start = start_pattern()
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_endpoint: UdpEndpoint | None = None
        self._refusing = False  # logged once per burst of refusals
        self._out_of_fds = False  # logged once per shortage of file descriptors
        self._accepting: list[socket.socket] = []  # our duplicates of the listening sockets
        self._accept_retry: asyncio.TimerHandle | None = None
        self._reserve_fd: int | None = None  # held so that a connection can be refused at EMFILE
        self._tasks: set[asyncio.Task[object]] = set()
        self._idle_sweep: asyncio.TimerHandle | None = None
        self.read_buffer = memoryview(bytearray(READ_CHUNK))  # shared: reads never overlap
        # Every peer's raw bytes as received, before its codec (the relay, while it is on).
        self.tap: Callable[[Peer, bytes], None] | None = None

    async def start(self) -> None:
        """Bind TCP and/or UDP; raises OSError (EADDRINUSE …) with nothing left bound."""
        loop = asyncio.get_running_loop()
        try:
            if self.tcp:
                # asyncio binds; we accept. Its accept loop reports running out of file
                # descriptors to the loop's exception handler, which Home Assistant treats as
                # fatal (it stops the event loop): ours refuses, logs once and recovers.
                self._server = await loop.create_server(
                    lambda: TcpPeer(self),
                    host=self.host,
                    port=self.port,
                    reuse_address=True,
                    backlog=BACKLOG,
                    start_serving=False,
                )
                self._reserve_fd = os.open(os.devnull, os.O_RDONLY)
                for listening in self._server.sockets:
                    sock = socket.socket(fileno=os.dup(listening.fileno()))
                    sock.setblocking(False)
                    sock.listen(BACKLOG)  # start_serving=False: asyncio has not listened yet
                    self._accepting.append(sock)
                    loop.add_reader(sock.fileno(), self._accept, sock)
            if self.udp:
                transport, endpoint = await loop.create_datagram_endpoint(
                    lambda: UdpEndpoint(self),
                    local_addr=(self.host or "0.0.0.0", self.port),
                    family=socket.AF_INET,
                )
                self._udp = transport
                self._udp_endpoint = endpoint
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Release both sockets and close every connected client."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        self._stop_accepting()
        if self._accept_retry is not None:
            self._accept_retry.cancel()
            self._accept_retry = None
        for sock in self._accepting:
            sock.close()
        self._accepting.clear()
        if self._reserve_fd is not None:
            os.close(self._reserve_fd)
            self._reserve_fd = None
        self.unwatch_idle()
        server, self._server = self._server, None
        if server is not None:
            server.close()
            server.close_clients()
            for task in list(self._tasks):
                task.cancel()
            for peer in list(self.connections):
                peer.close()
            await server.wait_closed()
            # Our connections are not attached to the server (we accept them): wait for them too.
            for _ in range(100):
                if not self.connections:
                    break
                await asyncio.sleep(0.01)

    # --- accepting TCP connections -----------------------------------------------------------

    def _stop_accepting(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self._accepting:
            loop.remove_reader(sock.fileno())

    def _resume_accepting(self) -> None:
        self._accept_retry = None
        if self._server is None:
            return
        if self._reserve_fd is None:
            try:
                self._reserve_fd = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                self._pause_accepting()
                return
        loop = asyncio.get_running_loop()
        for sock in self._accepting:
            loop.add_reader(sock.fileno(), self._accept, sock)

    def _pause_accepting(self) -> None:
        self._stop_accepting()
        loop = asyncio.get_running_loop()
        self._accept_retry = loop.call_later(ACCEPT_RETRY_S, self._resume_accepting)

    def _accept(self, sock: socket.socket) -> None:
        """Accept what is waiting (called when a listening socket is readable)."""
        loop = asyncio.get_running_loop()
        for _ in range(BACKLOG):
            try:
                conn, _addr = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as err:
                if err.errno not in OUT_OF_DESCRIPTORS:
                    self.log(logging.WARNING, "accept", "Accepting a tracker failed: %s", err)
                    # The socket stays readable while the error lasts: pause instead of spinning.
                    self._pause_accepting()
                    return
                self._refuse_without_descriptors(sock, err)
                return
            if self._out_of_fds:
                self._out_of_fds = False
                _LOGGER.info("Accepting tracker connections again on port %s", self.port)
            if conn.fileno() >= self._fd_ceiling():
                # Linux hands out the lowest free descriptor: this many are in use already.
                conn.close()
                self._note_refused("file descriptors: the process's open-file limit is near")
                continue
            conn.setblocking(False)
            task: asyncio.Task[object] = loop.create_task(
                loop.connect_accepted_socket(lambda: TcpPeer(self), conn)
            )
            self._tasks.add(task)
            task.add_done_callback(self._accepted)

    def _accepted(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.log(logging.DEBUG, "accept", "A tracker connection failed: %s", exc)

    @staticmethod
    def _fd_ceiling() -> int:
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft == resource.RLIM_INFINITY:
            return 1 << 30
        return int(soft) - FD_HEADROOM

    def _refuse_without_descriptors(self, sock: socket.socket, err: OSError) -> None:
        """Out of descriptors: shed one waiting connection with the reserve, pause, retry."""
        self.stats.connections_refused += 1
        if not self._out_of_fds:
            self._out_of_fds = True
            _LOGGER.warning(
                "Refusing tracker connections on port %s: out of file descriptors (%s); "
                "retrying every %.0f s",
                self.port,
                err.strerror,
                ACCEPT_RETRY_S,
            )
        if self._reserve_fd is not None:
            os.close(self._reserve_fd)
            self._reserve_fd = None
            try:
                conn, _addr = sock.accept()
                conn.close()  # refused: the tracker sees the connection close and retries later
            except OSError:
                pass
            try:
                self._reserve_fd = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                self._reserve_fd = None
        self._pause_accepting()

    def _note_refused(self, why: str) -> None:
        """Count a refused connection; warn once until connections are accepted again."""
        self.stats.connections_refused += 1
        if not self._refusing:
            self._refusing = True
            _LOGGER.warning("Refusing tracker connections on port %s: %s", self.port, why)

    # --- idle connections ------------------------------------------------------------------

    def watch_idle(self) -> None:
        """Look for idle connections while any is open: one timer for the whole port, not one
        per connection (a handle each in the loop's heap). A connection silent for
        ``idle_timeout`` is closed within a thirtieth of it more (1 minute of 30)."""
        if self._idle_sweep is None and self.connections:
            shortest = min(self.idle_timeout, self.first_frame_timeout)
            period = max(shortest / IDLE_SWEEPS, 0.01)
            self._idle_sweep = asyncio.get_running_loop().call_later(period, self._sweep_idle)

    def unwatch_idle(self) -> None:
        """No connection left: no sweep (the next one starts it, with the timeout then)."""
        if self._idle_sweep is not None:
            self._idle_sweep.cancel()
            self._idle_sweep = None

    def _sweep_idle(self) -> None:
        self._idle_sweep = None
        now = time.monotonic()
        first_deadline = now - min(self.idle_timeout, self.first_frame_timeout)
        idle_deadline = now - self.idle_timeout
        for peer in list(self.connections):
            if not peer.framed and peer.last_frame <= first_deadline:
                self.stats.first_frame_timeouts += 1
                _LOGGER.debug("Closing %s: no valid frame since it connected", peer.name)
                peer.abort()
            elif peer.framed and peer.last_frame <= idle_deadline:
                self.stats.idle_timeouts += 1
                _LOGGER.debug("Closing idle tracker connection from %s", peer.name)
                peer.close()
        self.watch_idle()

    def apply_options(self, options: Mapping[str, Any]) -> None:
        """The listener's options on connections (applied live; an invalid list allows all)."""
        self.max_connections = int(options.get(CONF_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS))
        self.max_per_source = int(options.get(CONF_MAX_PER_SOURCE, DEFAULT_MAX_PER_SOURCE))
        try:
            self.allowed_sources = parse_networks(options.get(CONF_ALLOWED_SOURCES) or ())
        except (TypeError, ValueError):
            _LOGGER.warning("Ignoring an invalid allowed_sources option on port %s", self.port)
            self.allowed_sources = ()

    def can_accept(self, peer: TcpPeer) -> bool:
        """Whether ``peer`` may stay: its address allowed and under its bound, a place free
        under the cap (made by dropping the oldest connection that never identified itself)."""
        stats = self.stats
        if not allowed(peer.host, self.allowed_sources):
            stats.sources_refused += 1
            self.log(logging.DEBUG, "source", "Refused %s: not in allowed_sources", peer.name)
            return False
        connections = self.connections
        if connections.count(peer.host) >= self.max_per_source:
            victim = connections.oldest_unidentified(peer.host)
            if victim is None:
                stats.per_source_refused += 1
                self._note_refused(
                    f"{self.max_per_source} connections are open from {peer.host} (max_per_source)"
                )
                return False
            self._drop(victim)
        if len(connections) >= self.max_connections:
            victim = connections.oldest_unidentified()
            if victim is None:
                self._note_refused(f"{self.max_connections} connections are open (the limit)")
                return False
            self._drop(victim)
        if self._refusing:
            self._refusing = False
            _LOGGER.info("Accepting tracker connections again on port %s", self.port)
        return True

    def _drop(self, victim: TcpPeer) -> None:
        """Drop a connection that never identified itself, to make room for a newcomer."""
        self.stats.unidentified_dropped += 1
        _LOGGER.debug("Dropping unidentified connection %s for a newcomer", victim.name)
        self.connections.discard(victim)
        self.stats.connections_open = len(self.connections)
        victim.abort()

    @property
    def bound_port(self) -> int | None:
        """The TCP port actually bound (useful with port 0)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        if self._udp is not None:
            return int(self._udp.get_extra_info("sockname")[1])
        return None

    # --- bytes in ----------------------------------------------------------------------------

    def new_codec(self, data: bytes) -> tuple[Codec | None, int]:
        """Pick the codec for data that starts a stream; returns it and the junk bytes before it."""
        cls = detect(data)
        skipped = 0
        if cls is None:
            match = self._start.search(data)
            if match is None:
                return None, len(data)
            skipped = match.start()
            cls = detect(data[skipped : skipped + 1])
            if cls is None:  # pragma: no cover - the pattern only matches lead bytes
                return None, len(data)
        codec = cls(max_buffer=self.max_buffer)
        codec.stats = self.stats.codec  # one set of counters for the whole listener
        return codec, skipped

    def dispatch(self, items: list[Decoded | DecodeError], peer: Peer) -> None:
        """Hand each message to the receiver, which answers through ``peer``.

        A bad frame is counted and logged (rate-limited), never answered; a message the receiver
        fails on gets no reply either (the tracker resends it), and never costs the others.
        """
        stats = self.stats
        for item in items:
            stats.recent_frames.append(item.raw[:256])
            if isinstance(item, DecodeError):
                if _LOGGER.isEnabledFor(logging.DEBUG):  # the frame: for the decode CLI
                    self.log(
                        logging.DEBUG,
                        "decode",
                        "Bad frame from %s: %s; frame (hex): %s",
                        peer.name,
                        item.reason,
                        item.raw[:512].hex(),
                    )
                continue
            try:
                self.receiver.handle(item, peer)
            except Exception:
                stats.sink_errors += 1
                _LOGGER.exception("Error handling a message from %s", peer.name)


class TcpPeer(asyncio.BufferedProtocol, Peer):
    """One TCP connection: its codec, idle timeout, and the replies of each read in one write.

    A buffered protocol reading into one buffer shared by the server: each read is at most
    ``READ_CHUNK`` bytes, which bounds the work one callback does on the event loop (a flood
    is taken in slices, other callbacks run in between), and costs no memory per connection.
    """

    stream = True

    def __init__(self, server: TrackerServer) -> None:
        self.server = server
        self.codec: Codec | None = None
        self.name = self.host = "?"
        self.transport: asyncio.Transport | None = None
        self.last_activity = 0.0
        self.last_frame = 0.0  # the last valid frame (or the connection's start): the idle timeout
        self.framed = False  # a valid frame arrived (else closed after the first-frame timeout)
        self._settle_timer: asyncio.TimerHandle | None = None
        self._closed = False
        # While a read is handled, what is sent collects here and goes out in one write (one
        # system call for the replies to every message of the read, in order); None otherwise.
        self._out: bytes | bytearray | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peername = transport.get_extra_info("peername")
        self.name, self.host = _format_peer(peername), _host_of(peername)
        server = self.server
        if not server.can_accept(self):
            self._closed = True
            transport.abort()
            return
        server.connections.add(self)
        server.stats.connections_accepted += 1
        server.stats.connections_open = len(server.connections)
        self.last_activity = self.last_frame = time.monotonic()
        server.watch_idle()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.server.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        server = self.server
        data = bytes(server.read_buffer[:nbytes])  # the codec may keep it: a copy
        self.last_activity = time.monotonic()
        server.stats.bytes_received += nbytes
        if (tap := server.tap) is not None:
            tap(self, data)
        codec = self.codec
        if codec is None:
            codec, skipped = server.new_codec(data)
            if skipped:
                server.stats.unknown_protocol_bytes += skipped
                server.stats.codec.bytes_skipped += skipped
            if codec is None:
                return  # junk only so far: nothing kept
            self.codec = codec
            data = data[skipped:]
        self._take(codec.feed(data))
        if codec.buffered and self._settle_timer is None:
            self._arm_settle(SETTLE_S)

    def _take(self, items: list[Decoded | DecodeError]) -> None:
        """Dispatch the messages of one read; what they make us send goes out in one write."""
        self._out = b""
        if any(not isinstance(item, DecodeError) for item in items):
            self.framed = True  # a valid frame: keeps the connection open (idle timeout)
            self.last_frame = self.last_activity
        try:
            self.server.dispatch(items, self)
        finally:
            out: bytes | bytearray | None = self._out
            self._out = None
            if out and self.transport is not None and not self._closed:
                self.transport.write(bytes(out) if isinstance(out, bytearray) else out)

    def _arm_settle(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        self._settle_timer = loop.call_later(delay, self._settle_held)

    def _settle_held(self) -> None:
        """The codec still holds bytes: once the tracker has been quiet, take what is whole.

        A report that is complete but could be the start of a longer frame would otherwise wait
        for the tracker's next report, a whole reporting interval (``Codec.settle``).
        """
        self._settle_timer = None
        codec = self.codec
        if self._closed or codec is None or not codec.buffered:
            return
        quiet = time.monotonic() - self.last_activity
        if quiet < SETTLE_S:
            self._arm_settle(SETTLE_S - quiet)
            return
        self._take(codec.settle())

    def eof_received(self) -> bool | None:
        return False  # close our side too: trackers never half-close on purpose

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settle_timer = None
        server = self.server
        if self.codec is not None and self.codec.buffered:
            # The stream ended: what the codec still held is decoded now, not dropped (a binary
            # frame shorter than the last one waits in case it is the start of a longer one).
            self._take(self.codec.flush())
        if self in server.connections:
            server.connections.discard(self)
            server.stats.connections_open = len(server.connections)
            if not server.connections:
                server.unwatch_idle()
            try:
                server.receiver.peer_closed(self)
            except Exception:
                server.stats.sink_errors += 1
                _LOGGER.exception("Error closing the connection of %s", self.name)

    def send(self, data: bytes) -> None:
        out = self._out
        if out is None:  # not inside a read (a command sent at once): write now
            if self.transport is not None and not self._closed:
                self.transport.write(data)
        elif not out:
            self._out = data  # the usual read: one reply, sent as it is (no copy)
        else:
            if isinstance(out, bytes):
                out = self._out = bytearray(out)
            out += data

    def close(self) -> None:
        if self.transport is not None and not self._closed:
            self._closed = True
            self.transport.close()

    def abort(self) -> None:
        """Close at once, dropping what is unsent (a connection that has said nothing)."""
        if self.transport is not None and not self._closed:
            self._closed = True
            self.transport.abort()

    @property
    def is_open(self) -> bool:
        return not self._closed


class UdpPeer(Peer):
    """A UDP source address: its own codec state; each send is one datagram back to it."""

    stream = False

    def __init__(self, endpoint: UdpEndpoint, addr: tuple[str, int]) -> None:
        self.endpoint = endpoint
        self.addr = addr
        self.name, self.host = _format_peer(addr), _host_of(addr)
        self.codec: Codec | None = None

    def send(self, data: bytes) -> None:
        transport = self.endpoint.transport
        if transport is not None and not transport.is_closing():
            transport.sendto(data, self.addr)

    def close(self) -> None:
        self.endpoint.peers.pop(self.addr, None)

    @property
    def is_open(self) -> bool:
        return self.addr in self.endpoint.peers


class UdpEndpoint(asyncio.DatagramProtocol):
    """The UDP socket: every message of every datagram goes through the source's codec."""

    def __init__(self, server: TrackerServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.peers: OrderedDict[tuple[str, int], UdpPeer] = OrderedDict()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        server = self.server
        server.stats.datagrams += 1
        server.stats.bytes_received += len(data)
        peers = self.peers
        peer = peers.get(addr)
        if peer is None:
            if not allowed(_host_of(addr), server.allowed_sources):
                server.stats.sources_refused += 1
                return
            peer = UdpPeer(self, addr)
        else:
            peers.move_to_end(addr)
        if (tap := server.tap) is not None:
            tap(peer, data)  # the relay drops what comes from no tracker of ours
        codec = peer.codec
        if codec is None:
            codec, skipped = server.new_codec(data)
            if codec is None:
                server.stats.unknown_protocol_bytes += len(data)
                return  # junk from an address we never heard a tracker on: keep nothing
            if skipped:
                server.stats.unknown_protocol_bytes += skipped
                server.stats.codec.bytes_skipped += skipped
                data = data[skipped:]
            peer.codec = codec
            peers[addr] = peer
            if len(peers) > MAX_UDP_PEERS:
                peers.popitem(last=False)
        server.dispatch(codec.feed_datagram(data), peer)

    def error_received(self, exc: Exception) -> None:
        self.server.log(logging.DEBUG, "udp", "UDP error on the tracker port: %s", exc)
