"""A vehicle's daily life through a real socket: parked, driving, accuracy, distance, offline."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .helpers import FakeTracker, entity_id, free_port, h02_position_frame, setup_listener

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011661"
LAT, LON = 50.58855, 4.53035
PARKED = "FFFFFBFF"  # ignition off (bit 10 active, active-low)
DRIVING = "FFFFFFFF"  # ignition on
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180


def offset(lat: float, lon: float, north_m: float, east_m: float = 0.0) -> tuple[float, float]:
    return (
        lat + north_m / M_PER_DEG_LAT,
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


@pytest.fixture
async def car(hass: HomeAssistant) -> Any:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    tracker = await FakeTracker(port).connect()
    clock = {"t": dt_util.utcnow() - timedelta(hours=1)}

    async def report(
        lat: float, lon: float, *, status: str = PARKED, knots: float = 0.0, step_s: float = 30
    ) -> None:
        clock["t"] += timedelta(seconds=step_s)
        frame = h02_position_frame(
            TID, when=clock["t"], lat=lat, lon=lon, speed_knots=knots, status=status
        )
        await tracker.send(frame)
        await tracker.read_frame()
        await hass.async_block_till_done()

    yield entry, report
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


def _writes_of(hass: HomeAssistant, entity: str) -> list[Any]:
    written: list[Any] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == entity:
            written.append(event.data["new_state"])

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    return written


async def test_parked_jitter_does_not_move_the_marker(hass: HomeAssistant, car: Any) -> None:
    _, report = car
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    await report(LAT, LON)  # the first fix of the stop
    written = _writes_of(hass, location)
    # 3 minutes parked with +-10 m of jitter: no write of the device_tracker at all.
    for i, (north, east) in enumerate([(10, 0), (-10, 5), (0, -10), (7, 7), (-8, -3), (9, -9)]):
        await report(*offset(LAT, LON, north, east), knots=0.5 * (i % 2))
    assert written == []
    shown = hass.states.get(location)
    assert (shown.attributes["latitude"], shown.attributes["longitude"]) == (LAT, LON)
    assert shown.attributes["gps_accuracy"] > 0

    # A real move shows at once: beyond the radius (towed) ...
    towed = offset(LAT, LON, 120)
    await report(*towed)
    assert [s.attributes["latitude"] for s in written] == [pytest.approx(towed[0], abs=1e-5)]
    # ... or the ignition on, even a few metres away.
    await report(*offset(*towed, 3), status=DRIVING)
    assert len(written) == 2
