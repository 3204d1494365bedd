"""End-to-end benchmark: Home Assistant with the integration, trackers flooding it over TCP.

Run through ``scripts/bench e2e``. Home Assistant runs in this process (the test harness of
pytest-homeassistant-custom-component builds it: real event loop, state machine, event bus, entity
and device registries in memory; no frontend, no HTTP, no recorder unless ``--recorder``). The
integration is set up with M tracker subentries. ``scripts/loadgen.py`` runs in a separate process
and floods the listener over loopback TCP: M connections, each keeping a few H02 V1 reports in
flight (closed loop: a reply lets it send the next). ``--changes position`` (the default): every
report moves the tracker and changes its speed, so two entities write on every report and "last
seen" once a second (its resolution) — the lightest report, where the fixed cost per report weighs
most. ``--changes all``: every report also flips motion, ignition, external power (an alarm on every
other report) and the immobilizer flag, so every entity a report can reach writes.

Phase 1 (integration), over T seconds after a warm-up:
- reports/s: messages the hub took per second;
- latency: loadgen's monotonic time just before writing a report (the sequence number is in the
  latitude) -> the monotonic time at which a ``state_changed`` listener in Home Assistant saw
  that position in the state machine; p50/p99;
- lost: acknowledged reports whose position never appeared in the state machine;
- event-loop lag: a task sleeping 10 ms, how late it wakes; p99;
- CPU time of the event-loop thread per report (socket, decode, hub, entities, state machine).

Phase 2 (anchor), same process: plain ``TrackerEntity`` / ``SensorEntity`` subclasses, one set
per tracker, with precomputed values, written with ``async_write_ha_state`` so that they change
exactly as many states per report as the integration changed in phase 1 (same device classes,
units, unique IDs, the same ``state_changed`` listener attached; every write changes its state,
since a write that changes nothing is cheaper and is not "the same state change"). Its CPU time
per report is what Home Assistant itself costs for those state changes; ``overhead_ratio`` =
phase 1 / phase 2.

Phase 3 (the floor; ``--no-floor`` skips it): a bare asyncio server that only writes the anchor's
states and the replies, under the same flood (``run_floor``); ``floor_ratio`` = phase 3 /
phase 2, what sockets alone add to the state writes at this load.

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

import loadgen  # noqa: E402

from tools import devenv  # noqa: E402

# --- Home Assistant in this process --------------------------------------------------------


def new_loop() -> asyncio.AbstractEventLoop:
    """The event loop Home Assistant itself runs on (eager tasks, its exception handler)."""
    from homeassistant import runner

    create = getattr(runner, "create_event_loop", None)
    if create is not None:
        return create(False)  # type: ignore[no-any-return]
    return runner.HassEventLoopPolicy(False).new_event_loop()  # type: ignore[attr-defined, no-any-return, unused-ignore]


def raise_nofile() -> int:
    return loadgen.raise_nofile()


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
    from tests.helpers import listener_entry

    entry = listener_entry(
        port,
        udp=False,
        new_trackers="ignore",
        max_connections=trackers + 100,
        trackers=[(loadgen.tracker_id(i), f"Tracker {i}") for i in range(first, first + trackers)],
    )
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise SystemExit("the integration did not set up")
    await hass.async_block_till_done()
    return entry


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


class LoadGen:
    """``scripts/loadgen.py`` in its own process; killed whatever happens."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, ready_timeout: float) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPTS / "loadgen.py"),
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), ready_timeout)
        if line.strip() != b"ready":
            raise SystemExit(f"loadgen did not start: {line!r}")

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
            raise SystemExit(f"loadgen failed (exit {proc.returncode}): {out!r}")
        summary: dict[str, Any] = json.loads(lines[-1])
        return summary

    async def kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)


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


# --- the anchor: what Home Assistant itself costs for the same state changes ------------------


def anchor_entities(
    trackers: int, per_report: float
) -> tuple[list[Any], list[Any], list[list[Any]]]:
    """Plain entities with precomputed values: one tracker + sensors per tracker."""
    from homeassistant.components.device_tracker import (  # type: ignore[attr-defined]
        TrackerEntity,
    )
    from homeassistant.components.device_tracker.const import SourceType
    from homeassistant.components.sensor import (
        SensorDeviceClass,
        SensorEntity,
        SensorStateClass,
    )
    from homeassistant.const import UnitOfSpeed
    from homeassistant.helpers.device_registry import DeviceInfo

    def device(index: int) -> DeviceInfo:
        return DeviceInfo(identifiers={("bench_anchor", str(index))}, name=f"Anchor {index}")

    class AnchorTracker(TrackerEntity):
        _attr_should_poll = False
        _attr_has_entity_name = True
        _attr_source_type = SourceType.GPS
        _attr_location_accuracy = 0

        def __init__(self, index: int) -> None:
            self._attr_unique_id = f"anchor_{index}_location"
            self._attr_name = None
            # (TrackerEntity declares no device in some versions; the integration's have one.)
            self._attr_device_info = device(index)  # type: ignore[assignment, unused-ignore]
            # Where the integration's tracker ``index`` is: Home Assistant caches zone distances
            # by point, so trackers sharing coordinates would make the anchor's writes cheaper.
            self._attr_latitude = loadgen.latitude_of(0)
            self._attr_longitude = loadgen.longitude_of(index)

        @property
        def latitude(self) -> float | None:
            return self._attr_latitude

        @property
        def longitude(self) -> float | None:
            return self._attr_longitude

    class AnchorSpeed(SensorEntity):
        _attr_should_poll = False
        _attr_has_entity_name = True
        _attr_device_class = SensorDeviceClass.SPEED
        _attr_native_unit_of_measurement = UnitOfSpeed.KILOMETERS_PER_HOUR
        _attr_state_class = SensorStateClass.MEASUREMENT
        _attr_suggested_display_precision = 0

        def __init__(self, index: int, key: str = "speed") -> None:
            self._attr_unique_id = f"anchor_{index}_{key}"
            self._attr_name = key
            self._attr_device_info = device(index)

    class AnchorTimestamp(SensorEntity):
        _attr_should_poll = False
        _attr_has_entity_name = True
        _attr_device_class = SensorDeviceClass.TIMESTAMP

        def __init__(self, index: int) -> None:
            self._attr_unique_id = f"anchor_{index}_last_seen"
            self._attr_name = "Last seen"
            self._attr_device_info = device(index)

    extra = max(0, math.ceil(per_report) - 3)  # more sensors when >3 writes per report
    location = [AnchorTracker(i) for i in range(trackers)]
    sensors: list[list[Any]] = []
    for i in range(trackers):
        row: list[Any] = [AnchorSpeed(i), AnchorTimestamp(i)]
        row += [AnchorSpeed(i, f"extra{k}") for k in range(extra)]
        sensors.append(row)
    flat = [s for row in sensors for s in row]
    return location, flat, sensors


class AnchorWriter:
    """One report's state changes, precomputed, written into the anchor's plain entities.

    Location and speed change on every report; the other writes (last seen, ignition …) are
    spread over the reports as in phase 1. Every write changes the state: a write that changes
    nothing costs less and fires no event, so it would not be "the same change". The coordinates
    are the integration's for the same tracker and report (``loadgen.latitude_of``,
    ``longitude_of``): Home Assistant memoises the zone distance of a point (``distance`` is an
    ``lru_cache``), so coordinates shared by all anchor trackers would skip the Vincenty formula
    that every integration write pays.
    """

    def __init__(self, location: list[Any], sensors: list[list[Any]], per_report: float) -> None:
        self.location = location
        self.sensors = sensors
        self.extra_per_report = per_report - 2
        self.budget = 0.0
        self.done = 0
        self.latitudes = [loadgen.latitude_of(seq) for seq in range(4096)]
        self.speeds = [18.5, 20.4]
        base = datetime.now(UTC)
        self.stamps = [base + timedelta(seconds=i) for i in range(4096)]  # shown to the second

    def write(self, index: int, n: int) -> None:
        """Report ``n`` of tracker ``index``."""
        loc = self.location[index]
        loc._attr_latitude = self.latitudes[n & 4095]
        loc.async_write_ha_state()
        row = self.sensors[index]
        speed = row[0]
        speed._attr_native_value = self.speeds[n & 1]
        speed.async_write_ha_state()
        self.budget += self.extra_per_report
        if self.budget >= 1.0:
            seen = row[1]
            seen._attr_native_value = self.stamps[self.done & 4095]
            seen.async_write_ha_state()
            self.budget -= 1.0
            k = 2
            while self.budget >= 1.0 and k < len(row):
                row[k]._attr_native_value = float(n)
                row[k].async_write_ha_state()
                self.budget -= 1.0
                k += 1
        self.done += 1


@dataclasses.dataclass
class FloorLoad:
    """The flood of phase 1, for phase 3: load generator options (no port), seconds, warm-up."""

    loadgen_args: list[str]
    seconds: float
    warmup: float


async def run_floor(writer: AnchorWriter, load: FloorLoad) -> dict[str, float]:
    """Phase 3: the least any integration could cost for the same flood.

    A bare asyncio server that, for each report, writes the anchor's precomputed state changes
    and sends the reply: sockets and state writes, no decoding, no hub, no entity logic. The
    same load generator, the same seconds.
    """
    loop = asyncio.get_running_loop()
    counts: dict[int, int] = {}
    buffer = memoryview(bytearray(8192))
    reply_tail = b",V4,V1," + datetime.now(UTC).strftime("%Y%m%d%H%M%S").encode() + b"#"

    class Floor(asyncio.BufferedProtocol):
        transport: Any = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def get_buffer(self, sizehint: int) -> memoryview:
            return buffer

        def buffer_updated(self, nbytes: int) -> None:
            replies = []
            for frame in bytes(buffer[:nbytes]).split(b"#")[:-1]:  # whole reports, one per write
                tid = frame[4:14]
                index = int(tid[1:])
                n = counts.get(index, 0)
                counts[index] = n + 1
                writer.write(index, n)
                replies.append(b"*HQ," + tid + reply_tail)
            self.transport.write(b"".join(replies))

    port = devenv.free_port()
    server = await loop.create_server(Floor, "127.0.0.1", port)
    gen = LoadGen(["--port", str(port), *load.loadgen_args])
    try:
        await gen.start(ready_timeout=60)
        await asyncio.sleep(load.warmup)
        gc.collect()
        done0, cpu0, wall0 = writer.done, time.thread_time(), time.monotonic()
        await asyncio.sleep(load.seconds)
        done1, cpu1, wall1 = writer.done, time.thread_time(), time.monotonic()
        await gen.stop()
    finally:
        await gen.kill()
        server.close()
        await server.wait_closed()
    reports = max(1, done1 - done0)
    return {
        "reports_per_s": reports / (wall1 - wall0),
        "cpu_us_per_report": (cpu1 - cpu0) / reports * 1e6,
    }


async def run_anchor(
    hass: Any,
    trackers: int,
    reports: int,
    per_report: float,
    watch: StateWatch,
    *,
    floor: FloorLoad | None = None,
) -> dict[str, Any]:
    from homeassistant.helpers.entity_platform import EntityPlatform
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    location, flat, sensors = anchor_entities(trackers, per_report)
    # A config entry, so the entities get devices and names the way the integration's do.
    anchor_entry = MockConfigEntry(domain="bench_anchor", title="anchor")
    anchor_entry.add_to_hass(hass)
    logger = logging.getLogger("bench.anchor")
    platforms = {
        domain: EntityPlatform(
            hass=hass,
            logger=logger,
            domain=domain,
            platform_name="bench_anchor",
            platform=None,
            scan_interval=timedelta(seconds=30),
            entity_namespace=None,
        )
        for domain in ("device_tracker", "sensor")
    }
    for platform in platforms.values():
        platform.config_entry = anchor_entry
    await platforms["device_tracker"].async_add_entities(location)
    await platforms["sensor"].async_add_entities(flat)
    await hass.async_block_till_done()
    for entity in [*location, *flat]:
        watch.watched.add(entity.entity_id)
    for index, entity in enumerate(location):
        watch.trackers[entity.entity_id] = index

    writer = AnchorWriter(location, sensors, per_report)
    writes_before = watch.writes
    gc0 = gc_collections()
    gc.collect()
    cpu0 = time.thread_time()
    wall0 = time.monotonic()
    done = 0
    while done < reports:
        for _ in range(min(200, reports - done)):
            writer.write(done % trackers, done // trackers)
            done += 1
        await asyncio.sleep(0)
    cpu = time.thread_time() - cpu0
    wall = time.monotonic() - wall0
    gc1 = gc_collections()
    writes = watch.writes - writes_before
    floor_result = await run_floor(writer, floor) if floor is not None else None
    for platform in platforms.values():
        await platform.async_reset()
    return {
        "floor": floor_result,
        "reports": reports,
        "writes_per_report": writes / reports,
        "cpu_us_per_report": cpu / reports * 1e6,
        "wall_s": wall,
        "gc_per_1000": [round((b - a) * 1000 / reports, 2) for a, b in zip(gc0, gc1, strict=True)],
    }


def gc_collections() -> list[int]:
    return [int(g["collections"]) for g in gc.get_stats()]


# --- the benchmark ---------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    raise_nofile()
    gc.collect()
    port = devenv.free_port()
    with tempfile.TemporaryDirectory(prefix="sinotrack-bench-") as config_dir:
        async with home_assistant(config_dir) as hass:
            if args.recorder:
                await start_recorder(hass)
            t_setup = time.monotonic()
            entry = await setup_integration(hass, port, args.trackers)
            setup_s = time.monotonic() - t_setup
            runtime = entry.runtime_data
            hub, listener = runtime.hub, runtime.listener
            ids = entity_ids(hass, entry)
            watch = StateWatch()
            watch.watched.update(ids.values())
            for i in range(args.trackers):
                watch.trackers[ids[f"{loadgen.tracker_id(i)}_location"]] = i
            unsub = watch.attach(hass)
            from tests.helpers import LoopLag

            lag = LoopLag()
            lag.recording = False  # from the warm-up's end
            lag.start()

            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
                out_path = out.name
            flood = [
                "--connections",
                str(args.trackers),
                "--mode",
                "flood",
                "--window",
                str(args.window),
                "--changes",
                args.changes,
            ]
            gen = LoadGen(["--port", str(port), *flood, "--out", out_path])
            try:
                await gen.start(ready_timeout=60)
                await asyncio.sleep(args.warmup)
                gc.collect()
                msgs0, writes0 = hub.stats.messages, watch.writes
                cpu0, proc0, wall0 = time.thread_time(), time.process_time(), time.monotonic()
                gc0 = gc_collections()
                lag.recording = True
                profiler = None
                if args.profile:
                    import cProfile

                    profiler = cProfile.Profile(time.thread_time)
                    profiler.enable()
                await asyncio.sleep(args.seconds)
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                lag.recording = False
                msgs1, writes1 = hub.stats.messages, watch.writes
                cpu1, proc1, wall1 = time.thread_time(), time.process_time(), time.monotonic()
                gc1 = gc_collections()
                summary = await gen.stop()
            finally:
                await gen.kill()
            await hass.async_block_till_done()
            records = json.loads(Path(out_path).read_text(encoding="utf-8"))  # noqa: ASYNC240
            os.unlink(out_path)

            reports = msgs1 - msgs0
            wall = wall1 - wall0
            writes_per_report = (writes1 - writes0) / reports if reports else 0.0
            integ_us = (cpu1 - cpu0) / reports * 1e6 if reports else float("nan")
            integ_gc = [
                round((b - a) * 1000 / max(1, reports), 2) for a, b in zip(gc0, gc1, strict=True)
            ]
            integ_proc_us = (proc1 - proc0) / reports * 1e6 if reports else float("nan")

            # Join: when each report was written on the socket and when its position appeared.
            appeared: list[dict[int, float]] = [{} for _ in range(args.trackers)]
            for index, latitude, when in watch.seen:
                appeared[index].setdefault(loadgen.seq_of(latitude), when)
            latencies: list[float] = []
            lost = 0
            acked_total = 0
            for index, record in enumerate(records):
                sent = record["sent"]
                acked = record["acked"]
                acked_total += acked
                shown = appeared[index]
                for seq in range(acked):
                    shown_at = shown.get(seq % loadgen.SEQ_MODULO)
                    if shown_at is None:
                        lost += 1
                        continue
                    if wall0 <= sent[seq] <= wall1:
                        latencies.append(shown_at - sent[seq])
            lag_p99 = lag.p99_ms
            await lag.stop()
            session_errors = listener.stats.sink_errors
            refused = listener.stats.connections_refused

            # Phase 2: the anchor, same number of reports (bounded), same writes per report.
            anchor_reports = max(1000, min(reports, 200_000))
            floor = FloorLoad(flood, args.seconds, args.warmup) if args.floor else None
            anchor = await run_anchor(
                hass, args.trackers, anchor_reports, writes_per_report, watch, floor=floor
            )
            unsub()

    p50 = percentile(latencies, 50) * 1000
    p99 = percentile(latencies, 99) * 1000
    ratio = integ_us / anchor["cpu_us_per_report"]
    if abs(anchor["writes_per_report"] - writes_per_report) > 0.02 * writes_per_report:
        print("WARNING: the anchor did not write as many states per report as the integration")
    info = machine()
    print(
        f"Home Assistant {info['home_assistant']}, Python {info['python']}, "
        f"{info['cpus']} x {info['cpu_model']}"
    )
    print(
        f"integration: {args.trackers} trackers over TCP, set up in {setup_s:.1f} s; "
        f"{args.seconds:.0f} s measured after {args.warmup:.0f} s warm-up, window {args.window}"
    )
    print(f"  reports/s          {reports / wall:10.0f}   ({reports} reports)")
    print(f"  latency p50 / p99  {p50:10.2f} / {p99:.2f} ms   ({len(latencies)} samples)")
    print(f"  lost               {lost:10d}   (of {acked_total} acknowledged)")
    print(f"  loop lag p99       {lag_p99:10.2f} ms")
    print(f"  state writes       {writes_per_report:10.3f} per report")
    print(
        f"  CPU per report     {integ_us:10.1f} us event-loop thread "
        f"({integ_proc_us:.1f} us whole process)"
    )
    print(f"  GC runs / 1000     {integ_gc} (generations 0, 1, 2)")
    print(
        f"anchor: plain entities, {anchor['reports']} reports x "
        f"{anchor['writes_per_report']:.3f} writes"
    )
    print(f"  CPU per report     {anchor['cpu_us_per_report']:10.1f} us event-loop thread")
    print(f"  GC runs / 1000     {anchor['gc_per_1000']} (generations 0, 1, 2)")
    print(f"overhead ratio       {ratio:10.2f}   (integration / anchor, target <= 1.5)")
    floor_result = anchor["floor"]
    floor_ratio = None
    if floor_result is not None:
        floor_ratio = integ_us / floor_result["cpu_us_per_report"]
        print(
            f"floor: bare asyncio server writing the anchor's states, same flood: "
            f"{floor_result['reports_per_s']:.0f} reports/s"
        )
        print(
            f"  CPU per report     {floor_result['cpu_us_per_report']:10.1f} us event-loop thread"
        )
        floor_share = floor_result["cpu_us_per_report"] / anchor["cpu_us_per_report"]
        print(f"  integration/floor  {floor_ratio:10.2f}   (floor/anchor {floor_share:.2f})")
    if session_errors or refused:
        print(f"  WARNING: sink errors {session_errors}, refused connections {refused}")
    result = {
        "reports_per_s": round(reports / wall),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "lost": lost,
        "loop_lag_p99_ms": round(lag_p99, 2),
        "overhead_ratio": round(ratio, 3),
        "trackers": args.trackers,
        "seconds": args.seconds,
        "writes_per_report": round(writes_per_report, 3),
        "integration_us_per_report": round(integ_us, 1),
        "anchor_us_per_report": round(anchor["cpu_us_per_report"], 1),
        "floor_us_per_report": (
            round(floor_result["cpu_us_per_report"], 1) if floor_result is not None else None
        ),
        "floor_ratio": (  # the floor / the anchor: what sockets alone add to the state writes
            round(floor_result["cpu_us_per_report"] / anchor["cpu_us_per_report"], 3)
            if floor_result is not None
            else None
        ),
        "acked": acked_total,
        "loadgen": summary,
        "python": info["python"],
        "home_assistant": info["home_assistant"],
    }
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", "-m", type=int, default=100)
    parser.add_argument("--seconds", "-t", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--window", type=int, default=1, help="reports in flight per tracker")
    parser.add_argument(
        "--changes",
        choices=("all", "position"),
        default="position",
        help="position: location and speed change on every report (the lightest report, the "
        "default); all: every entity a report can reach changes (see scripts/loadgen.py)",
    )
    parser.add_argument(
        "--floor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure phase 3: a bare asyncio server writing the anchor's states under the same "
        "flood, the least any integration could cost (on by default)",
    )
    parser.add_argument(
        "--recorder",
        action="store_true",
        help="run the recorder (default settings) in every phase, as a user's Home Assistant does",
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured phase into FILE")
    args = parser.parse_args(argv)
    quiet_logging()
    return run_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
