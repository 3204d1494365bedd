"""The stage of the pictures: a real Home Assistant and simulated trackers, and their teardown.

``Run`` holds everything started, so that ``teardown`` stops it (bounded, also on errors):
``hass`` on a temporary config folder with free ports (``tools.devenv``: the owner dev/dev
through onboarding, a listener through the config flow), and two simulator processes: three
trackers of mixed protocols driving around Amsterdam, each raising a vibration alarm, plus one
parked H02 tracker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tools import REPO, devenv

DRIVING_FIRST_ID = 4106011600  # three trackers, mixed protocols; the first one is H02 text
PARKED_ID = 4106011700  # one parked H02 tracker
DEVICE_TAIL = "_1600"  # the device page shown: "SinoTrack <letter> 1600", letter by arrival


class PageError(RuntimeError):
    """A page did not show what it should."""


class Interrupted(Exception):
    """SIGTERM / SIGINT / SIGHUP or the overall time limit: tear down and stop."""


def log(message: str) -> None:
    print(f"screenshot: {message}", file=sys.stderr, flush=True)


def stop_process(proc: subprocess.Popen[bytes] | None, first: int, grace: float) -> None:
    """Signal the process group of ``proc`` (started in its own session), then kill it."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):  # helpers (e.g. Chromium's) left behind
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


@dataclass
class Run:
    """Everything started, so that teardown can stop it."""

    work: Path
    python: str
    http_port: int = field(default_factory=devenv.free_port)
    listener_port: int = 0
    ha: devenv.Instance | None = None
    simulators: list[subprocess.Popen[bytes]] = field(default_factory=list)
    chromium: subprocess.Popen[bytes] | None = None
    logs: list[IO[bytes]] = field(default_factory=list)
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def config_dir(self) -> Path:
        return self.work / "config"

    def open_log(self, name: str) -> IO[bytes]:
        handle = open(self.work / name, "wb")  # noqa: SIM115 (closed in teardown)
        self.logs.append(handle)
        return handle

    def states(self, prefix: str) -> dict[str, dict[str, Any]]:
        if self.ha is None:
            raise RuntimeError("Home Assistant is not started")
        return self.ha.states(prefix)

    def teardown(self) -> None:
        stop_process(self.chromium, signal.SIGTERM, 5)
        for proc in self.simulators:
            stop_process(proc, signal.SIGINT, 10)  # prints its summary to its log
        if self.ha is not None:  # SIGTERM, SIGKILL after 60 s
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.ha.stop(timeout=60)
        for handle in self.logs:
            handle.close()


def start_home_assistant(run: Run) -> None:
    devenv.seed_config(run.config_dir, http_port=run.http_port, python=run.python)
    log(f"starting Home Assistant on {run.url} (config {run.config_dir})")
    run.ha = devenv.Instance(run.config_dir, run.python, http_port=run.http_port)
    if not run.ha.start(timeout=240):
        raise RuntimeError("the fresh config folder was already onboarded")
    run.listener_port = devenv.free_port()
    devenv.add_listener(run.url, run.ha.token, port=run.listener_port)
    run.token = devenv.create_long_lived_token(run.url, run.ha.token, lifespan_days=1)
    devenv.until(
        lambda: devenv.port_status(run.listener_port) == (True, True),
        60,
        f"the tracker listener on port {run.listener_port}",
    )


def simulate(run: Run, name: str, *args: str) -> None:
    cmd = [sys.executable, "-m", "tools.simulator", "--port", str(run.listener_port), *args]
    run.simulators.append(
        subprocess.Popen(
            cmd,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=run.open_log(f"{name}.log"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )


def start_trackers(run: Run, duration: int) -> None:
    log("simulating 3 driving trackers and 1 parked tracker around Amsterdam")
    common = ("--duration", str(duration), "--speedup", "10", "--quiet")
    simulate(
        run,
        "simulator-driving",
        *("--trackers", "3", "--protocol", "mixed", "--seed", "7"),
        *("--first-id", str(DRIVING_FIRST_ID), "--alarm", "vibration", "--alarm-after", "5"),
        *common,
    )
    simulate(
        run,
        "simulator-parked",
        *("--trackers", "1", "--protocol", "h02", "--parked", "--first-id", str(PARKED_ID)),
        *common,
    )


def wait_for_trackers(run: Run, drive_time: float) -> None:
    def on_map() -> list[str] | None:
        for proc in run.simulators:
            if proc.poll() is not None:
                raise RuntimeError(f"the simulator exited early with code {proc.returncode}")
        located = [
            entity_id
            for entity_id, state in run.states("device_tracker.sinotrack_").items()
            if state["attributes"].get("latitude") is not None
        ]
        return located if len(located) >= 4 else None

    def alarm() -> bool:
        event = [s for e, s in run.states("event.sinotrack_").items() if DEVICE_TAIL in e]
        return any(s["attributes"].get("event_type") == "vibration" for s in event)

    started = time.monotonic()
    located = devenv.until(on_map, 90, "four trackers on the map")
    log(f"on the map: {', '.join(sorted(located))}")
    devenv.until(alarm, 60, f"the vibration alarm of tracker …{DEVICE_TAIL[1:]}")
    rest = drive_time - (time.monotonic() - started)
    if rest > 0:
        log(f"letting the trackers drive apart for {rest:.0f} s")
        time.sleep(rest)
