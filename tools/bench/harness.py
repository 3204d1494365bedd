"""Home Assistant in this process, for the benchmarks: its loop, the integration, what is measured.

The harness of pytest-homeassistant-custom-component builds Home Assistant (real event loop,
state machine, event bus, entity and device registries in memory; no frontend, no HTTP, no
recorder unless asked); the integration is set up with its tracker subentries (``tests.helpers``
builds the entry as the tests do). ``ChildProcess`` runs a benchmark helper (``LoadGen``, the
load generator; the relay's sink) in its own process, ``StateWatch`` sees every state written,
``run_main`` runs a benchmark on Home Assistant's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from tools import REPO

from . import loadgen


def new_loop() -> asyncio.AbstractEventLoop:
    """The event loop Home Assistant itself runs on (eager tasks, its exception handler)."""
    from homeassistant import runner

    create = getattr(runner, "create_event_loop", None)
    if create is not None:
        return create(False)  # type: ignore[no-any-return]
    return runner.HassEventLoopPolicy(False).new_event_loop()  # type: ignore[attr-defined, no-any-return, unused-ignore]


@contextlib.asynccontextmanager
async def home_assistant(config_dir: str) -> AsyncIterator[Any]:
    from homeassistant import loader
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    async with async_test_home_assistant(config_dir=config_dir) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # let it load custom_components/
        try:
            yield hass
        finally:
            await hass.async_stop(force=True)


async def start_recorder(hass: Any) -> None:
    """The recorder as in a user's Home Assistant: its defaults (SQLite in the config folder)."""
    from homeassistant.helpers import recorder as recorder_helper
    from homeassistant.setup import async_setup_component

    recorder_helper.async_initialize_recorder(hass)  # what bootstrap does first
    if not await async_setup_component(hass, "recorder", {"recorder": {}}):
        raise SystemExit("the recorder did not set up")
    await hass.async_block_till_done()


async def setup_integration(hass: Any, port: int, trackers: int, first: int = 0) -> Any:
    """A listener entry on ``port`` (TCP) with trackers ``first`` … ``first + trackers - 1``."""
    from custom_components.sinotrack.const import CONF_MAX_PER_SOURCE
    from tests.helpers import listener_entry

    entry = listener_entry(
        port,
        udp=False,
        new_trackers="ignore",
        max_connections=trackers + 100,
        # every simulated tracker dials in from 127.0.0.1: the per-address cap would refuse most
        options={CONF_MAX_PER_SOURCE: trackers + 100},
        trackers=[(loadgen.tracker_id(i), f"Tracker {i}") for i in range(first, first + trackers)],
    )
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise SystemExit("the integration did not set up")
    await hass.async_block_till_done()
    return entry


async def flush_stores(hass: Any) -> None:
    """Home Assistant's delayed writes (the entity and device registries' stores, 10 s after
    the last change) done now, as at shutdown: left to themselves they land in whichever phase
    is running then (in ``e2e``, the registry's write of every entry in the first round). The
    entity registry's write keeps a JSON fragment of every entry (about 340 bytes each, 13
    entries per tracker) and a burst of temporary buffers; in ``scale``'s connection phase that
    read as 13-39 KiB per connection, or 5 KiB when it fell earlier."""
    from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()


def nowhere_peer(codec: Any = None) -> Any:
    """A peer whose replies go nowhere, to put reports straight into a hub (no socket)."""
    from custom_components.sinotrack.server import Peer

    class Nowhere(Peer):
        stream = False
        name = host = "bench"
        is_open = False

        def send(self, data: bytes) -> None:
            pass

    peer = Nowhere()
    peer.codec = codec
    return peer


def entity_ids(hass: Any, entry: Any) -> dict[str, str]:
    """unique ID -> entity ID of the entry's entities."""
    from homeassistant.helpers import entity_registry as er

    return {
        e.unique_id: e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }


class StateWatch:
    """A ``state_changed`` listener: counts writes and notes when each position appeared."""

    def __init__(self) -> None:
        self.watched: set[str] = set()  # count the state writes of these entities
        self.trackers: dict[str, int] = {}  # device_tracker entity ID -> tracker index
        self.writes = 0
        self.seen: list[tuple[int, float, float]] = []  # (tracker index, latitude, monotonic)

    def attach(self, hass: Any) -> Callable[[], None]:
        from homeassistant.const import EVENT_STATE_CHANGED
        from homeassistant.core import callback

        watched = self.watched
        trackers = self.trackers
        seen = self.seen
        monotonic = time.monotonic

        @callback
        def on_state_changed(event: Any) -> None:
            entity_id = event.data["entity_id"]
            if entity_id not in watched:
                return
            self.writes += 1
            index = trackers.get(entity_id)
            if index is not None:
                new_state = event.data["new_state"]
                if new_state is not None:
                    latitude = new_state.attributes.get("latitude")
                    if latitude is not None:
                        seen.append((index, latitude, monotonic()))

        unsub: Callable[[], None] = hass.bus.async_listen(EVENT_STATE_CHANGED, on_state_changed)
        return unsub


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


class ChildProcess:
    """A ``tools.bench`` module in its own process (its CPU is not the loop's under measurement):
    it prints one line once ready, stops when its standard input says ``stop`` or closes, and
    ends with one JSON line; killed whatever happens."""

    module = ""

    def __init__(self, args: list[str], module: str | None = None) -> None:
        self.args = args
        self.module = module or self.module
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, ready_timeout: float) -> str:
        """Start it; its first line (what it says once ready)."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            *self.args,
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), ready_timeout)
        return line.decode(errors="replace").strip()

    async def stop(self, wait_s: float = 15.0) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None
        assert proc.stdin is not None
        assert proc.stdout is not None
        with contextlib.suppress(ConnectionError):
            proc.stdin.write(b"stop\n")
            await proc.stdin.drain()
            proc.stdin.close()
        out = await asyncio.wait_for(proc.stdout.read(), wait_s)
        await proc.wait()
        lines = out.decode().strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"{self.module} failed (exit {proc.returncode}): {out!r}")
        summary: dict[str, Any] = json.loads(lines[-1])
        return summary

    async def kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)


class LoadGen(ChildProcess):
    """``tools.bench.loadgen``: says ``ready`` once every connection is up."""

    module = "tools.bench.loadgen"

    async def start(self, ready_timeout: float) -> str:
        line = await super().start(ready_timeout)
        if line != "ready":
            raise SystemExit(f"loadgen did not start: {line!r}")
        return line


@contextlib.asynccontextmanager
async def loaded(hass: Any, loadgen_args: list[str], warmup: float) -> AsyncIterator[LoadGen]:
    """The load generator started, ``warmup`` seconds of its load taken, Home Assistant's
    delayed writes done and a full collection run: what is measured inside starts clean. The
    caller stops the load (``await gen.stop()``: its summary); it is killed whatever happens."""
    gen = LoadGen(loadgen_args)
    try:
        await gen.start(ready_timeout=60)
        await asyncio.sleep(warmup)
        await flush_stores(hass)  # the registries' writes after a set-up land in no window
        gc.collect()
        yield gen
    finally:
        await gen.kill()


def machine() -> dict[str, Any]:
    import platform

    import homeassistant.const

    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "home_assistant": homeassistant.const.__version__,
    }


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def run_main(coro_fn: Callable[[], Any]) -> int:
    """Run ``coro_fn()`` on Home Assistant's loop; Ctrl-C and SIGTERM end it cleanly."""
    loop = new_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(coro_fn())
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return int(loop.run_until_complete(task))
    except asyncio.CancelledError:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=5))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


# --- what the benchmarks count and print ------------------------------------------------------


class GcTime:
    """Time spent in the garbage collector (all generations), via ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total = 0.0
        self.runs = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            self.runs[min(2, int(info["generation"]))] += 1


def report(result: dict[str, Any], info: dict[str, Any]) -> int:
    """The last line of a benchmark: its figures and what they were measured on, as JSON."""
    print(
        json.dumps({**result, "python": info["python"], "home_assistant": info["home_assistant"]})
    )
    return 0
