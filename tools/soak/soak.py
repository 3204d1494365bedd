"""The soak test (``scripts/soak``): a real Home Assistant, many trackers, chaos, a long time.

Starts ``hass`` (the develop environment) on a temporary folder with its own ports, runs the
simulator against it (every protocol, random disconnects, garbage and alarms), samples the memory
of the Home Assistant process, then proves nothing was lost: every tracker sends one last report,
waits for its acknowledgement, and that report must be what Home Assistant shows. Prints the
figures and, as its last line, one JSON object. Exit status 0 when everything held.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from tools import devenv
from tools.simulator import SimConfig, run

from .probes import FIRST_ID, final_round, rss_mib


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    python = str(devenv.ensure_venv())
    config_dir = Path(tempfile.mkdtemp(prefix="sinotrack-soak-"))
    ha = devenv.Instance(config_dir, python)
    devenv.seed_config(config_dir, http_port=ha.http_port, python=python)
    listener_port = devenv.free_port()
    url = ha.url
    result: dict[str, Any] = {"minutes": args.minutes, "trackers": args.trackers}
    try:
        await asyncio.to_thread(ha.start, 300)  # its websocket calls run an event loop of their own
        options = {"new_trackers": "add", "offline_after": 10, "max_connections": 1000}
        entry_id = devenv.add_listener(url, ha.token, port=listener_port, options=options)
        token = await asyncio.to_thread(devenv.create_long_lived_token, url, ha.token)
        config = SimConfig(
            port=listener_port,
            trackers=args.trackers,
            protocol="mixed",
            duration=args.minutes * 60,
            speedup=args.speedup,
            max_rate=args.max_rate,
            alarm="random",
            chaos=args.chaos,
            seed=args.seed,
        )
        pid = ha.proc.pid if ha.proc is not None else 0
        simulation = asyncio.create_task(run(config))
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        while not simulation.done():
            await asyncio.wait({simulation}, timeout=min(30.0, args.minutes * 6))
            elapsed = time.monotonic() - started
            samples.append((elapsed, rss_mib(pid)))
            print(f"  {elapsed:6.0f} s  Home Assistant RSS {samples[-1][1]:7.1f} MiB", flush=True)
        summary = simulation.result()
        ids = [str(FIRST_ID + k) for k in range(args.trackers)]
        acknowledged = await asyncio.to_thread(final_round, listener_port, ids)
        await asyncio.sleep(1)
        states = {
            s["entity_id"]: s
            for s in devenv.api(url, token, "GET", "/api/states")
            if s["entity_id"].startswith("device_tracker.")
        }
        # Default names are "SinoTrack <letter> <last 4 digits>": find each by its digits.
        by_tail = {
            entity_id.rsplit("_", 1)[-1]: state
            for entity_id, state in states.items()
            if entity_id.startswith("device_tracker.sinotrack_")
        }
        lost = 0
        for tracker_id, (lat, lon) in acknowledged.items():
            state = by_tail.get(tracker_id[-4:])
            shown = state and (
                state["attributes"].get("latitude"),
                state["attributes"].get("longitude"),
            )
            if not shown or abs(shown[0] - lat) > 1e-5 or abs(shown[1] - lon) > 1e-5:
                lost += 1
        diag = devenv.api(url, token, "GET", f"/api/diagnostics/config_entry/{entry_id}")
        counters = diag["data"]["counters"]
        replies = sum(summary.replies_received.values())
        handled = counters["hub"]["messages"]
        # Warm-up: the first sample after a tenth of the run (trackers added, caches filled).
        warm = next((rss for t, rss in samples if t >= args.minutes * 6), samples[0][1])
        problems = devenv.check_log(config_dir)
        result.update(
            reports=summary.total_reports,
            replies_received=replies,
            messages_handled=handled,
            reconnects=summary.reconnects,
            garbage_sent=summary.garbage_sent,
            alarms_sent=sum(summary.alarms_sent.values()),
            decode_errors=counters["codec"]["errors"],
            sink_errors=counters["listener"]["sink_errors"],
            final_acknowledged=len(acknowledged),
            lost=lost + max(0, replies - handled),
            rss_start_mib=round(warm, 1),
            rss_end_mib=round(samples[-1][1], 1),
            unhandled=len([p for p in problems if "Traceback" in p or "ERROR" in p]),
            log_problems=problems[:5],
        )
    finally:
        ha.stop(timeout=60)
    return result
