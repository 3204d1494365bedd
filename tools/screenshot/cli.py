"""``python -m tools.screenshot`` (``scripts/screenshot``): the pictures, in a bounded time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from tools import REPO, devenv

from .pictures import take_form_pictures, take_pictures
from .stage import Interrupted, Run, log, start_home_assistant, start_trackers, wait_for_trackers


@contextlib.contextmanager
def interruptible(limit: float) -> Iterator[None]:
    """Turn SIGTERM/SIGINT/SIGHUP and the overall time ``limit`` into ``Interrupted``."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(
            "time limit reached" if signum == signal.SIGALRM else signal.Signals(signum).name
        )

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM)
    previous = {signum: signal.signal(signum, interrupt) for signum in signals}
    signal.alarm(max(1, int(limit)))
    try:
        yield
    finally:
        signal.alarm(0)
        for signum in signals:  # teardown runs to its end (it is bounded by itself)
            signal.signal(signum, signal.SIG_IGN if signum != signal.SIGALRM else previous[signum])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/screenshot",
        description="Save PNGs of the map and of a tracker's device page in a real Home "
        "Assistant fed by the tracker simulator (headless Chromium).",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "images", help="folder for the PNGs"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (config, logs, Chromium profile) for inspection",
    )
    parser.add_argument("--python", help="Python of a venv with Home Assistant (default: develop)")
    parser.add_argument(
        "--drive", type=float, default=20, help="seconds the trackers drive before the pictures"
    )
    parser.add_argument("--settle", type=float, default=3, help="seconds to let a page render")
    parser.add_argument(
        "--timeout", type=float, default=600, help="overall time limit in seconds (600)"
    )
    parser.add_argument(
        "--forms",
        action="store_true",
        help="instead: the first dialog, the Reconfigure dialog and the send_command form "
        "(form-*.png), failing on a translation error",
    )
    args = parser.parse_args(argv)
    out = args.out.resolve()
    python = args.python or str(devenv.ensure_venv())
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="sinotrack-screenshot-"))
    run = Run(work=work, python=python)
    pictures: list[Path] = []
    code = 1
    try:
        with interruptible(args.timeout):
            start_home_assistant(run)
            if args.forms:
                pngs = asyncio.run(take_form_pictures(run, args.settle))
            else:
                start_trackers(run, duration=int(args.timeout))
                wait_for_trackers(run, args.drive)
                pngs = asyncio.run(take_pictures(run, args.settle))
            out.mkdir(parents=True, exist_ok=True)
            for name, data in pngs.items():
                (out / name).write_bytes(data)
                pictures.append(out / name)
            code = 0
    except (Interrupted, TimeoutError, RuntimeError, OSError, devenv.HttpError) as err:
        # PageError is a RuntimeError: a form with a translation error ends here too.
        log(f"failed: {type(err).__name__}: {err}")
        if not args.keep:
            log("(run with --keep to keep the logs)")
    finally:
        log("tearing down")
        run.teardown()
        problems = [
            line
            for line in devenv.check_log(run.config_dir)
            if "custom_components.sinotrack" in line
        ]
        for line in problems:
            log(f"home-assistant.log: {line}")
        if args.keep:
            log(f"kept {work} (config/, home-assistant.log, simulator and chromium logs)")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if code == 0:
        log(f"done in {time.monotonic() - started:.0f} s")
        for path in pictures:
            print(path)
    return code
