"""``python -m tools.soak`` (``scripts/soak``): run the soak test, print its figures and verdict."""

from __future__ import annotations

import argparse
import asyncio
import json

from .soak import soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Soak test: a real Home Assistant, many simulated trackers, chaos."
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="run time (1 h for a release)")
    parser.add_argument("--trackers", type=int, default=200)
    parser.add_argument("--speedup", type=float, default=5.0, help="simulated time compression")
    parser.add_argument("--max-rate", type=float, default=400.0, help="reports/s, all trackers")
    parser.add_argument("--chaos", type=float, default=0.01, help="chance of junk or a drop")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(
        f"soak: {args.trackers} trackers for {args.minutes:g} min (chaos {args.chaos}) "
        "against a real Home Assistant",
        flush=True,
    )
    result = asyncio.run(soak(args))
    ok = (
        result.get("lost") == 0
        and result.get("unhandled") == 0
        and result.get("sink_errors") == 0
        and result.get("final_acknowledged") == args.trackers
        # flat: allow 20 % growth over the warm-up figure (caches, history buffers)
        and result["rss_end_mib"] <= result["rss_start_mib"] * 1.2
    )
    for key, value in result.items():
        print(f"  {key:20} {value}")
    print("soak: " + ("PASSED" if ok else "FAILED"))
    print(json.dumps(result))
    return 0 if ok else 1
