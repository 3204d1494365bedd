"""A tracker's signals: its entities look again, and only what shows a change writes a state.

(These replace the tests of the former field-watching scheme: the same promises, kept by Home
Assistant's dispatcher and each entity's own comparison, seen from the state machine.)
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import DATA_DISPATCHER, async_dispatcher_send
from homeassistant.helpers.entity import Entity

from custom_components.sinotrack import async_remove_config_entry_device
from custom_components.sinotrack.binary_sensor import BINARY_SENSORS
from custom_components.sinotrack.const import (
    DOMAIN,
    signal_tracker_status,
    signal_tracker_updated,
)
from custom_components.sinotrack.protocol.model import Alarm
from custom_components.sinotrack.sensor import SENSORS

from .helpers import FakeTracker, free_port, setup_listener, tracker_device

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


def _fix(status: str = "FFFFFBFF", lat: str = "5222.1234", speed: str = "010.00") -> str:
    return f"*HQ,{TID},V1,120000,A,{lat},N,00454.5678,E,{speed},090,231126,{status}#"


def _writes(hass: HomeAssistant) -> list[str]:
    """The unique-ID keys (``location``, ``speed`` …) of the entities that write a state."""
    registry = er.async_get(hass)
    written: list[str] = []

    @callback
    def record(event: Event) -> None:
        entry = registry.async_get(event.data["entity_id"])
        if entry is not None and entry.platform == DOMAIN:
            written.append(entry.unique_id.removeprefix(f"{TID}_"))

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    return written


@pytest.fixture
async def bike(hass: HomeAssistant) -> Any:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Bike")])
    tracker = await FakeTracker(port).connect()

    async def report(frame: str) -> None:
        await tracker.send(frame)
        await tracker.read_frame()
        await hass.async_block_till_done()

    yield entry, report
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_report_writes_only_what_it_changed(hass: HomeAssistant, bike: Any) -> None:
    _, report = bike
    await report(_fix())
    written = _writes(hass)

    def seen() -> set[str]:
        shown = set(written) - {"last_seen"}  # its second may or may not have ticked
        written.clear()
        return shown

    await report(_fix(lat="5222.2000"))  # moved; ignition unchanged
    assert seen() == {"location"}
    await report(_fix(lat="5222.2000", status="FFFFFFFF"))  # ignition on, same place
    assert seen() == {"ignition"}
    await report(_fix(lat="5222.2000", status="FFFFFFFF"))  # nothing new but last_seen
    assert seen() == set()
    await report(_fix(lat="5222.2000", status="FFFFFFFF", speed="020.00"))
    assert seen() == {"speed"}  # still moving: the motion sensor writes nothing


async def test_every_entity_follows_a_signal_until_removed(hass: HomeAssistant, bike: Any) -> None:
    entry, report = bike
    await report(_fix())
    hub = entry.runtime_data.hub
    tracker = hub.trackers[TID]
    written = _writes(hass)
    tracker.speed_kmh = 2.0  # changes the hub did not make: the signals make them visible
    tracker.online = False
    async_dispatcher_send(hass, signal_tracker_updated(tracker.subentry_id))
    await hass.async_block_till_done()
    assert sorted(written) == ["moving", "speed"]  # the status did not signal
    hub.status_changed(tracker)
    await hass.async_block_till_done()
    assert sorted(written) == ["connectivity", "moving", "speed"]

    signals = [
        signal(tracker.subentry_id) for signal in (signal_tracker_updated, signal_tracker_status)
    ]

    def followers() -> list[Entity]:
        targets = [t for signal in signals for t in hass.data[DATA_DISPATCHER].get(signal, {})]
        return [t.__self__ for t in targets if isinstance(getattr(t, "__self__", None), Entity)]

    shown = [d for d in SENSORS if d.entity_registry_enabled_default and not d.only_when_reported]
    assert len(followers()) == len(shown) + len(BINARY_SENSORS) + 2  # and location, immobilizer
    device = tracker_device(hass, entry.entry_id, TID)
    assert await async_remove_config_entry_device(hass, entry, device)
    await hass.async_block_till_done()
    assert followers() == []  # removed entities left the signals


async def test_alarms_fire_after_the_state(hass: HomeAssistant, bike: Any) -> None:
    _, report = bike
    await report(_fix())
    registry = er.async_get(hass)
    alarm_entity = registry.async_get_entity_id("event", DOMAIN, f"{TID}_alarm")
    power_entity = registry.async_get_entity_id("binary_sensor", DOMAIN, f"{TID}_external_power")
    assert alarm_entity is not None
    assert power_entity is not None
    seen: list[str] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == power_entity:
            seen.append(f"power={event.data['new_state'].state}")
        elif event.data["entity_id"] == alarm_entity:
            new = event.data["new_state"]
            # What an automation triggered by the alarm reads: the new power state already.
            seen.append(f"alarm={new.attributes['event_type']}")
            seen.append(f"power then={hass.states.get(power_entity).state}")

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    await report(_fix(status="FFF7FBFF"))  # bit 19: external power cut
    assert seen == ["power=off", f"alarm={Alarm.POWER_CUT.value}", "power then=off"]
