"""A vehicle's day through Home Assistant's recorder on SQLite: what it writes, counted in the
``states`` table (the acceptance of a small recorder footprint and of computed distance).

Time is moved with the freezer and ``async_fire_time_changed`` (a parked tracker's 3 minutes
take no 3 minutes); reports arrive over a real socket.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import session_scope
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import text

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
)

pytestmark = pytest.mark.usefixtures("socket_enabled", "entity_registry_enabled_by_default")

TID = "4106011661"
LAT, LON = 50.58855, 4.53035
PARKED = "FFFFFBFF"  # ignition off (bit 10 active, active-low)
DRIVING = "FFFFFFFF"
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180
INTERVAL = timedelta(seconds=10)  # the tightest interval trackers are set to: the most reports


def offset(north_m: float, east_m: float = 0.0, lat: float = LAT) -> tuple[float, float]:
    return (
        lat + north_m / M_PER_DEG_LAT,
        LON + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


def link(when: Any, signal: int, satellites: int, battery: int) -> str:
    """An H02 heartbeat (LINK): signal, satellites, battery (no reply)."""
    return (
        f"*HQ,{TID},LINK,{when:%H%M%S},{signal},{satellites},{battery},0,0,{when:%d%m%y},{PARKED}#"
    )


def last_state_id(hass: HomeAssistant) -> int:
    with session_scope(hass=hass, read_only=True) as session:
        return int(session.execute(text("SELECT COALESCE(MAX(state_id), 0) FROM states")).scalar())


def rows_since(hass: HomeAssistant, state_id: int) -> dict[str, list[str]]:
    """entity ID -> the states recorded after ``state_id``, in order."""
    found: dict[str, list[str]] = {}
    with session_scope(hass=hass, read_only=True) as session:
        for entity, state in session.execute(
            text(
                "SELECT m.entity_id, s.state FROM states s JOIN states_meta m "
                "ON s.metadata_id = m.metadata_id WHERE s.state_id > :after ORDER BY s.state_id"
            ),
            {"after": state_id},
        ):
            found.setdefault(entity, []).append(state)
    return found


async def test_parked_writes_nothing_and_a_4_km_drive_is_4_km(
    recorder_mock: Any, hass: HomeAssistant, move_time: Callable[[timedelta], None]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    ours = {
        e.entity_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert len(ours) > 15  # every entity of the tracker, the ones off by default too
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    distance = entity_id(hass, "sensor", f"{TID}_distance")
    tracker = await FakeTracker(port).connect()
    rng = random.Random(19)

    async def report(
        lat: float,
        lon: float,
        *,
        status: str = PARKED,
        knots: float = 0.0,
        heartbeat: tuple[int, int, int] | None = None,
    ) -> None:
        move_time(INTERVAL)  # the integration's timers see the time go by
        now = dt_util.utcnow()
        position = h02_position_frame(
            TID,
            when=now,
            lat=lat,
            lon=lon,
            speed_knots=knots,
            course=rng.randrange(360),
            status=status,
        )
        await tracker.send((link(now, *heartbeat) if heartbeat else "") + position)
        await tracker.read_frame()  # the reply to the position: both were handled
        await hass.async_block_till_done()

    # Parked at home since the night: the first fix of the stop, its heartbeat.
    await report(LAT, LON, heartbeat=(20, 8, 75))
    await async_wait_recording_done(hass)
    start = await recorder_mock.async_add_executor_job(last_state_id, hass)

    # 3 minutes parked: +-10 m of GPS jitter, speed 0-1 knot, a course at random, and the
    # heartbeat's signal, satellites and battery a step up and down.
    for _ in range(int(timedelta(minutes=3) / INTERVAL)):
        north, east = rng.uniform(-10, 10), rng.uniform(-10, 10)
        heartbeat = (20 + rng.choice((-1, 0, 1)), 8 + rng.choice((-1, 0, 1)), 75 - rng.randrange(2))
        await report(*offset(north, east), knots=rng.choice((0.0, 0.5, 1.0)), heartbeat=heartbeat)
    await async_wait_recording_done(hass)
    parked = await recorder_mock.async_add_executor_job(rows_since, hass, start)
    assert location not in parked  # the marker did not move
    ours_parked = {e: s for e, s in parked.items() if e in ours}
    assert sum(map(len, ours_parked.values())) <= 1, ours_parked  # the whole tracker

    # The commute: 4 km north at 48 km/h (26 knots), a fix every 10 s, then parked at work.
    lat = LAT
    for _ in range(40):
        lat = offset(100, lat=lat)[0]
        await report(lat, LON, status=DRIVING, knots=26)
    for _ in range(6):
        await report(*offset(rng.uniform(-10, 10), lat=lat))
    await async_wait_recording_done(hass)
    assert float(hass.states.get(distance).state) == pytest.approx(4.0, abs=0.4)
    recorded = await recorder_mock.async_add_executor_job(rows_since, hass, start)
    assert float(recorded[distance][-1]) == pytest.approx(4.0, abs=0.4)  # what history shows
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)
