"""The stored command queue is read back defensively, and a newer immobilizer command replaces
an older queued one (real sockets; the store as Home Assistant keeps it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.commands import _restored_command
from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.protocol import Command, CommandKind

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    logbook_lines,
    setup_listener,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


def _item(**changes: Any) -> dict[str, Any]:
    now = dt_util.utcnow()
    item: dict[str, Any] = {
        "tracker_id": TID,
        "command": "set_interval",
        "interval_s": 45,
        "text": None,
        "created": now.isoformat(),
        "expires": (now + timedelta(minutes=5)).isoformat(),
        "force": False,
    }
    item.update(changes)
    return item


def test_a_good_item_is_read_back() -> None:
    restored = _restored_command(_item())
    assert restored is not None
    assert restored.command == Command(CommandKind.SET_INTERVAL, interval_s=45)
    raw = _restored_command(_item(command="raw", text="S71,22,30", interval_s=None))
    assert raw is not None
    assert raw.command == Command(CommandKind.RAW, text="S71,22,30")


@pytest.mark.parametrize(
    "item",
    [
        "not a dict",
        None,
        _item(tracker_id=1600),
        _item(tracker_id="../../etc/passwd"),
        _item(command="self_destruct"),
        _item(interval_s=1),  # below the service's range
        _item(interval_s="45"),
        _item(interval_s=10**9),
        _item(command="raw", text=None),
        _item(created=None),
        _item(expires=12),
        _item(created="yesterday"),
        _item(expires="2026-13-45T99:00:00"),
    ],
)
def test_anything_else_is_left_out(item: Any) -> None:
    assert _restored_command(item) is None


async def test_junk_in_the_store_is_ignored_at_start(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass_storage[f"{DOMAIN}.{entry.entry_id}.commands"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.commands",
        "data": [
            _item(command="nonsense"),
            _item(tracker_id="1234567890"),  # not a tracker of this hub
            _item(),
        ],
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    (pending,) = entry.runtime_data.hub.commands.pending_for(TID)
    assert pending.command == Command(CommandKind.SET_INTERVAL, interval_s=45)
    await hass.config_entries.async_unload(entry.entry_id)

    # A store that is not a list at all: an empty queue, no exception.
    hass_storage[f"{DOMAIN}.{entry.entry_id}.commands"]["data"] = {"a": 1}
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.hub.commands.pending_for(TID) == []
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_newer_immobilizer_command_replaces_the_queued_one(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID))
    await tracker.read_frame()
    await tracker.close()
    await wait_for(lambda: TID not in entry.runtime_data.hub.peers)
    book = logbook_lines(hass)
    switch = entity_id(hass, "switch", f"{TID}_immobilizer")
    for service in ("immobilize", "release"):
        await hass.services.async_call(DOMAIN, service, {"entity_id": switch}, blocking=True)
    (pending,) = entry.runtime_data.hub.commands.pending_for(TID)
    assert pending.command.kind is CommandKind.ENGINE_RESUME
    assert "engine cut replaced by a newer command" in book
    await hass.config_entries.async_unload(entry.entry_id)
