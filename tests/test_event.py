"""The event platform: the alarm entity after a realistic report and an alarm."""

from __future__ import annotations

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from .conftest import TRACKER_ID
from .helpers import FakeTracker, h02_position_frame


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
