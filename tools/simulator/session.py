"""The life of one simulated tracker on the network: connect, report, answer, reconnect.

A session reports at once, then as often as the tracker's interval says (divided by the
speedup), with a heartbeat in between; a JT/T 808 terminal registers (the first time) and
authenticates first, each waiting its answer. Lost connections are re-opened with a bounded,
jittered backoff; ``chaos`` sends junk between frames or drops the connection on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Final

from custom_components.sinotrack.protocol.jt808.framing import Frame

from .config import SimConfig
from .jt808_tracker import Jt808Tracker
from .links import Link, RateLimiter, SessionEnded, connect
from .tracker import HEARTBEAT_INTERVAL_S, SimTracker

HANDSHAKE_TIMEOUT_S: Final = 5.0
BACKOFF_BASE_S: Final = 0.25
BACKOFF_MAX_S: Final = 5.0


class Sessions:
    """Runs trackers' sessions until ``stop`` is set; ``say`` prints an event line."""

    def __init__(self, config: SimConfig, stop: asyncio.Event, say: Callable[[str], None]) -> None:
        self.config = config
        self.stop = stop
        self.say = say
        self.limiter = RateLimiter(config.max_rate)

    async def sleep(self, seconds: float) -> None:
        """Sleep, or less if the run stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), max(0.0, seconds))

    async def run(self, tracker: SimTracker) -> None:
        """Connect ``tracker`` again and again until the run stops or it gives up."""
        failures = 0
        attempts = 0
        while not self.stop.is_set():
            link = await self._connect(tracker)
            attempts += 1
            if link is not None:
                tracker.session_reports = 0
                try:
                    await self._session(tracker, link)
                except SessionEnded:
                    pass
                except (ConnectionError, OSError, TimeoutError) as err:
                    tracker.stats.error(f"{tracker.device_id}: {err!r}")
                finally:
                    await link.close()
                if tracker.session_reports:
                    failures = 0
            if self.stop.is_set():
                return
            if attempts > self.config.max_reconnects:
                tracker.stats.error(f"{tracker.device_id}: gave up after {attempts} connections")
                return
            failures += 1
            tracker.stats.reconnects += 1
            tracker.reboot = False
            delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** min(failures - 1, 10))
            await self.sleep(delay * tracker.rng.uniform(0.5, 1.0))

    async def _connect(self, tracker: SimTracker) -> Link | None:
        cfg = self.config
        try:
            link = await connect(tracker, cfg.host, cfg.port, cfg.transport)
        except (OSError, TimeoutError) as err:
            tracker.stats.error(f"{tracker.device_id}: cannot connect: {err}")
            return None
        tracker.connection_opened()
        tracker.stats.connects += 1
        self.say(f"{tracker.device_id} {tracker.protocol}: connected over {cfg.transport}")
        return link

    async def _send(self, tracker: SimTracker, link: Link, data: bytes, kind: str) -> None:
        rate = self.config.chaos
        if rate and tracker.rng.random() < rate / 2:
            await link.send(tracker.garbage_frame(), "junk")
            tracker.stats.garbage_sent += 1
        await link.send(data, kind)
        if rate and tracker.rng.random() < rate / 2:
            tracker.stats.chaos_drops += 1
            raise SessionEnded

    async def _handshake(self, tracker: Jt808Tracker, link: Link) -> None:
        """Register (first time only), then authenticate, each waiting its answer."""
        loop = asyncio.get_running_loop()
        if tracker.auth_code is None:
            waiter: asyncio.Future[Frame] = loop.create_future()
            tracker.waiters[0x8100] = waiter
            await link.send(tracker.register_frame())
            reply = await self._await_reply(tracker, link, waiter, "0x8100")
            result = reply.body[2]
            if result != 0:
                tracker.stats.error(f"{tracker.device_id}: registration refused ({result})")
                raise SessionEnded
            tracker.auth_code = reply.body[3:] or tracker.terminal_id.encode("ascii")
        waiter = loop.create_future()
        tracker.waiters[0x8001] = waiter
        await link.send(tracker.auth_frame())
        reply = await self._await_reply(tracker, link, waiter, "0x8001 for 0x0102")
        if reply.body[4] != 0:
            tracker.stats.error(f"{tracker.device_id}: authentication refused")
            tracker.auth_code = None  # register again next time
            raise SessionEnded

    async def _await_reply(
        self, tracker: Jt808Tracker, link: Link, waiter: asyncio.Future[Frame], what: str
    ) -> Frame:
        closed = asyncio.ensure_future(link.closed.wait())
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait(
                (waiter, closed, stopped),
                timeout=HANDSHAKE_TIMEOUT_S,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            closed.cancel()
            stopped.cancel()
        if waiter.done():
            return waiter.result()
        waiter.cancel()
        tracker.waiters.clear()
        if not self.stop.is_set() and not link.closed.is_set():
            tracker.stats.error(f"{tracker.device_id}: no {what} within {HANDSHAKE_TIMEOUT_S:g} s")
        raise SessionEnded

    async def _session(self, tracker: SimTracker, link: Link) -> None:
        speedup = self.config.speedup
        if isinstance(tracker, Jt808Tracker):
            await self._handshake(tracker, link)
        now = time.monotonic()
        next_report = now  # a tracker reports as soon as it is connected
        next_heartbeat = now + HEARTBEAT_INTERVAL_S / speedup * tracker.rng.uniform(0.3, 1.0)
        while not self.stop.is_set():
            if link.closed.is_set():
                raise SessionEnded
            if tracker.reboot:
                self.say(f"{tracker.device_id} {tracker.protocol}: rebooting")
                raise SessionEnded
            now = time.monotonic()
            if tracker.report_now or now >= next_report:
                tracker.report_now = False
                await self.limiter.acquire()
                for frame in tracker.report_frames():
                    await self._send(tracker, link, frame, "report")
                next_report = time.monotonic() + tracker.interval() / speedup
                continue
            if now >= next_heartbeat:
                await self.limiter.acquire()
                await self._send(tracker, link, tracker.heartbeat_frame(), "heartbeat")
                next_heartbeat = time.monotonic() + tracker.heartbeat_interval / speedup
                continue
            tracker.wake.clear()
            if tracker.report_now or tracker.reboot or link.closed.is_set():
                continue
            wait = min(next_report, next_heartbeat) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tracker.wake.wait(), wait)
