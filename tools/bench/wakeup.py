"""Where a report's CPU goes when it wakes an idle process: ``scripts/bench wakeup``.

At a real fleet's pace (``bench scale``: 2,000 trackers, 67 reports/s) every report arrives at an
idle Home Assistant and costs it about four times what it costs under a flood. This benchmark
tells where that goes, without the sockets and their noise. In this process, the trackers'
reports (the load generator's frames) go one at a time through the listener's codec and
``TrackerServer.dispatch``, the hub, the trackers, the entities and their state writes (all that
the socket's callback runs), each after ``--gap`` seconds asleep (``cold``; 15 ms, about
``scale``'s pace) or back to back (``hot``). Measured: the thread's CPU time around the report
alone (its frame is built before). The same for the decoding alone (``codec.feed``), and for the
anchor (``tools.bench.anchor``: plain entities writing the same state changes, what Home
Assistant itself costs for them). The sections take turns, round by round; the figures are the
medians of the rounds.

The JSON line: ``cold_us`` and ``hot_us`` per section (``decode``, ``integration``, ``anchor``),
``cold_ours_us`` (the integration less the anchor, cold), ``cold_vs_anchor`` and
``hot_vs_anchor``, ``wakeup_factor`` (the integration cold / hot).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from tools import devenv

from . import loadgen
from .anchor import AnchorWriter, anchor_writer
from .harness import (
    StateWatch,
    entity_ids,
    flush_stores,
    home_assistant,
    machine,
    nowhere_peer,
    quiet_logging,
    report,
    run_main,
    setup_integration,
)

SECTIONS = ("decode", "integration", "anchor")


class Fleet:
    """The trackers' reports, each tracker with its codec and a peer whose replies go nowhere."""

    def __init__(self, server: Any, trackers: int, changes: str) -> None:
        self.server = server
        self.clock = loadgen.Clock()
        self.clock.update()
        self.conns = [loadgen.Conn(i, None, changes) for i in range(trackers)]  # type: ignore[arg-type]
        self.peers = [nowhere_peer(server.new_codec(b"*HQ,")[0]) for _ in range(trackers)]
        self.sent = [0] * trackers  # reports per tracker, for the anchor's values
        self.next = 0

    def frame(self) -> tuple[int, bytes]:
        """The next tracker (round robin) and its next report."""
        index = self.next
        self.next = (index + 1) % len(self.conns)
        self.clock.update()
        return index, self.conns[index].report(self.clock)

    def decode(self, index: int, frame: bytes) -> None:
        self.peers[index].codec.feed(frame)

    def integration(self, index: int, frame: bytes) -> None:
        peer = self.peers[index]
        self.server.dispatch(peer.codec.feed(frame), peer)

    def anchor(self, writer: AnchorWriter) -> Callable[[int, bytes], None]:
        def write(index: int, frame: bytes) -> None:
            writer.write(index, self.sent[index])
            self.sent[index] += 1

        return write


def cold_us(run: Callable[[int, bytes], None], fleet: Fleet, reports: int, gap: float) -> float:
    """CPU per report, each report after ``gap`` seconds asleep (the loop blocked: nothing else
    runs in between, as in an idle Home Assistant)."""
    total = 0.0
    for _ in range(reports):
        index, frame = fleet.frame()
        time.sleep(gap)
        start = time.thread_time()
        run(index, frame)
        total += time.thread_time() - start
    return total / reports * 1e6


def hot_us(run: Callable[[int, bytes], None], fleet: Fleet, reports: int) -> float:
    """CPU per report, the reports back to back (their frames built before)."""
    frames = [fleet.frame() for _ in range(reports)]
    start = time.thread_time()
    for index, frame in frames:
        run(index, frame)
    return (time.thread_time() - start) / reports * 1e6


async def bench(args: argparse.Namespace) -> int:
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="sinotrack-bench-") as config_dir:
        async with home_assistant(config_dir) as hass:
            entry = await setup_integration(hass, devenv.free_port(), args.trackers)
            watch = StateWatch()
            watch.watched.update(entity_ids(hass, entry).values())
            unsub = watch.attach(hass)
            fleet = Fleet(entry.runtime_data.server, args.trackers, args.changes)
            hot_us(fleet.integration, fleet, args.trackers * 3)  # every entity has its state
            writes0 = watch.writes
            hot_us(fleet.integration, fleet, args.trackers * 10)
            per_report = (watch.writes - writes0) / (args.trackers * 10)
            await hass.async_block_till_done()
            # Reports that write nothing (a parked fleet) have no anchor: Home Assistant does
            # nothing for them, all of their cost is the integration's.
            sections = SECTIONS if per_report >= 1 else SECTIONS[:2]
            async with anchor_writer(hass, args.trackers, per_report, watch) as writer:
                runs = {
                    "decode": fleet.decode,
                    "integration": fleet.integration,
                    "anchor": fleet.anchor(writer),
                }
                if "anchor" in sections:
                    hot_us(runs["anchor"], fleet, args.trackers * 3)
                await flush_stores(hass)  # the registries' delayed writes, not in a section
                cold: dict[str, list[float]] = {name: [] for name in sections}
                hot: dict[str, list[float]] = {name: [] for name in sections}
                for _ in range(args.rounds):
                    for name in sections:
                        gc.collect()
                        cold[name].append(cold_us(runs[name], fleet, args.reports, args.gap))
                        await hass.async_block_till_done()
                        gc.collect()
                        hot[name].append(hot_us(runs[name], fleet, args.reports * 10))
                        await hass.async_block_till_done()
            unsub()

    cold_m = {name: statistics.median(values) for name, values in cold.items()}
    hot_m = {name: statistics.median(values) for name, values in hot.items()}
    info = machine()
    print(
        f"Home Assistant {info['home_assistant']}, Python {info['python']}, "
        f"{info['cpus']} x {info['cpu_model']}"
    )
    print(
        f"{args.trackers} trackers, {per_report:.3f} state writes per report; medians of "
        f"{args.rounds} rounds of {args.reports} reports each {args.gap * 1000:.0f} ms apart "
        f"(cold) and {args.reports * 10} back to back (hot)"
    )
    print(f"  {'':12s} {'cold us':>9s} {'hot us':>9s} {'cold/hot':>9s}")
    for name in sections:
        print(
            f"  {name:12s} {cold_m[name]:9.1f} {hot_m[name]:9.1f} "
            f"{cold_m[name] / hot_m[name]:9.1f}"
            f"   (cold rounds: {', '.join(f'{v:.0f}' for v in cold[name])})"
        )
    anchor_cold, anchor_hot = cold_m.get("anchor"), hot_m.get("anchor")
    ours = cold_m["integration"] - (anchor_cold or 0.0)
    print(f"  the integration's own part, cold: {ours:.1f} us (the integration less the anchor)")
    result = {
        "trackers": args.trackers,
        "gap_s": args.gap,
        "writes_per_report": round(per_report, 3),
        "cold_us": {name: round(v, 1) for name, v in cold_m.items()},
        "hot_us": {name: round(v, 1) for name, v in hot_m.items()},
        "cold_ours_us": round(ours, 1),
        "cold_vs_anchor": (
            round(cold_m["integration"] / anchor_cold, 3) if anchor_cold is not None else None
        ),
        "hot_vs_anchor": (
            round(hot_m["integration"] / anchor_hot, 3) if anchor_hot is not None else None
        ),
        "wakeup_factor": round(cold_m["integration"] / hot_m["integration"], 2),
    }
    return report(result, info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", "-m", type=int, default=100)
    parser.add_argument(
        "--gap", type=float, default=0.015, help="seconds asleep before each cold report"
    )
    parser.add_argument("--reports", type=int, default=150, help="cold reports per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--changes",
        choices=("all", "position", "parked"),
        default="position",
        help="what each report changes (see tools/bench/loadgen.py; parked: nothing, so no anchor)",
    )
    args = parser.parse_args(argv)
    quiet_logging()
    return run_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
