"""End to end in a real Home Assistant process: REST config flow, simulator, restart.

Runs ``hass`` from the develop environment (``scripts/develop``'s pinned Home Assistant, created
on first use) on a temporary config folder, with its own HTTP and tracker ports on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import ha_setup  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("socket_enabled")]

PARKED_ID = "4106011700"
DRIVING_FIRST_ID = 4106011600


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


class RealHomeAssistant:
    """One hass process on a temporary folder, driven through its REST API."""

    def __init__(self, config_dir: Path, python: str, http_port: int) -> None:
        self.config_dir = config_dir
        self.python = python
        self.url = f"http://127.0.0.1:{http_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def start(self, *, first: bool) -> None:
        self.proc = ha_setup.start_hass(self.config_dir, python=self.python)
        ha_setup.wait_ready(self.url, proc=self.proc, timeout=240)
        tokens = ha_setup.onboard(self.url) if first else ha_setup.login(self.url)
        ha_setup.wait_running(self.url, tokens.access_token, proc=self.proc, timeout=240)
        self.token = tokens.access_token

    def stop(self) -> None:
        if self.proc is not None:
            ha_setup.stop_hass(self.proc, timeout=60)
            self.proc = None

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return ha_setup.api(self.url, self.token, method, path, body)

    def states(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        return {
            s["entity_id"]: s
            for s in self.api("GET", "/api/states")
            if s["entity_id"].startswith(prefix)
        }


@pytest.fixture(scope="module")
def develop_python() -> str:
    return str(ha_setup.ensure_venv())


@pytest.fixture
def real_ha(tmp_path: Path, develop_python: str) -> Iterator[RealHomeAssistant]:
    http_port = ha_setup.free_port()
    ha_setup.seed_config(
        tmp_path,
        http_port=http_port,
        listener_port=ha_setup.free_port(),
        python=develop_python,
        listener_entry=False,
    )
    ha = RealHomeAssistant(tmp_path, develop_python, http_port)
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


def test_listener_trackers_alarms_immobilizer_and_restart(real_ha: RealHomeAssistant) -> None:
    started = time.monotonic()
    real_ha.start(first=True)
    listener_port = ha_setup.free_port()

    # The listener, through the REST config-flow API.
    flow = real_ha.api("POST", "/api/config/config_entries/flow", {"handler": "sinotrack"})
    assert flow["type"] == "form"
    assert flow["step_id"] == "user"
    result = real_ha.api(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"port": listener_port, "tcp": True, "udp": True},
    )
    assert result["type"] == "create_entry", result
    entry_id = result["result"]["entry_id"]
    _until(lambda: ha_setup.port_status(listener_port) == (True, True), 30, "the tracker port")

    # Option new_trackers through the options flow.
    options = real_ha.api("POST", "/api/config/config_entries/options/flow", {"handler": entry_id})
    result = real_ha.api(
        "POST",
        f"/api/config/config_entries/options/flow/{options['flow_id']}",
        {"new_trackers": "add", "offline_after": 10, "max_connections": 500},
    )
    assert result["type"] == "create_entry", result

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
        trackers = _until(
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
        alarm = _until(
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
        switch = _until(
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
    real_ha.start(first=False)
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
