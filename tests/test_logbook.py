"""The logbook of a drive, with the recorder and the logbook loaded: changes and alarms only."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import mock_component
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from tools.simulator import SimConfig, Simulator

from .helpers import free_port, setup_listener

pytestmark = pytest.mark.usefixtures("socket_enabled")

DRIVE_S = 600.0  # simulated seconds: ten minutes of driving, a report every 10 s
SPEEDUP = 100.0


async def logbook(hass: HomeAssistant, hass_client: Any, since: Any) -> list[dict[str, Any]]:
    """The logbook as the Activity panel reads it (REST API), from ``since`` until now."""
    await async_wait_recording_done(hass)
    client = await hass_client()
    response = await client.get(
        f"/api/logbook/{since.isoformat()}", params={"end_time": dt_util.utcnow().isoformat()}
    )
    assert response.status == 200
    entries: list[dict[str, Any]] = await response.json()
    return entries


async def test_a_drive_logs_changes_and_alarms_not_every_report(
    recorder_mock: Any, hass: HomeAssistant, hass_client: Any
) -> None:
    mock_component(hass, "frontend")  # the logbook's panel needs it; the test venv has no UI
    assert await async_setup_component(hass, "logbook", {})
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="add")
    since = dt_util.utcnow()
    sim = Simulator(
        SimConfig(
            port=port,
            trackers=1,
            protocol="h02",
            duration=DRIVE_S / SPEEDUP,
            speedup=SPEEDUP,
            seed=3,
            alarm="vibration",
            alarm_after=2.0,
        )
    )
    summary = await sim.run()
    assert summary.errors == 0, summary.error_samples
    reports = summary.total_reports
    assert reports >= 20  # about 60: a report every 10 simulated seconds (fewer on a busy machine)

    entries = [e for e in await logbook(hass, hass_client, since) if "entity_id" in e]
    ours = Counter(
        e["entity_id"] for e in entries if e["entity_id"].split(".")[1].startswith("sinotrack_")
    )
    # The alarm and the state changes a person cares about are there ...
    assert any(entity.startswith("event.") and entity.endswith("_alarm") for entity in ours)
    assert any(entity.endswith(("_moving", "_ignition")) for entity in ours)
    # ... and nothing logs every report: no "Last seen" line per message.
    assert not [entity for entity in ours if entity.endswith("_last_seen")]
    assert max(ours.values()) < reports / 4, ours
    await hass.config_entries.async_unload(entry.entry_id)
