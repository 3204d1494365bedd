"""A refused engine cut is the user's error: Home Assistant logs it as a validation error, and
``python -m tools.devenv check-log`` tells that line from a real error, on 2025.4 and 2026.10."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from tools.devenv import check_log

from .helpers import FakeTracker, entity_id, free_port, h02_position_frame, setup_listener

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
# home-assistant.log's format (homeassistant/bootstrap.py, the same on both versions).
LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s (%(threadName)s) [%(name)s] %(message)s"
LOG_DATES = "%Y-%m-%d %H:%M:%S"


def write_log(path: Path, records: list[logging.LogRecord], *extra: str) -> None:
    formatter = logging.Formatter(LOG_FORMAT, datefmt=LOG_DATES)
    lines = [formatter.format(record) for record in records] + list(extra)
    (path / "home-assistant.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_refused_engine_cut_is_a_validation_error_in_the_log(
    hass: HomeAssistant,
    hass_ws_client: Any,
    hass_client: Any,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    assert await async_setup_component(hass, "api", {})
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, speed_knots=27.0, status="FFFFFFFF"))  # 50 km/h
    await tracker.read_frame()
    switch = entity_id(hass, "switch", f"{TID}_immobilizer")

    # The UI: the websocket API.
    caplog.clear()
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": "switch",
            "service": "turn_on",
            "service_data": {"entity_id": switch},
        }
    )
    answer = await client.receive_json()
    assert answer["success"] is False
    assert answer["error"]["code"] == "service_validation_error"
    assert answer["error"]["translation_key"] == "interlock_speed"
    (logged,) = errors(caplog)  # one line, not "Unexpected exception" and a traceback
    assert logged.name == "homeassistant.components.websocket_api.http.connection"
    assert logged.exc_info is None
    assert "Engine cut refused: Car is moving at 50 km/h" in logged.getMessage()
    websocket_records = errors(caplog)

    # A script: the REST API (2025.4 answers 500 with a traceback in the log, 2026.10 400).
    caplog.clear()
    rest = await hass_client()
    response = await rest.post("/api/services/switch/turn_on", json={"entity_id": switch})
    assert response.status in (400, 500)
    rest_records = errors(caplog)
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)

    # check-log: the refusals are no problem; a real error next to them still is.
    real = (
        "2026-11-24 10:00:00.000 ERROR (MainThread) "
        "[homeassistant.components.websocket_api.http.connection] [1407] Unexpected exception"
    )
    ours = (
        "2026-11-24 10:00:01.000 ERROR (MainThread) [custom_components.sinotrack.hub] Boom: "
        "Engine cut refused: Car is moving at 50 km/h (the limit is 20 km/h)."
    )
    write_log(tmp_path, websocket_records + rest_records)
    assert check_log(tmp_path) == []
    write_log(tmp_path, websocket_records + rest_records, real, ours)
    assert check_log(tmp_path) == [real, ours]


def test_check_log_reads_a_traceback_as_one_record(tmp_path: Path) -> None:
    """2025.4's REST API: a traceback ending in our ServiceValidationError is no problem; one
    ending in anything else is."""
    head = (
        "2026-11-24 10:00:00.000 ERROR (MainThread) [aiohttp.server] Error handling request "
        "from 127.0.0.1"
    )
    refused = [
        head,
        "Traceback (most recent call last):",
        '  File "switch.py", line 61, in async_turn_on',
        "homeassistant.exceptions.ServiceValidationError: Engine cut refused: the latest report "
        "of Car is 5 minutes old and does not show the ignition off.",
    ]
    crashed = [head, "Traceback (most recent call last):", "KeyError: 'speed'"]
    (tmp_path / "home-assistant.log").write_text("\n".join(refused + crashed) + "\n", "utf-8")
    assert check_log(tmp_path) == [head]
