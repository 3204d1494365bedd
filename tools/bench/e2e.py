"""End-to-end benchmark: Home Assistant with the integration, trackers flooding it over TCP.

Run through ``scripts/bench e2e``. Home Assistant runs in this process (the test harness of
pytest-homeassistant-custom-component builds it: real event loop, state machine, event bus, entity
and device registries in memory; no frontend, no HTTP, no recorder unless ``--recorder``). The
integration is set up with M tracker subentries. ``tools.bench.loadgen`` runs in a separate process
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
- event-loop lag: a task sleeping 10 ms, how late it wakes; p99 (not with ``--pace``);
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

Phases 1 and 3 take turns (``--rounds``, default 3; the anchor runs once, after the first round):
``vs_floor`` is the median of the rounds' ratios (each integration round against the floor
measured right after it), so the machine's drift over the run weighs on both. Home Assistant's
delayed registry writes are done before each measured window, so that they land in none.

``--pace S``: instead of the flood, each tracker reports once every S seconds, spread evenly
(``scripts/bench e2e --trackers 500 --pace 7.5`` is ``bench scale``'s 67 reports/s); the floor
runs at the same pace, so ``vs_floor`` says what the integration adds at a real fleet's pace,
where every report wakes an idle event loop (and the anchor stays a tight loop of writes).

``--relay``: after phase 1, the same flood again with the relay on, to a loopback sink in its
own process (``tools.bench.sink``): every tracker connection gets its upstream connection and
every byte goes up too. ``relay_ratio`` = its CPU per report / phase 1's, measured in the same
run: what relaying costs.

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools import devenv

from . import loadgen
from .anchor import anchor_writer, run_anchor
from .floor import FloorLoad, run_floor
from .harness import (
    ChildProcess,
    GcTime,
    StateWatch,
    entity_ids,
    home_assistant,
    loaded,
    machine,
    percentile,
    quiet_logging,
    report,
    run_main,
    setup_integration,
    start_recorder,
)


@dataclasses.dataclass
class Round:
    """One measured window of the integration under the load."""

    reports: int
    writes: int
    cpu_s: float  # the event-loop thread
    process_s: float  # the whole process
    wall_s: float
    gc_runs: list[int]
    gc_s: float  # in Python's collector (over the whole heap, Home Assistant's most of all)
    latencies: list[float]
    lost: int
    acked: int
    summary: dict[str, Any]


@dataclasses.dataclass
class Probes:
    """What watches the integration's rounds besides the CPU clock."""

    lag: Any  # tests.helpers.LoopLag: records while a window is measured
    profiler: Any  # cProfile.Profile with --profile, else None
    gc_time: GcTime


async def _integration_round(
    hass: Any,
    hub: Any,
    watch: StateWatch,
    port: int,
    *,
    load: list[str],
    seconds: float,
    args: Any,
    probes: Probes,
) -> Round:
    """The load generator on the integration's port: ``seconds`` measured after the warm-up.

    Each round is a new load generator (its trackers connect again, their report numbers start
    at 0), so what was seen is joined with what was sent round by round.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = out.name
    watch.seen.clear()
    async with loaded(hass, ["--port", str(port), *load, "--out", out_path], args.warmup) as gen:
        msgs0, writes0 = hub.stats.messages, watch.writes
        cpu0, proc0, wall0 = time.thread_time(), time.process_time(), time.monotonic()
        gc0, gc_s0 = list(probes.gc_time.runs), probes.gc_time.total
        probes.lag.recording = True
        if probes.profiler is not None:
            probes.profiler.enable()
        await asyncio.sleep(seconds)
        if probes.profiler is not None:
            probes.profiler.disable()
        probes.lag.recording = False
        msgs1, writes1 = hub.stats.messages, watch.writes
        cpu1, proc1, wall1 = time.thread_time(), time.process_time(), time.monotonic()
        gc1, gc_s1 = list(probes.gc_time.runs), probes.gc_time.total
        summary = await gen.stop()
    await hass.async_block_till_done()
    records = json.loads(Path(out_path).read_text(encoding="utf-8"))  # noqa: ASYNC240
    os.unlink(out_path)

    # Join: when each report was written on the socket and when its position appeared.
    appeared: list[dict[int, float]] = [{} for _ in range(args.trackers)]
    for index, latitude, when in watch.seen:
        appeared[index].setdefault(loadgen.seq_of(latitude), when)
    latencies: list[float] = []
    lost = acked_total = 0
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
    return Round(
        reports=msgs1 - msgs0,
        writes=writes1 - writes0,
        cpu_s=cpu1 - cpu0,
        process_s=proc1 - proc0,
        wall_s=wall1 - wall0,
        gc_runs=[b - a for a, b in zip(gc0, gc1, strict=True)],
        gc_s=gc_s1 - gc_s0,
        latencies=latencies,
        lost=lost,
        acked=acked_total,
        summary=summary,
    )


async def bench(args: argparse.Namespace) -> int:
    loadgen.raise_nofile()
    gc.collect()
    port = devenv.free_port()
    per_round = args.seconds / args.rounds
    rounds: list[Round] = []
    floors: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="sinotrack-bench-") as config_dir:
        async with home_assistant(config_dir) as hass, contextlib.AsyncExitStack() as anchored:
            if args.recorder:
                await start_recorder(hass)
            t_setup = time.monotonic()
            entry = await setup_integration(hass, port, args.trackers)
            setup_s = time.monotonic() - t_setup
            runtime = entry.runtime_data
            hub, server = runtime.hub, runtime.server
            ids = entity_ids(hass, entry)
            watch = StateWatch()
            watch.watched.update(ids.values())
            for i in range(args.trackers):
                watch.trackers[ids[f"{loadgen.tracker_id(i)}_location"]] = i
            unsub = watch.attach(hass)
            from tests.helpers import LoopLag

            lag = LoopLag()
            lag.recording = False  # from the warm-up's end
            if not args.pace:  # at a fleet's pace its 100 wake-ups a second would be most of it
                lag.start()
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile(time.thread_time)
            gc_time = GcTime()
            probes = Probes(lag, profiler, gc_time)

            pace = ["--mode", "paced", "--interval", str(args.pace)] if args.pace else []
            flood = [
                "--connections",
                str(args.trackers),
                *(pace or ["--mode", "flood", "--window", str(args.window)]),
                "--changes",
                args.changes,
            ]
            # The integration and the floor take turns, so that the machine's drift over the
            # run (a shared VM moves by ±10 % between minutes) weighs on both alike.
            anchor: dict[str, Any] = {}
            writer = None
            for _ in range(args.rounds):
                rounds.append(
                    await _integration_round(
                        hass,
                        hub,
                        watch,
                        port,
                        load=flood,
                        seconds=per_round,
                        args=args,
                        probes=probes,
                    )
                )
                if writer is None:  # phase 2, once: as many writes per report as round 1's
                    first = rounds[0]
                    per_report = first.writes / first.reports if first.reports else 0.0
                    writer = await anchored.enter_async_context(
                        anchor_writer(hass, args.trackers, per_report, watch)
                    )
                    anchor = await run_anchor(
                        writer, max(1000, min(first.reports, 200_000)), watch, gc_time
                    )
                if args.floor:
                    floors.append(
                        await run_floor(
                            hass, writer, FloorLoad(flood, per_round, args.warmup), gc_time
                        )
                    )
            if profiler is not None:
                profiler.dump_stats(args.profile)
            lag_p99 = None if args.pace else lag.p99_ms
            await lag.stop()
            sink_errors = server.stats.sink_errors
            refused = server.stats.connections_refused
            relay = await _relay_phase(hass, entry, port, flood, args) if args.relay else None
            unsub()

    reports = sum(r.reports for r in rounds)
    wall = sum(r.wall_s for r in rounds)
    writes_per_report = sum(r.writes for r in rounds) / reports if reports else 0.0
    integ_us = sum(r.cpu_s for r in rounds) / reports * 1e6 if reports else float("nan")
    integ_proc_us = sum(r.process_s for r in rounds) / reports * 1e6 if reports else float("nan")
    integ_gc = [
        round(sum(runs) * 1000 / max(1, reports), 2)
        for runs in zip(*(r.gc_runs for r in rounds), strict=True)
    ]
    integ_gc_us = sum(r.gc_s for r in rounds) / reports * 1e6 if reports else float("nan")
    latencies = [latency for r in rounds for latency in r.latencies]
    lost = sum(r.lost for r in rounds)
    acked_total = sum(r.acked for r in rounds)
    summary = {key: sum(r.summary[key] for r in rounds) for key in rounds[0].summary}
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
    if lag_p99 is not None:
        print(f"  loop lag p99       {lag_p99:10.2f} ms")
    print(f"  state writes       {writes_per_report:10.3f} per report")
    print(
        f"  CPU per report     {integ_us:10.1f} us event-loop thread "
        f"({integ_proc_us:.1f} us whole process)"
    )
    print(f"  GC runs / 1000     {integ_gc} (generations 0, 1, 2), {integ_gc_us:.1f} us per report")
    print(
        f"anchor: plain entities, {anchor['reports']} reports x "
        f"{anchor['writes_per_report']:.3f} writes"
    )
    print(f"  CPU per report     {anchor['cpu_us_per_report']:10.1f} us event-loop thread")
    print(f"  GC runs / 1000     {anchor['gc_per_1000']} (generations 0, 1, 2)")
    print(f"overhead ratio       {ratio:10.2f}   (integration / anchor, target <= 1.5)")
    floor_us = floor_gc_us = vs_floor = None
    vs_floor_rounds: list[float] = []
    if floors:
        floor_reports = sum(f["reports"] for f in floors)
        floor_us = sum(f["cpu_s"] for f in floors) / floor_reports * 1e6
        floor_gc_us = sum(f["gc_s"] for f in floors) / floor_reports * 1e6
        # Round by round: each integration round against the floor measured right after it.
        vs_floor_rounds = [
            (r.cpu_s / max(1, r.reports)) / (f["cpu_s"] / max(1, f["reports"]))
            for r, f in zip(rounds, floors, strict=True)
        ]
        vs_floor = statistics.median(vs_floor_rounds)
        floor_wall = sum(f["wall_s"] for f in floors)
        print(
            f"floor: bare asyncio server writing the anchor's states, same load: "
            f"{floor_reports / floor_wall:.0f} reports/s"
        )
        print(
            f"  CPU per report     {floor_us:10.1f} us event-loop thread "
            f"(of which GC {floor_gc_us:.1f} us)"
        )
        floor_share = floor_us / anchor["cpu_us_per_report"]
        shown = ", ".join(
            f"{r.cpu_s / max(1, r.reports) * 1e6:.0f}/{f['cpu_s'] / max(1, f['reports']) * 1e6:.0f}"
            f" us = {v:.2f}"
            for r, f, v in zip(rounds, floors, vs_floor_rounds, strict=True)
        )
        print(
            f"  integration/floor  {vs_floor:10.2f}   (median of {len(floors)} alternating rounds: "
            f"{shown}; floor/anchor {floor_share:.2f})"
        )
    relay_ratio = None
    if relay is not None:
        relay_ratio = relay["cpu_us_per_report"] / integ_us
        print(
            f"relay: the same flood relayed to a loopback sink, {relay['reports_per_s']:.0f} "
            f"reports/s, {relay['bytes_up']} bytes up ({relay['sink_bytes']} at the sink), "
            f"{relay['dropped_bytes']} dropped"
        )
        print(f"  CPU per report     {relay['cpu_us_per_report']:10.1f} us event-loop thread")
        print(f"  relay/plain        {relay_ratio:10.2f}   (the relay's cost over the plain run)")
    if sink_errors or refused:
        print(f"  WARNING: sink errors {sink_errors}, refused connections {refused}")
    result = {
        "reports_per_s": round(reports / wall),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "lost": lost,
        "loop_lag_p99_ms": round(lag_p99, 2) if lag_p99 is not None else None,
        "overhead_ratio": round(ratio, 3),
        "trackers": args.trackers,
        "seconds": args.seconds,
        "writes_per_report": round(writes_per_report, 3),
        "integration_us_per_report": round(integ_us, 1),
        "anchor_us_per_report": round(anchor["cpu_us_per_report"], 1),
        "floor_us_per_report": round(floor_us, 1) if floor_us is not None else None,
        "floor_ratio": (  # the floor / the anchor: what sockets alone add to the state writes
            round(floor_us / anchor["cpu_us_per_report"], 3) if floor_us is not None else None
        ),
        # The integration / the floor, the median of the alternating rounds: issue 17's
        # constraint (<= 1.3).
        "vs_floor": round(vs_floor, 3) if vs_floor is not None else None,
        "vs_floor_rounds": [round(v, 3) for v in vs_floor_rounds],
        # Python's collector, over the whole heap (Home Assistant's most of all), per report
        "gc_us_per_report": round(integ_gc_us, 1),
        "floor_gc_us_per_report": round(floor_gc_us, 1) if floor_gc_us is not None else None,
        "rounds": args.rounds,
        "relay_us_per_report": relay["cpu_us_per_report"] if relay is not None else None,
        "relay_ratio": round(relay_ratio, 3) if relay_ratio is not None else None,
        "acked": acked_total,
        "loadgen": summary,
    }
    return report(result, info)


async def _relay_phase(
    hass: Any, entry: Any, port: int, flood: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """The flood again with the relay on, to ``tools.bench.sink`` in its own process."""
    from custom_components.sinotrack.const import CONF_RELAY_HOST, CONF_RELAY_PORT

    hub = entry.runtime_data.hub
    sink = ChildProcess([], "tools.bench.sink")
    try:
        sink_port = int(await sink.start(ready_timeout=30))
        options = {**entry.options, CONF_RELAY_HOST: "127.0.0.1", CONF_RELAY_PORT: sink_port}
        hass.config_entries.async_update_entry(entry, options=options)
        await hass.async_block_till_done()
        # No send times: only the CPU counts here.
        async with loaded(hass, ["--port", str(port), *flood], args.warmup) as gen:
            msgs0, cpu0, wall0 = hub.stats.messages, time.thread_time(), time.monotonic()
            await asyncio.sleep(args.seconds)
            msgs1, cpu1, wall1 = hub.stats.messages, time.thread_time(), time.monotonic()
            await gen.stop()
        stats = list(hub.relay.stats.values())
        options = {**entry.options, CONF_RELAY_HOST: ""}
        hass.config_entries.async_update_entry(entry, options=options)
        await hass.async_block_till_done()
        summary = await sink.stop(wait_s=30)
    finally:
        await sink.kill()
    reports = msgs1 - msgs0
    return {
        "reports_per_s": reports / (wall1 - wall0),
        "cpu_us_per_report": round((cpu1 - cpu0) / reports * 1e6, 1) if reports else float("nan"),
        "bytes_up": sum(s.bytes_up for s in stats),
        "dropped_bytes": sum(s.dropped_bytes for s in stats),
        "sink_bytes": summary["bytes"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", "-m", type=int, default=100)
    parser.add_argument("--seconds", "-t", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, before each round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the integration and the floor take turns this many times, SECONDS split over them "
        "(vs_floor: the median of the rounds' ratios)",
    )
    parser.add_argument("--window", type=int, default=1, help="reports in flight per tracker")
    parser.add_argument(
        "--pace",
        type=float,
        metavar="SECONDS",
        help="instead of the flood, each tracker reports once every SECONDS, spread evenly (a "
        "real fleet's pace; the floor then runs at that pace too)",
    )
    parser.add_argument(
        "--changes",
        choices=("all", "position"),
        default="position",
        help="position: location and speed change on every report (the lightest report, the "
        "default); all: every entity a report can reach changes (see tools/bench/loadgen.py)",
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
    parser.add_argument(
        "--relay",
        action="store_true",
        help="run the flood again with the relay on, to a loopback sink (its cost over the plain "
        "run, measured in the same run)",
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the measured phase into FILE")
    args = parser.parse_args(argv)
    quiet_logging()
    return run_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
