"""The event platform: the alarm entity after a realistic report and an alarm; alarms fire on
their edges only."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from .conftest import TRACKER_ID
from .helpers import (
    FakeTracker,
    entity_id,
    h02_position_frame,
    states_written,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.EVENT]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_event(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    listener_entry: MockConfigEntry,
    tracker_reported: FakeTracker,
) -> None:
    # The next report has the SOS bit (bit 1, active low): one event, with the report's fix.
    await tracker_reported.send(
        h02_position_frame(TRACKER_ID, speed_knots=27.0, course=90, status="FFFFFFFD")
    )
    assert (await tracker_reported.read_frame()).startswith(f"*HQ,{TRACKER_ID},V4,V1,".encode())
    await snapshot_platform(hass, entity_registry, snapshot, listener_entry.entry_id)


async def test_alarm_fires_on_edges_only(hass: HomeAssistant, bike: Any) -> None:
    _, tracker = bike
    events = states_written(hass, entity_id(hass, "event", f"{TID}_alarm"))
    vibrating = "FFFFFBFE"  # bit 0 active (active-low)
    for status in (vibrating, vibrating, "FFFFFBFF", vibrating):
        await tracker.send(h02_position_frame(TID, status=status, speed_knots=3.0))
        await tracker.read_frame()
    await hass.async_block_till_done()
    assert [e.attributes["event_type"] for e in events] == ["vibration", "vibration"]
    data = events[0].attributes
    assert data["delayed"] is False
    assert data["fix_latitude"] == pytest.approx(50.58855, abs=1e-5)
    assert data["fix_longitude"] == pytest.approx(4.53035, abs=1e-5)
    # No latitude/longitude: the map would draw the alarm as a second marker of the tracker.
    assert "latitude" not in data
    assert "longitude" not in data
    assert data["speed"] == pytest.approx(5.556, abs=0.01)
    assert "fix_time" in data
    # Several alarms at once (SOS + power cut) fire one event each.
    await tracker.send(h02_position_frame(TID, status="FFF7FBFD"))
    await tracker.read_frame()
    await hass.async_block_till_done()
    assert sorted(e.attributes["event_type"] for e in events[2:]) == ["power_cut", "sos"]
