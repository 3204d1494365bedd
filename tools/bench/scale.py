"""Scale benchmark: a big fleet connected at once, each tracker reporting every 30 s.

Run through ``scripts/bench scale``. Home Assistant runs in this process with the integration
and N tracker subentries (as ``tools.bench.e2e`` builds it); ``tools.bench.loadgen`` in a
separate process opens N TCP connections to 127.0.0.1, each sending one H02 report right away
and then one every ``--interval`` seconds, the connections spread evenly over the interval.

Measured in the Home Assistant process:
- memory per connection: resident set size (``/proc/self/statm``) after the fleet is connected
  and every tracker has reported once, minus before, divided by N (after a full GC both times;
  every tracker reports once in-process before, so its entities' states are there already and
  only the connections are counted); tracemalloc, on while the fleet connects (not while
  the CPU is measured; ``--no-tracemalloc`` leaves it off), gives the Python-heap part of it
  (``traced_bytes_per_connection``: what Python objects the connections keep alive), and its
  own tables are taken out of the resident figure;
- CPU: user + system time of the whole process over the reporting window ÷ wall time, as a
  percentage of one core, and the same time ÷ the reports taken in the window
  (``cpu_us_per_report``: what one report costs at a real fleet's pace, every wake-up of the
  event loop included).
The open-file limit is raised to the hard limit in both processes. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from typing import Any

from tools import devenv

from . import loadgen
from .harness import (
    GcTime,
    LoadGen,
    flush_stores,
    home_assistant,
    machine,
    nowhere_peer,
    quiet_logging,
    report,
    run_main,
    setup_integration,
)

PAGE = os.sysconf("SC_PAGE_SIZE")


class Totals:
    """Counters summed over the listener entries."""

    def __init__(self, hubs: list[Any], servers: list[Any]) -> None:
        self.hubs = hubs
        self.servers = servers

    def open(self) -> int:
        return sum(server.stats.connections_open for server in self.servers)

    def messages(self) -> int:
        return sum(hub.stats.messages for hub in self.hubs)


def prime(entries: list[Any], changes: str) -> None:
    """One report per tracker straight into each hub (no socket: the replies go nowhere)."""
    clock = loadgen.Clock()
    clock.update()
    for entry in entries:
        server, hub = entry.runtime_data.server, entry.runtime_data.hub
        peer = nowhere_peer()
        for tracker_id in list(hub.trackers):
            conn = loadgen.Conn(int(tracker_id[1:]), None, changes)  # type: ignore[arg-type]
            report = conn.report(clock)
            codec, _ = server.new_codec(report)
            for decoded in codec.feed(report):
                hub.handle(decoded, peer)
            hub.peers.pop(tracker_id, None)


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def bench(args: argparse.Namespace) -> int:
    limit = loadgen.raise_nofile()
    if limit < args.connections + 256:
        print(
            f"open-file limit {limit} is too low for {args.connections} connections "
            "(raise the hard limit: ulimit -Hn)",
            file=sys.stderr,
        )
        return 1
    # Home Assistant caps the enabled entities of one config entry (10,000 in 2026.x): the
    # fleet is split over listener entries (ports) of --per-entry trackers each.
    entries = []
    gc_time = GcTime()
    with tempfile.TemporaryDirectory(prefix="sinotrack-bench-") as config_dir:
        async with home_assistant(config_dir) as hass:
            t0 = time.monotonic()
            for first in range(0, args.connections, args.per_entry):
                count = min(args.per_entry, args.connections - first)
                entries.append(
                    await setup_integration(hass, devenv.free_port(), count, first=first)
                )
            setup_s = time.monotonic() - t0
            ports = ",".join(str(e.runtime_data.server.bound_port) for e in entries)
            hubs = [e.runtime_data.hub for e in entries]
            servers = [e.runtime_data.server for e in entries]
            stats = Totals(hubs, servers)
            await hass.async_block_till_done()
            await flush_stores(hass)
            gc.collect()
            idle0, idle_wall0 = cpu_seconds(), time.monotonic()
            await asyncio.sleep(args.idle)
            idle_pct = (cpu_seconds() - idle0) / (time.monotonic() - idle_wall0) * 100
            # Traced from before the priming reports: the states the fleet's first reports
            # replace are traced too, so they are not counted as connection memory.
            if args.tracemalloc:
                tracemalloc.start()
            # Every tracker reports once in-process first, so the states its entities write on
            # a first report are not counted as connection memory.
            prime(entries, args.changes)
            await hass.async_block_till_done()
            await flush_stores(hass)  # anything the first reports changed in the registries
            await asyncio.sleep(1)
            gc.collect()
            rss0 = rss() - tracemalloc.get_tracemalloc_memory()  # its tables are not ours
            traced0 = tracemalloc.get_traced_memory()[0]
            gen = LoadGen(
                [
                    "--port",
                    ports,
                    "--per-port",
                    str(args.per_entry),
                    "--connections",
                    str(args.connections),
                    "--mode",
                    "paced",
                    "--interval",
                    str(args.interval),
                    "--changes",
                    args.changes,
                ]
            )
            try:
                t_connect = time.monotonic()
                await gen.start(ready_timeout=120)
                # every connection up and every tracker's first report taken
                while stats.open() < args.connections or stats.messages() < args.connections:
                    if time.monotonic() - t_connect > 60:
                        raise SystemExit(
                            f"only {stats.open()} connections, "
                            f"{stats.messages()} reports after 60 s"
                        )
                    await asyncio.sleep(0.05)
                connect_s = time.monotonic() - t_connect
                await asyncio.sleep(1)
                gc.collect()
                traced1 = tracemalloc.get_traced_memory()[0]
                rss1 = rss() - tracemalloc.get_tracemalloc_memory()
                tracemalloc.stop()  # it would slow down what is measured next
                profiler = None
                if args.profile:
                    import cProfile

                    profiler = cProfile.Profile(time.thread_time)
                    profiler.enable()
                # the reporting window: what the fleet costs while it reports
                msgs0, cpu0, wall0 = stats.messages(), cpu_seconds(), time.monotonic()
                gc_time0, gc_runs0 = gc_time.total, list(gc_time.runs)
                await asyncio.sleep(max(5.0, args.seconds - (time.monotonic() - t_connect)))
                msgs1, cpu1, wall1 = stats.messages(), cpu_seconds(), time.monotonic()
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                gc_s = gc_time.total - gc_time0
                gc_runs = [b - a for a, b in zip(gc_runs0, gc_time.runs, strict=True)]
                open_at_end = stats.open()
                entities = len(hass.states.async_entity_ids())
                summary = await gen.stop()
            finally:
                await gen.kill()

    per_conn = (rss1 - rss0) / args.connections
    traced_per_conn = (traced1 - traced0) / args.connections if args.tracemalloc else None
    cpu_pct = (cpu1 - cpu0) / (wall1 - wall0) * 100
    rate = (msgs1 - msgs0) / (wall1 - wall0)
    cpu_us_per_report = (cpu1 - cpu0) / max(1, msgs1 - msgs0) * 1e6
    info = machine()
    print(
        f"Home Assistant {info['home_assistant']}, Python {info['python']}, "
        f"{info['cpus']} x {info['cpu_model']}; open-file limit {limit}"
    )
    print(
        f"{args.connections} trackers in {len(entries)} listener entries "
        f"({entities} entities) set up in {setup_s:.1f} s; connected and reported once "
        f"in {connect_s:.1f} s; {open_at_end} connections open at the end"
    )
    print(
        f"  of which GC            {gc_s / (wall1 - wall0) * 100:8.2f} % "
        f"(runs per generation 0/1/2: {gc_runs}; Python's collector over the whole heap)"
    )
    print(f"  idle CPU before        {idle_pct:8.2f} % of one core (the fleet not connected)")
    print(
        f"  memory per connection  {per_conn:8.0f} bytes   "
        f"(RSS {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB"
        + (f"; Python heap (tracemalloc): {traced_per_conn:.0f} bytes" if args.tracemalloc else "")
        + ")"
    )
    print(
        f"  CPU while reporting    {cpu_pct:8.2f} % of one core over {wall1 - wall0:.0f} s "
        f"({rate:.1f} reports/s, every {args.interval:.0f} s per tracker)"
    )
    print(f"  CPU per report         {cpu_us_per_report:8.0f} us (the whole process)")
    result = {
        "connections": args.connections,
        "changes": args.changes,
        "bytes_per_connection": round(per_conn),
        "cpu_percent": round(cpu_pct, 2),
        "cpu_us_per_report": round(cpu_us_per_report),
        "traced_bytes_per_connection": (
            None if traced_per_conn is None else round(traced_per_conn)
        ),
        "reports_per_s": round(rate, 1),
        "idle_cpu_percent": round(idle_pct, 2),
        "gc_cpu_percent": round(gc_s / (wall1 - wall0) * 100, 2),
        "entries": len(entries),
        "entities": entities,
        "open_at_end": open_at_end,
        "loadgen": summary,
    }
    return report(result, info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", "-n", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between reports")
    parser.add_argument(
        "--seconds", "-t", type=float, default=90.0, help="from connecting to the end"
    )
    parser.add_argument("--per-entry", type=int, default=500, help="trackers per listener entry")
    parser.add_argument(
        "--tracemalloc",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trace the Python heap while the fleet connects (traced_bytes_per_connection)",
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the reporting window")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measured")
    parser.add_argument(
        "--changes",
        choices=("position", "parked"),
        default="position",
        help="position: every report moves the tracker and changes its speed (the default); "
        "parked: nothing changes, as for a car in its garage (see tools/bench/loadgen.py)",
    )
    args = parser.parse_args(argv)
    quiet_logging()
    return run_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
