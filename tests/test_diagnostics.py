"""Diagnostics, as the user downloads them: the listener entry's and a tracker device's;
nothing in them identifies or locates anyone."""

from __future__ import annotations

import json
from typing import Any

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

from custom_components.sinotrack.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)

from .conftest import TRACKER_ID
from .helpers import (
    FakeTracker,
    h02_position_frame,
    tracker_device,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


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


async def test_diagnostics_are_redacted(hass: HomeAssistant, bike: Any) -> None:
    entry, tracker = bike
    await tracker.send(h02_position_frame(TID, lat=-23.48349, lon=-46.85975))
    await tracker.read_frame()
    await tracker.send(  # a binary report where the text one was (farther would be held)
        bytes.fromhex("24410601166012454313111623290094060465158502000000fffffbffff0024")
    )
    await tracker.read_frame()
    await tracker.send("*HQ,4106011660,V1,garbage#")
    await tracker.read_nothing()
    diag = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diag)
    for secret in (TID, "2329.0", "4651.5", "-23.48", "-46.85"):
        assert secret not in text
    assert diag["counters"]["hub"]["messages"] == 2
    assert diag["counters"]["codec"]["errors"] >= 1
    assert diag["trackers"][0]["has_fix"] is True
    assert len(diag["recent_frames"]) == 3
    device = tracker_device(hass, entry.entry_id, TID)
    assert device is not None
    device_diag = await async_get_device_diagnostics(hass, entry, device)
    assert TID not in json.dumps(device_diag)
    assert device_diag["tracker"]["battery_percent"] == 100
