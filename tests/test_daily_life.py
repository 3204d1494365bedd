"""A vehicle's daily life through a real socket: parked, driving, accuracy, distance, offline."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    setup_listener,
    states_written,
)

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


async def test_parked_jitter_does_not_move_the_marker(hass: HomeAssistant, car: Any) -> None:
    _, report = car
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    await report(LAT, LON)  # the first fix of the stop
    written = states_written(hass, location)
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


async def test_a_4_km_drive_is_4_km_of_distance(hass: HomeAssistant, car: Any) -> None:
    _, report = car
    distance = entity_id(hass, "sensor", f"{TID}_distance")
    lat, lon = LAT, LON
    await report(lat, lon)
    for i in range(10):  # parked jitter before the drive adds nothing
        await report(*offset(LAT, LON, 8 * (-1) ** i))
    assert float(hass.states.get(distance).state) == 0.0
    for _ in range(40):  # 4 km north at 48 km/h (26 knots), a fix every 10 s
        lat, lon = offset(lat, lon, 100)
        await report(lat, lon, status=DRIVING, knots=26, step_s=10)
    await report(*offset(lat, lon, 50_000), status=DRIVING, knots=26, step_s=10)  # a bad fix
    await report(lat, lon, status=DRIVING, knots=26, step_s=10)
    for i in range(10):
        await report(*offset(lat, lon, 8 * (-1) ** i))
    assert float(hass.states.get(distance).state) == pytest.approx(4.0, abs=0.4)
    parked_since = hass.states.get(entity_id(hass, "sensor", f"{TID}_parked_since"))
    assert parked_since.state not in ("unknown", "unavailable")  # parked again at the end


async def test_distance_and_the_stop_survive_a_restart(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    tracker = await FakeTracker(port).connect()
    when = dt_util.utcnow() - timedelta(hours=1)
    lat, lon = LAT, LON

    async def report(status: str, knots: float) -> None:
        nonlocal when
        when += timedelta(seconds=10)
        await tracker.send(
            h02_position_frame(TID, when=when, lat=lat, lon=lon, speed_knots=knots, status=status)
        )
        await tracker.read_frame()
        await hass.async_block_till_done()

    await report(DRIVING, 26)
    for _ in range(15):  # 1.5 km
        lat, lon = offset(lat, lon, 100)
        await report(DRIVING, 26)
    await report(PARKED, 0)  # the stop begins
    stop_began = when
    await tracker.close()
    distance = entity_id(hass, "sensor", f"{TID}_distance")
    parked_since = entity_id(hass, "sensor", f"{TID}_parked_since")
    assert float(hass.states.get(distance).state) == pytest.approx(1.5, abs=0.05)
    assert await hass.config_entries.async_unload(entry.entry_id)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert float(hass.states.get(distance).state) == pytest.approx(1.5, abs=0.05)
    tracker = await FakeTracker(port).connect()
    await report(PARKED, 0)  # still parked where it stopped: the stop goes on
    assert dt_util.parse_datetime(hass.states.get(parked_since).state) == stop_began.replace(
        microsecond=0
    )
    for _ in range(5):  # and the drive after it adds to the distance before the restart
        lat, lon = offset(lat, lon, 100)
        await report(DRIVING, 26)
    assert float(hass.states.get(distance).state) == pytest.approx(2.0, abs=0.05)
    assert hass.states.get(parked_since).state == "unknown"
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


LIVE = [
    ("sensor", "speed"),
    ("sensor", "course"),
    ("sensor", "signal"),
    ("sensor", "satellites"),
    ("binary_sensor", "ignition"),
    ("binary_sensor", "moving"),
]


async def test_offline_is_honest(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    registry = er.async_get(hass)
    live = [entity_id(hass, platform, f"{TID}_{key}") for platform, key in LIVE]
    for entity in live:  # the disabled-by-default ones too
        registry.async_update_entity(entity, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    hub = entry.runtime_data.hub
    tracker = await FakeTracker(port).connect()

    async def report() -> None:
        await tracker.send(h02_position_frame(TID, speed_knots=20, status=DRIVING))
        await tracker.read_frame()
        await hass.async_block_till_done()

    await report()
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    connectivity = entity_id(hass, "binary_sensor", f"{TID}_connectivity")
    assert all(hass.states.get(e).state != "unavailable" for e in live)

    hub.offline_after = timedelta(seconds=0)
    hub._check_offline()  # what its 30 s timer does
    await hass.async_block_till_done()
    assert {e: hass.states.get(e).state for e in live} == dict.fromkeys(live, "unavailable")
    assert hass.states.get(connectivity).state == "off"
    shown = hass.states.get(location)  # the last fix stays on the map
    assert shown.state != "unavailable"
    assert shown.attributes["latitude"] == pytest.approx(LAT)

    await report()  # all back with the next report
    assert all(hass.states.get(e).state != "unavailable" for e in live)
    assert hass.states.get(entity_id(hass, "binary_sensor", f"{TID}_ignition")).state == "on"
    assert hass.states.get(connectivity).state == "on"
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_tracker_silent_since_the_start_goes_unavailable(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port(), trackers=[(TID, "Car")])
    hub = entry.runtime_data.hub
    speed = entity_id(hass, "sensor", f"{TID}_speed")
    assert hass.states.get(speed).state != "unavailable"  # within offline_after: restored
    hub.offline_after = timedelta(seconds=0)
    hub._check_offline()
    await hass.async_block_till_done()
    assert hass.states.get(speed).state == "unavailable"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_parked_or_offline_car_does_not_take_over_a_person(
    hass: HomeAssistant, car: Any
) -> None:
    from homeassistant.setup import async_setup_component

    entry, report = car
    await report(LAT, LON)  # parked at home
    location = entity_id(hass, "device_tracker", f"{TID}_location")
    assert await async_setup_component(
        hass,
        "person",
        {
            "person": [
                {"id": "ann", "name": "Ann", "device_trackers": [location, "device_tracker.phone"]}
            ]
        },
    )
    await hass.async_block_till_done()
    phone_at = offset(LAT, LON, 5000)  # Ann took the bus: her phone is fresher
    hass.states.async_set(
        "device_tracker.phone",
        "not_home",
        {
            "latitude": phone_at[0],
            "longitude": phone_at[1],
            "gps_accuracy": 10,
            "source_type": "gps",
        },
    )
    await hass.async_block_till_done()
    assert hass.states.get("person.ann").attributes["latitude"] == pytest.approx(phone_at[0])
    for north in (8, -9, 4, -6):  # the car's parked jitter writes nothing: Ann stays on the bus
        await report(*offset(LAT, LON, north))
    hub = entry.runtime_data.hub
    hub.offline_after = timedelta(seconds=0)
    hub._check_offline()  # nor does the car going offline
    await hass.async_block_till_done()
    assert hass.states.get("person.ann").attributes["latitude"] == pytest.approx(phone_at[0])


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_offline_within_offline_after_and_30_s(
    hass: HomeAssistant, move_time: Callable[[timedelta], None]
) -> None:
    offline_after = timedelta(minutes=10)
    entry = await setup_listener(
        hass, port := free_port(), trackers=[(TID, "Car")], offline_after=10
    )
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, speed_knots=20, status=DRIVING))
    await tracker.read_frame()
    await hass.async_block_till_done()
    await tracker.close()  # then the tracker goes silent
    live = [entity_id(hass, platform, f"{TID}_{key}") for platform, key in LIVE]
    connectivity = entity_id(hass, "binary_sensor", f"{TID}_connectivity")
    silent = timedelta(0)  # since its report; the offline check runs every 30 s on its own
    while all(hass.states.get(e).state != "unavailable" for e in live):
        assert silent <= offline_after + timedelta(minutes=1), "still available"
        move_time(timedelta(seconds=7))  # Home Assistant's time moves on, nobody sleeps
        await hass.async_block_till_done()
        silent += timedelta(seconds=7)
    assert offline_after < silent <= offline_after + timedelta(seconds=30)
    assert {e: hass.states.get(e).state for e in live} == dict.fromkeys(live, "unavailable")
    assert hass.states.get(connectivity).state == "off"
    await hass.config_entries.async_unload(entry.entry_id)
