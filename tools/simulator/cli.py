"""``python -m tools.simulator`` (``scripts/simulate``): the command line of the simulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections.abc import Sequence

from .config import ALARM_CHOICES, PROTOCOL_CHOICES, TRANSPORTS, SimConfig
from .h02_frames import ACK_STYLES
from .simulator import Simulator
from .stats import Summary


def parse_args(argv: Sequence[str] | None = None) -> tuple[SimConfig, bool]:
    """The run's configuration, and whether the summary is wanted as JSON."""
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description="Simulated SinoTrack GPS trackers (H02 text, H02 binary, JT/T 808) "
        "driving around Amsterdam, reporting to a tracker port.",
        epilog="JT/T 808 trackers send the ID zero-padded to 12 digits; the integration strips "
        "the zeros, so every tracker shows up under its 10-digit ID.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="listener address (loopback only, see --allow-remote)")
    add("--port", type=int, default=8888)
    add("--trackers", type=int, default=3, help="number of trackers (default 3)")
    add("--protocol", choices=PROTOCOL_CHOICES, default="mixed", help="default: mixed")
    add("--transport", choices=TRANSPORTS, default="tcp")
    add("--duration", type=float, default=300.0, help="seconds to run (default 300)")
    add("--speedup", type=float, default=1.0, help="time compression: intervals / F")
    add("--max-rate", type=float, default=200.0, help="reports per second, in total (200)")
    add("--alarm", choices=ALARM_CHOICES, default="none", help="fire once after start, or random")
    add("--alarm-after", type=float, default=None, help="seconds before an on-demand alarm")
    add("--first-id", type=int, default=4106011600, help="ID of the first tracker (10 digits)")
    add("--seed", type=int, default=None, help="make the routes and alarms repeatable")
    add("--ack-style", choices=ACK_STYLES, default="DONE", help="H02 command answers")
    add("--parked", action="store_true", help="every car stays parked (ignition off)")
    add("--burst", action="store_true", help="report as fast as --max-rate allows")
    add("--chaos", type=float, default=0.0, help="per-frame chance of junk or a dropped link")
    add("--max-reconnects", type=int, default=100, help="per tracker (default 100)")
    add("--allow-remote", action="store_true", help="allow a host that is not loopback")
    add("--quiet", action="store_true", help="print only the summary")
    add("--json", action="store_true", help="the summary as one JSON object (implies --quiet)")
    args = parser.parse_args(argv)
    config = SimConfig(
        host=args.host,
        port=args.port,
        trackers=args.trackers,
        protocol=args.protocol,
        transport=args.transport,
        duration=args.duration,
        speedup=args.speedup,
        max_rate=args.max_rate,
        alarm=args.alarm,
        alarm_after=args.alarm_after,
        first_id=args.first_id,
        seed=args.seed,
        quiet=args.quiet or args.json,
        allow_remote=args.allow_remote,
        ack_style=args.ack_style,
        parked=args.parked,
        burst=args.burst,
        chaos=args.chaos,
        max_reconnects=args.max_reconnects,
    )
    try:
        config.validate()
    except ValueError as err:
        parser.error(str(err))
    return config, args.json


async def _main(config: SimConfig) -> Summary:
    simulator = Simulator(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, simulator.stop)
    return await simulator.run()


def main(argv: Sequence[str] | None = None) -> int:
    config, as_json = parse_args(argv)
    summary = asyncio.run(_main(config))
    print(json.dumps(summary.as_dict()) if as_json else summary.format(), flush=True)
    return summary.exit_code
