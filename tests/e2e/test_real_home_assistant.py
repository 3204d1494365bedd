"""End to end in a real Home Assistant process: REST config flow, simulator, restart.

Runs ``hass`` from the develop environment of the Home Assistant version under test
(``scripts/develop``'s pinned 2025.4 or 2026.10, created on first use) on a temporary config
folder, with its own HTTP and tracker ports on 127.0.0.1, brought up by the same code as
``scripts/develop`` (``tools.devenv``): the owner through the onboarding API, the listener entry
and its options through the config-flow REST API.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION

from tools import devenv

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("socket_enabled")]

ROOT = Path(__file__).resolve().parents[2]
PARKED_ID = "4106011700"
DRIVING_FIRST_ID = 4106011600


@pytest.fixture(scope="module")
def develop_python() -> str:
    """The develop environment of the Home Assistant this suite runs on (2025.4 or 2026.10)."""
    return str(devenv.ensure_venv(oldest=(MAJOR_VERSION, MINOR_VERSION) < (2026, 1)))


@pytest.fixture
def real_ha(tmp_path: Path, develop_python: str) -> Iterator[devenv.Instance]:
    ha = devenv.Instance(tmp_path, develop_python)
    devenv.seed_config(tmp_path, http_port=ha.http_port, python=develop_python)
    try:
        yield ha
    finally:
        ha.stop()


def _simulate(port: int, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tools.simulator", "--port", str(port), "--json", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _finish(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout)
    lines = out.decode(errors="replace").strip().splitlines()
    assert proc.returncode == 0, lines[-20:]
    return dict(json.loads(lines[-1]))


def test_listener_trackers_alarms_immobilizer_and_restart(real_ha: devenv.Instance) -> None:
    started = time.monotonic()
    assert real_ha.start()  # the owner, created through the onboarding API
    steps = devenv.wait_ready(real_ha.url)  # onboarding finished: no step left open
    assert steps is None or all(step["done"] for step in steps), steps
    listener_port = devenv.free_port()

    # The listener through the config flow, its options through the options flow.
    options = {"new_trackers": "add", "offline_after": 10, "max_connections": 500}
    entry_id = devenv.add_listener(real_ha.url, real_ha.token, port=listener_port, options=options)
    (entry,) = devenv.listener_entries(real_ha.url, real_ha.token)
    assert (entry["entry_id"], entry["state"]) == (entry_id, "loaded")
    devenv.until(lambda: devenv.port_status(listener_port) == (True, True), 30, "the tracker port")
    with pytest.raises(devenv.FlowError, match="already listens on this port"):
        devenv.add_listener(real_ha.url, real_ha.token, port=listener_port)

    # Trackers of every protocol driving around, one with an alarm; one parked H02 tracker.
    driving = _simulate(
        listener_port,
        "--trackers",
        "3",
        "--protocol",
        "mixed",
        "--duration",
        "25",
        "--speedup",
        "10",
        "--alarm",
        "vibration",
        "--alarm-after",
        "4",
        "--seed",
        "1",
        "--first-id",
        str(DRIVING_FIRST_ID),
    )
    parked = _simulate(
        listener_port,
        "--trackers",
        "1",
        "--protocol",
        "h02",
        "--parked",
        "--duration",
        "40",
        "--speedup",
        "10",
        "--first-id",
        PARKED_ID,
    )
    try:
        trackers = devenv.until(
            lambda: (
                [
                    s
                    for s in real_ha.states("device_tracker.sinotrack_").values()
                    if s["attributes"].get("latitude") is not None
                ]
                if len(real_ha.states("device_tracker.sinotrack_")) >= 4
                else None
            ),
            60,
            "four trackers on the map",
        )
        assert len(trackers) >= 4
        for state in trackers:
            assert 52.2 < state["attributes"]["latitude"] < 52.5  # around Amsterdam
            assert 4.7 < state["attributes"]["longitude"] < 5.1
        speeds = real_ha.states("sensor.sinotrack_")
        assert any(
            k.endswith("_speed") and v["state"] not in ("unknown", "unavailable")
            for k, v in speeds.items()
        )
        alarm = devenv.until(
            lambda: next(
                (
                    s
                    for s in real_ha.states("event.sinotrack_").values()
                    if s["attributes"].get("event_type") == "vibration"
                ),
                None,
            ),
            60,
            "a vibration alarm event",
        )
        assert alarm["attributes"]["delayed"] is False

        # Immobilizer round trip with the parked tracker: confirmed by the tracker, not guessed.
        # Default names are "SinoTrack <letter> <last 4 digits>", the letter in order of arrival.
        switch = devenv.until(
            lambda: next(
                (e for e in real_ha.states("switch.") if e.endswith("_1700_immobilizer")), None
            ),
            30,
            "the immobilizer switch",
        )
        immobilized = switch.replace("switch.", "binary_sensor.").replace(
            "_immobilizer", "_immobilized"
        )
        real_ha.api("POST", "/api/services/switch/turn_on", {"entity_id": switch})
        assert real_ha.states("switch.")[switch]["state"] == "on"
        assert real_ha.states("binary_sensor.")[immobilized]["state"] == "on"
        real_ha.api("POST", "/api/services/switch/turn_off", {"entity_id": switch})
        assert real_ha.states("switch.")[switch]["state"] == "off"

        summary = _finish(driving, 90)
        assert summary
        _finish(parked, 90)
    finally:
        for proc in (driving, parked):
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # Restart: the last positions are there before any tracker reconnects.
    before = {
        k: (v["attributes"]["latitude"], v["attributes"]["longitude"])
        for k, v in real_ha.states("device_tracker.sinotrack_").items()
    }
    real_ha.stop()
    assert not real_ha.start()  # the owner exists: a login
    after = {
        k: (v["attributes"].get("latitude"), v["attributes"].get("longitude"))
        for k, v in real_ha.states("device_tracker.sinotrack_").items()
    }
    assert after == before
    real_ha.stop()
    # Well-formed traffic: nothing of ours above info in either run's log.
    for log in ("home-assistant.log.1", "home-assistant.log"):
        text = (real_ha.config_dir / log).read_text(encoding="utf-8", errors="replace")
        ours = [
            line
            for line in text.splitlines()
            if "custom_components.sinotrack" in line
            and (" WARNING " in line or " ERROR " in line)
            and "has not been tested by Home Assistant" not in line
        ]
        assert not ours, ours
    assert time.monotonic() - started < 600
