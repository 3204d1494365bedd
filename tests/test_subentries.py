"""Tracker subentries: the names new trackers get, one map marker each."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant

from custom_components.sinotrack.subentries import default_tracker_name, map_marker

from .helpers import (
    FakeTracker,
    free_port,
    h02_position_frame,
    setup_listener,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


async def test_new_trackers_get_names_with_different_map_markers(hass: HomeAssistant) -> None:
    """Three trackers of one batch, added by themselves: one marker each on the map."""
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="add", trackers=[("555", "Scooter")])
    tracker = await FakeTracker(port).connect()
    for tracker_id in ("4106011600", "4106011601", "4106011602"):
        await tracker.send(h02_position_frame(tracker_id))
        await tracker.read_frame()
        await hass.async_block_till_done()
    await tracker.close()
    names = sorted(sub.title for sub in entry.subentries.values())
    assert names == ["Scooter", "SinoTrack A 1600", "SinoTrack B 1601", "SinoTrack C 1602"]
    assert [map_marker(name) for name in names] == ["S", "SA1", "SB1", "SC1"]
    # The map shows each device_tracker's friendly name as those initials.
    shown = {map_marker(state.name) for state in hass.states.async_all("device_tracker")}
    assert shown == {"S", "SA1", "SB1", "SC1"}
    await hass.config_entries.async_unload(entry.entry_id)


def test_map_markers_as_the_frontend_draws_them() -> None:
    """ha-map: name.split(" "), first character of each part, substr(0, 3)."""
    assert map_marker("SinoTrack 1600") == map_marker("SinoTrack 1601") == "S1"  # the old names
    assert map_marker("Paulus Schoutsen") == "PS"
    assert map_marker("My  old car here") == "Moc"
    names = ["SinoTrack 1600"]
    for _ in range(30):
        names.append(default_tracker_name("4106011600", names))
    markers = [map_marker(name) for name in names[:27]]
    assert len(set(markers)) == 27  # 26 letters, and the old-style name
    assert names[27:] == ["SinoTrack 1600"] * 4  # no letter left: the ID alone
