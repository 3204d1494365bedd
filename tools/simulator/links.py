"""How a simulated tracker reaches the server: a TCP stream or a UDP socket, and the rate limit.

A link sends what the session loop gives it and hands what arrives to the tracker, whose answers
go straight back. ``connect`` opens one; ``SessionEnded`` is how every kind of end (closed by
the server, chaos, a reboot command) reaches the session loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Final

from .tracker import MAX_BUFFER, SimTracker

CONNECT_TIMEOUT_S: Final = 5.0


class RateLimiter:
    """Spaces sends ``1/rate`` apart across every tracker (and always yields)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        slot = max(now, self.next)
        self.next = slot + self.interval
        await asyncio.sleep(slot - now if slot > now else 0)


class SessionEnded(Exception):
    """The connection is gone (closed by the server, chaos, a reboot command)."""


class Link:
    """A connection of one tracker: TCP stream or UDP socket."""

    def __init__(self, tracker: SimTracker) -> None:
        self.tracker = tracker
        self.closed = asyncio.Event()
        self.lock = asyncio.Lock()

    async def send(self, data: bytes, kind: str = "session") -> None:
        raise NotImplementedError

    def sent(self, data: bytes, kind: str) -> None:
        stats = self.tracker.stats
        stats.frames_sent += 1
        stats.bytes_sent += len(data)
        observer = self.tracker.config.on_send
        if observer is not None:
            observer(self.tracker.device_id, kind, data)

    async def close(self) -> None:
        raise NotImplementedError

    def lost(self) -> None:
        self.closed.set()
        self.tracker.connected = False
        self.tracker.wake.set()


class TcpLink(Link):
    def __init__(
        self, tracker: SimTracker, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super().__init__(tracker)
        self.reader = reader
        self.writer = writer
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        tracker = self.tracker
        try:
            while True:
                data = await self.reader.read(4096)
                if not data:
                    break
                for answer in tracker.receive(data):
                    await self.send(answer, "answer")
        except (ConnectionError, OSError, SessionEnded):
            pass
        finally:
            self.lost()

    async def send(self, data: bytes, kind: str = "session") -> None:
        if self.closed.is_set():
            raise SessionEnded
        async with self.lock:
            try:
                self.writer.write(data)
                await self.writer.drain()
            except (ConnectionError, OSError) as err:
                self.lost()
                raise SessionEnded from err
        self.sent(data, kind)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.lost()


class UdpLink(Link, asyncio.DatagramProtocol):
    def __init__(self, tracker: SimTracker) -> None:
        super().__init__(tracker)
        self.transport: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: Any) -> None:
        transport = self.transport
        for answer in self.tracker.receive(data, datagram=True):
            if transport is not None and not transport.is_closing():
                transport.sendto(answer)
                self.sent(answer, "answer")

    def error_received(self, exc: Exception) -> None:
        self.tracker.stats.error(f"{self.tracker.device_id}: UDP {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost()

    async def send(self, data: bytes, kind: str = "session") -> None:
        if self.closed.is_set() or self.transport is None:
            raise SessionEnded
        self.transport.sendto(data)
        self.sent(data, kind)

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.lost()


async def connect(tracker: SimTracker, host: str, port: int, transport: str) -> Link:
    """A new link of ``tracker`` to ``host:port``; ``OSError``/``TimeoutError`` if none."""
    loop = asyncio.get_running_loop()
    if transport == "udp":
        udp = UdpLink(tracker)
        endpoint, _ = await loop.create_datagram_endpoint(lambda: udp, remote_addr=(host, port))
        udp.transport = endpoint
        return udp
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, limit=MAX_BUFFER), CONNECT_TIMEOUT_S
    )
    return TcpLink(tracker, reader, writer)
