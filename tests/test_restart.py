"""Home Assistant stopped and started again on the same storage: nothing a user relies on is lost.

Not an entry reload: the first Home Assistant stops (``tests/restart.py``: its stop event and
final write), a second one starts on the same storage and sets the same listener entry up.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
    states_written,
    wait_for,
)
from .restart import restarted

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
LAT, LON = 50.58855, 4.53035
PARKED = "FFFFFBFF"  # ignition off (bit 10 active, active-low)
DRIVING = "FFFFFFFF"
POWER_CUT = "FFF7FBFF"  # bit 19 active: running on the backup battery
S20 = re.compile(rb"\*HQ,4106011660,S20,(\d{6}),1,([01])#")
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180


def north(lat: float, metres: float) -> float:
    return lat + metres / M_PER_DEG_LAT


async def report(hass: HomeAssistant, tracker: FakeTracker, **kwargs: Any) -> bytes:
    await tracker.send(h02_position_frame(TID, **kwargs))
    reply = await tracker.read_frame()
    await hass.async_block_till_done()
    return reply


async def queue_while_offline(hass: HomeAssistant, port: int, service: str, **data: Any) -> None:
    """The car reports once and goes; then ``service`` queues its command for the next report."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    tracker = await FakeTracker(port).connect()
    await report(hass, tracker)
    await tracker.close()
    await wait_for(lambda: TID not in entry.runtime_data.hub.peers)
    switch = entity_id(hass, "switch", f"{TID}_immobilizer")
    response = await hass.services.async_call(
        DOMAIN, service, {"entity_id": switch, **data}, blocking=True, return_response=True
    )
    assert response["trackers"][0]["queued"] is True


async def test_an_active_alarm_survives_a_restart_without_a_new_event(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    alarm = entity_id(hass, "event", f"{TID}_alarm")
    tracker = await FakeTracker(port).connect()
    await report(hass, tracker, status=POWER_CUT)
    fired = hass.states.get(alarm)
    assert fired is not None
    assert fired.attributes["event_type"] == "power_cut"
    await tracker.close()

    async with restarted(hass, entry) as (new, _):
        shown = new.states.get(alarm)
        assert shown is not None  # the event entity keeps its state: the one event, its time
        assert (shown.state, shown.attributes["event_type"]) == (fired.state, "power_cut")
        written = states_written(new, alarm)
        tracker = await FakeTracker(port).connect()
        await report(new, tracker, status=POWER_CUT)  # the power is still cut: no new edge
        await report(new, tracker, status=POWER_CUT)
        assert written == []
        await report(new, tracker)  # the power comes back, and is cut again: a new event
        await report(new, tracker, status=POWER_CUT)
        assert [s.attributes["event_type"] for s in written] == ["power_cut"]
        assert written[0].state != fired.state
        await tracker.close()
    # Stopped, then unloaded by the test's teardown: neither logs an error (an unload after
    # the stop once removed the stop listener a second time).
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_queued_set_interval_survives_a_restart_and_reaches_the_tracker(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    await queue_while_offline(hass, port, "set_interval", seconds=45)

    async with restarted(hass, entry) as (new, again):
        (pending,) = again.runtime_data.hub.commands.pending_for(TID)
        assert pending.command.interval_s == 45
        tracker = await FakeTracker(port).connect()  # the tracker connects after the restart
        assert (await report(new, tracker)).startswith(f"*HQ,{TID},V4,V1,".encode())
        assert re.fullmatch(rb"\*HQ,4106011660,D1,\d{6},45#", await tracker.read_frame())
        assert again.runtime_data.hub.commands.pending_for(TID) == []
        await tracker.close()


async def test_a_cut_forced_before_a_restart_meets_the_interlock_at_delivery(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    await queue_while_offline(hass, port, "immobilize", force=True)

    async with restarted(hass, entry) as (new, again):
        (pending,) = again.runtime_data.hub.commands.pending_for(TID)
        assert pending.force is False  # the user forced it for what they saw then
        tracker = await FakeTracker(port).connect()
        # Driving at 54 km/h after the restart: the restored cut is held back.
        await report(new, tracker, speed_knots=29.0, status=DRIVING)
        assert await tracker.read_nothing() == b""
        assert len(again.runtime_data.hub.commands.pending_for(TID)) == 1
        await report(new, tracker)  # stopped, ignition off: now it goes
        assert S20.fullmatch(await tracker.read_frame()) is not None
        await tracker.close()


async def test_distance_survives_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    distance = entity_id(hass, "sensor", f"{TID}_distance")
    when = dt_util.utcnow() - timedelta(hours=1)
    lat = LAT
    tracker = await FakeTracker(port).connect()
    for _ in range(16):  # 1.5 km north at 48 km/h, a fix every 10 s
        when += timedelta(seconds=10)
        await report(hass, tracker, when=when, lat=lat, speed_knots=26, status=DRIVING)
        lat = north(lat, 100)
    lat = north(lat, -100)
    when += timedelta(seconds=10)
    await report(hass, tracker, when=when, lat=lat)  # parked
    await tracker.close()
    assert float(hass.states.get(distance).state) == pytest.approx(1.5, abs=0.05)

    async with restarted(hass, entry) as (new, _):
        assert float(new.states.get(distance).state) == pytest.approx(1.5, abs=0.05)
        tracker = await FakeTracker(port).connect()
        when += timedelta(minutes=30)
        await report(new, tracker, when=when, lat=north(lat, 6))  # parked jitter: nothing
        for _ in range(5):  # then 500 m more, measured from where the marker stands
            lat = north(lat, 100)
            when += timedelta(seconds=10)
            await report(new, tracker, when=when, lat=lat, speed_knots=26, status=DRIVING)
        assert float(new.states.get(distance).state) == pytest.approx(2.0, abs=0.05)
        await tracker.close()


async def test_a_restored_car_does_not_take_over_a_person_from_a_fresher_phone(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    tracker = await FakeTracker(port).connect()
    await report(hass, tracker, lat=LAT)  # parked at home when Home Assistant stops
    await tracker.close()

    async with restarted(hass, entry) as (new, again):
        car = new.states.get(location)
        assert car is not None  # restored
        assert car.attributes["latitude"] == pytest.approx(LAT)
        assert await async_setup_component(
            new,
            "person",
            {
                "person": [
                    {
                        "id": "ann",
                        "name": "Ann",
                        "device_trackers": [location, "device_tracker.phone"],
                    }
                ]
            },
        )
        await new.async_block_till_done()
        bus = north(LAT, 5000)  # Ann took the bus: her phone reported after the restart
        new.states.async_set(
            "device_tracker.phone",
            "not_home",
            {"latitude": bus, "longitude": LON, "gps_accuracy": 10, "source_type": "gps"},
        )
        await new.async_block_till_done()
        assert new.states.get("person.ann").attributes["latitude"] == pytest.approx(bus)
        written = states_written(new, location)
        # The car reconnects, still parked: its jitter around the restored position writes
        # nothing (a write would make the stale car the fresher tracker) ...
        tracker = await FakeTracker(port).connect()
        for metres in (8, -9, 4):
            await report(new, tracker, lat=north(LAT, metres))
        await tracker.close()
        # ... nor does going silent again.
        hub = again.runtime_data.hub
        hub.offline_after = timedelta(seconds=0)
        hub._check_offline()
        await new.async_block_till_done()
        assert written == []
        assert new.states.get("person.ann").attributes["latitude"] == pytest.approx(bus)
