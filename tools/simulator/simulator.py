"""A simulator run: ``config.trackers`` trackers, each in its own session, and what they did."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Final

from .config import ALARMS, SimConfig
from .h02_tracker import H02Tracker
from .jt808_tracker import Jt808Tracker
from .session import Sessions
from .stats import Stats, Summary, counts, plural
from .tracker import SimTracker, TrackerSnapshot

SHUTDOWN_GRACE_S: Final = 3.0
PROGRESS_TRACKERS: Final = 10  # trackers listed in a progress report


def tracker_class(protocol: str) -> type[SimTracker]:
    """The tracker of ``protocol`` (``h02``, ``h02-binary`` or ``jt808``)."""
    return Jt808Tracker if protocol == "jt808" else H02Tracker


class Simulator:
    """A run of ``config.trackers`` trackers (the hooks: the ``tools.simulator`` docstring).

    Use it on one event loop: ``trigger_alarm``, ``snapshot`` and ``stop`` are not thread-safe
    (from another thread, go through ``loop.call_soon_threadsafe``).
    """

    def __init__(self, config: SimConfig) -> None:
        config.validate()
        self.config = config
        self.stats = Stats()
        self._started: float | None = None
        self._finished: float | None = None
        self._stop = asyncio.Event()
        self._sessions = Sessions(config, self._stop, self._say)
        self.trackers: dict[str, SimTracker] = {}
        for index in range(config.trackers):
            kind = tracker_class(config.protocol_of(index))
            tracker = kind(index, config, self.stats, sim_clock=self.sim_time, say=self._say)
            self.trackers[tracker.device_id] = tracker

    # --- hooks ----------------------------------------------------------------------------

    @property
    def tracker_ids(self) -> list[str]:
        """Device IDs as the integration shows them, in tracker order."""
        return list(self.trackers)

    @property
    def running(self) -> bool:
        return self._started is not None and self._finished is None

    def trigger_alarm(self, tracker_id: str, alarm: str) -> None:
        """Make ``tracker_id`` report ``alarm`` at once (vibration, power_cut, sos, low_battery)."""
        self.trackers[tracker_id].trigger_alarm(alarm)

    def snapshot(self, tracker_id: str) -> TrackerSnapshot:
        tracker = self.trackers[tracker_id]
        if self.running:
            tracker.advance()
        return tracker.snapshot()

    def snapshots(self) -> dict[str, TrackerSnapshot]:
        return {tracker_id: self.snapshot(tracker_id) for tracker_id in self.trackers}

    def stop(self) -> None:
        """End the run early (``run`` returns its summary shortly after)."""
        self._stop.set()
        for tracker in self.trackers.values():
            tracker.wake.set()

    def sim_time(self) -> float:
        """Simulated seconds since the start."""
        if self._started is None:
            return 0.0
        end = self._finished if self._finished is not None else time.monotonic()
        return (end - self._started) * self.config.speedup

    def summary(self) -> Summary:
        stats = self.stats
        started = self._started or time.monotonic()
        elapsed = (self._finished or time.monotonic()) - started
        protocols = Counter(t.protocol for t in self.trackers.values())
        return Summary(
            target=f"{self.config.host}:{self.config.port}",
            transport=self.config.transport,
            trackers=len(self.trackers),
            protocols=counts(protocols),
            elapsed_s=elapsed if self._started is not None else 0.0,
            speedup=self.config.speedup,
            reports_sent=counts(stats.reports),
            heartbeats_sent=counts(stats.heartbeats),
            replies_received=counts(stats.replies),
            commands_received=counts(stats.commands),
            commands_answered=stats.commands_answered,
            alarms_sent=counts(stats.alarms),
            connects=stats.connects,
            reconnects=stats.reconnects,
            chaos_drops=stats.chaos_drops,
            garbage_sent=stats.garbage_sent,
            frames_sent=stats.frames_sent,
            bytes_sent=stats.bytes_sent,
            bytes_received=stats.bytes_received,
            errors=stats.errors,
            error_samples=tuple(stats.error_samples),
        )

    # --- running --------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.config.quiet:
            return
        elapsed = time.monotonic() - self._started if self._started is not None else 0.0
        line = f"[{elapsed:7.1f}s] {message}"
        if self.config.printer is not None:
            self.config.printer(line)
        else:
            print(line, flush=True)

    async def run(self) -> Summary:
        """Run until ``duration`` is over or ``stop()``; always returns a summary."""
        if self._started is not None:
            raise RuntimeError("a Simulator runs once")
        self._started = time.monotonic()
        self._stop.clear()
        for tracker in self.trackers.values():
            tracker.vehicle.t = 0.0
        cfg = self.config
        self._say(
            f"{plural(cfg.trackers, 'tracker')} -> {cfg.host}:{cfg.port} over {cfg.transport} "
            f"for {cfg.duration:g} s (speedup {cfg.speedup:g})"
        )
        tasks = [
            asyncio.create_task(self._sessions.run(tracker), name=f"sim-{tracker.device_id}")
            for tracker in self.trackers.values()
        ]
        if cfg.alarm in ALARMS:
            tasks.append(asyncio.create_task(self._alarm_on_demand(cfg.alarm)))
        if not cfg.quiet:
            tasks.append(asyncio.create_task(self._progress()))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), cfg.duration)
        finally:
            self.stop()
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for task in tasks:
                if not task.cancelled() and task.exception() is not None:
                    self.stats.error(f"internal error: {task.exception()!r}")
            self._finished = time.monotonic()
        return self.summary()

    async def _progress(self) -> None:
        """Every ``progress_s`` (a minute): what was sent and answered, in all and per tracker,
        so a long run is not silent between "connected" and the summary."""
        while not self._stop.is_set():
            await self._sessions.sleep(self.config.progress_s)
            if self._stop.is_set():
                return
            for line in self.progress_lines():
                self._say(line)

    def progress_lines(self) -> list[str]:
        """The progress report: a line in all, then one per tracker (the first few of many)."""
        trackers = list(self.trackers.values())
        connected = sum(t.connected for t in trackers)
        lines = [
            f"progress: {plural(len(trackers), 'tracker')} ({connected} connected) sent "
            f"{plural(sum(t.reports_sent for t in trackers), 'report')} and "
            f"{plural(sum(t.heartbeats_sent for t in trackers), 'heartbeat')}, "
            f"{sum(t.replies_received for t in trackers)} answered"
        ]
        for tracker in trackers[:PROGRESS_TRACKERS]:
            lines.append(
                f"  {tracker.device_id} {tracker.protocol}: sent "
                f"{plural(tracker.reports_sent, 'report')} and "
                f"{plural(tracker.heartbeats_sent, 'heartbeat')}, "
                f"{tracker.replies_received} answered"
                + ("" if tracker.connected else ", not connected")
            )
        if len(trackers) > PROGRESS_TRACKERS:
            lines.append(f"  … and {plural(len(trackers) - PROGRESS_TRACKERS, 'tracker')} more")
        return lines

    async def _alarm_on_demand(self, alarm: str) -> None:
        """Each tracker raises ``alarm`` once, a bit after the start (after its first report)."""
        delay = self.config.alarm_after
        if delay is None:
            delay = min(3.0, self.config.duration / 3)
        await self._sessions.sleep(delay)
        for tracker in self.trackers.values():
            if self._stop.is_set():
                return
            if tracker.reports_sent == 0:  # wait a little for its first report
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(tracker.reported.wait(), 2.0)
            tracker.trigger_alarm(alarm)
            await self._sessions.sleep(0.05)


async def run(config: SimConfig) -> Summary:
    """Run a simulation to its end and return what happened."""
    return await Simulator(config).run()
