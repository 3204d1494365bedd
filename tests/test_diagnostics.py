"""Diagnostics, as the user downloads them: the listener entry's and a tracker device's."""

from __future__ import annotations

# The download's system info imports hassio, whose models cannot be built once freezegun has
# frozen the clock: imported here, before any test freezes it.
import homeassistant.components.hassio  # noqa: F401
import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from .conftest import TRACKER_ID
from .helpers import FakeTracker, tracker_device


@pytest.fixture
async def refusal_seen(tracker_reported: FakeTracker) -> FakeTracker:
    """After the realistic report, a frame the codec refuses, then a heartbeat: its echo says
    the refusal has been counted."""
    await tracker_reported.send(f"*HQ,{TRACKER_ID},V1,garbage#*HQ,{TRACKER_ID},V0#")
    assert await tracker_reported.read_frame() == f"*HQ,{TRACKER_ID},V0#".encode()
    return tracker_reported


@pytest.mark.usefixtures("refusal_seen")
async def test_entry_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
    listener_entry: MockConfigEntry,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, listener_entry)
    # The port is a free one, another in every run.
    assert diagnostics == snapshot(matcher=path_type({"entry.data.port": (int,)}))


@pytest.mark.usefixtures("refusal_seen")
async def test_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
    listener_entry: MockConfigEntry,
) -> None:
    device = tracker_device(hass, listener_entry.entry_id, TRACKER_ID)
    assert device is not None
    diagnostics = await get_diagnostics_for_device(hass, hass_client, listener_entry, device)
    assert diagnostics == snapshot
