"""Recorder benchmark: one tracker's simulated day through the real recorder on SQLite.

Run through ``scripts/bench recorder``. Home Assistant runs in this process (the harness of
pytest-homeassistant-custom-component, as in ``tools/bench/e2e.py``) with ``recorder`` loaded on a
SQLite file in a temporary config folder. One JT/T 808 tracker (it reports speed, course, voltage,
signal, satellites, battery and mileage: every field an entity shows) lives a day over a real TCP
socket:
parked at home for the night with GPS jitter (±10 m, drift speed under 5 km/h, a random course,
voltage, signal and satellites flickering by a step), a commute, parked at work, a drive home,
parked for the evening; one report per ``--interval`` seconds (30 s, as the issue's figure).

The day's reports are sent back to back (each waits for its reply), with live fix times: a state
row does not depend on how far apart two reports arrive, only on what they carry. What only time
makes write (offline after ``offline_after``, a coarse "last seen") does not occur: the tracker
never goes silent, and "last seen" is disabled by default.

The anchor, in the same run: a naive integration — plain entities, one per field, every field
written raw on every report (the state machine still drops a write that changes nothing). Rows
are counted in the ``states`` table from the first report of each phase on (the set-up's first
states are not the day's). Printed: rows and payload bytes (state strings plus the attribute JSON
they reference) per entity per tracker-day, the database's growth, and one JSON line with
``ratio`` = our rows / the naive rows (target ≤ 0.25).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tools.bench import harness
from tools.devenv.process import free_port
from tools.simulator import jt808_frames
from tools.simulator.fix import Fix

TRACKER_ID = "12345678900"
DAY_S = 86400
HOME = (50.58855, 4.53035)
WORK = (50.66120, 4.61210)  # about 10 km away
DB_FILE = "home-assistant_v2.db"


@dataclass(frozen=True, slots=True)
class Report:
    """What the tracker measures at one report."""

    latitude: float
    longitude: float
    speed_kmh: float
    course: float
    ignition: bool
    voltage: float
    signal: int
    satellites: int
    battery: int
    odometer_km: float


def simulated_day(interval_s: int, seed: int) -> Iterator[Report]:
    """Night at home, commute (07:30, 30 min), work, drive home (17:30, 40 min), evening."""
    rng = random.Random(seed)
    odometer = 12_345.0
    plan = [
        (0, 7.5 * 3600, HOME, None),
        (7.5 * 3600, 8 * 3600, HOME, WORK),
        (8 * 3600, 17.5 * 3600, WORK, None),
        (17.5 * 3600, (18 + 10 / 60) * 3600, WORK, HOME),
        ((18 + 10 / 60) * 3600, DAY_S, HOME, None),
    ]
    for start, end, origin, destination in plan:
        t = start
        while t < end:
            if destination is None:  # parked: jitter only
                metres = rng.uniform(0, 10)
                angle = rng.uniform(0, 2 * math.pi)
                lat = origin[0] + metres * math.cos(angle) / 111_320
                lon = origin[1] + metres * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
                yield Report(
                    lat,
                    lon,
                    rng.choice((0.0, 0.0, 0.4, 1.1, 2.6)),
                    float(rng.randrange(360)),
                    False,
                    rng.choice((12.5, 12.6, 12.6, 12.7)),
                    18 + rng.choice((-1, 0, 0, 1)),
                    9 + rng.choice((-1, 0, 0, 1)),
                    100,
                    odometer,
                )
            else:  # driving: along a straight line, speed and heading varying
                share = (t - start) / (end - start)
                lat = origin[0] + (destination[0] - origin[0]) * share
                lon = origin[1] + (destination[1] - origin[1]) * share
                speed = rng.uniform(25, 85) if 0.05 < share < 0.95 else rng.uniform(5, 20)
                odometer += speed * interval_s / 3600
                yield Report(
                    lat,
                    lon,
                    speed,
                    (40 + rng.uniform(-30, 30)) % 360,
                    True,
                    rng.choice((13.9, 14.0, 14.1)),
                    20 + rng.choice((-2, -1, 0, 1, 2)),
                    11 + rng.choice((-1, 0, 1)),
                    100,
                    round(odometer, 1),
                )
            t += interval_s


def report_frame(report: Report, serial: int) -> bytes:
    fix = Fix(datetime.now(UTC), report.latitude, report.longitude, report.speed_kmh, report.course)
    alarm, status = jt808_frames.words(ignition=report.ignition, fix=fix)
    items = jt808_frames.items(
        odometer_km=report.odometer_km,
        signal=report.signal,
        satellites=report.satellites,
        battery=report.battery,
        external=True,
    )
    items.append((0xE1, round(report.voltage * 10).to_bytes(2)))
    body = jt808_frames.location_body(fix, alarm, status, items)
    return jt808_frames.frame(0x0200, body, jt808_frames.phone(TRACKER_ID), serial)


# --- the recorder's tables --------------------------------------------------------------------


async def recorder_done(hass: Any) -> None:
    from homeassistant.components.recorder import get_instance  # type: ignore[attr-defined, unused-ignore]

    await hass.async_block_till_done()
    await get_instance(hass).async_block_till_done()


def last_state_id(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COALESCE(MAX(state_id), 0) FROM states").fetchone()[0])


def rows_since(db: Path, state_id: int) -> dict[str, dict[str, int]]:
    """entity ID -> rows and payload bytes of the states written after ``state_id``."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT m.entity_id, COUNT(*), SUM(LENGTH(s.state)) FROM states s "
            "JOIN states_meta m ON s.metadata_id = m.metadata_id WHERE s.state_id > ? "
            "GROUP BY m.entity_id",
            (state_id,),
        ).fetchall()
        attrs = dict(
            conn.execute(
                "SELECT m.entity_id, SUM(LENGTH(a.shared_attrs)) FROM "
                "(SELECT DISTINCT metadata_id, attributes_id FROM states WHERE state_id > ?) s "
                "JOIN states_meta m ON s.metadata_id = m.metadata_id "
                "JOIN state_attributes a ON s.attributes_id = a.attributes_id "
                "GROUP BY m.entity_id",
                (state_id,),
            ).fetchall()
        )
    return {
        entity_id: {"rows": count, "bytes": int(size or 0) + int(attrs.get(entity_id) or 0)}
        for entity_id, count, size in rows
    }


def db_bytes(db: Path) -> int:
    """The database's used pages (the WAL checkpointed into it first)."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


# --- phase 1: the integration -----------------------------------------------------------------


async def run_integration(hass: Any, day: list[Report], db: Path) -> dict[str, Any]:
    from tests.helpers import listener_entry

    port = free_port()
    entry = listener_entry(port, udp=False, trackers=[(TRACKER_ID, "Car")])
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise SystemExit("the integration did not set up")
    await recorder_done(hass)
    first, size0 = last_state_id(db), await hass.async_add_executor_job(db_bytes, db)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buffer = b""
    server_frames = jt808_frames.ServerFrames()
    for serial, report in enumerate(day):
        writer.write(report_frame(report, serial))
        await writer.drain()
        while True:  # its 0x8001 answer
            frames, buffer = server_frames.split(buffer, final=False)
            if frames:
                break
            chunk = await asyncio.wait_for(reader.read(4096), 10)
            if not chunk:
                raise SystemExit("the listener closed the connection")
            buffer += chunk
    writer.close()
    await recorder_done(hass)
    per_entity = await hass.async_add_executor_job(rows_since, db, first)
    size1 = await hass.async_add_executor_job(db_bytes, db)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await recorder_done(hass)
    return {"entities": per_entity, "db_bytes": size1 - size0}


# --- phase 2: the naive integration (the anchor) ----------------------------------------------


def naive_entities() -> tuple[list[Any], list[Any], list[Any]]:
    from homeassistant.components.binary_sensor import BinarySensorEntity
    from homeassistant.components.device_tracker import (  # type: ignore[attr-defined, unused-ignore]
        TrackerEntity,
    )
    from homeassistant.components.device_tracker.const import SourceType
    from homeassistant.components.sensor import SensorEntity

    class Location(TrackerEntity):
        _attr_should_poll = False
        _attr_source_type = SourceType.GPS
        _attr_unique_id = "naive_location"
        _attr_name = "Naive car"

    class Sensor(SensorEntity):
        _attr_should_poll = False

        def __init__(self, key: str) -> None:
            self._attr_unique_id = f"naive_{key}"
            self._attr_name = f"Naive car {key}"

    class Flag(BinarySensorEntity):
        _attr_should_poll = False

        def __init__(self, key: str) -> None:
            self._attr_unique_id = f"naive_{key}"
            self._attr_name = f"Naive car {key}"

    sensors = [
        Sensor(k)
        for k in (
            "speed",
            "course",
            "voltage",
            "signal",
            "satellites",
            "battery",
            "odometer",
            "last_seen",
        )
    ]
    flags = [Flag(k) for k in ("ignition", "moving", "connectivity")]
    return [Location()], sensors, flags


async def run_naive(hass: Any, day: list[Report], db: Path) -> dict[str, Any]:
    import logging

    from homeassistant.helpers.entity_platform import EntityPlatform

    location, sensors, flags = naive_entities()
    platforms = {
        domain: EntityPlatform(
            hass=hass,
            logger=logging.getLogger("bench.naive"),
            domain=domain,
            platform_name="bench_naive",
            platform=None,
            scan_interval=timedelta(seconds=30),
            entity_namespace=None,
        )
        for domain in ("device_tracker", "sensor", "binary_sensor")
    }
    await platforms["device_tracker"].async_add_entities(location)
    await platforms["sensor"].async_add_entities(sensors)
    await platforms["binary_sensor"].async_add_entities(flags)
    await recorder_done(hass)
    first, size0 = last_state_id(db), await hass.async_add_executor_job(db_bytes, db)
    by_key = {e.unique_id.removeprefix("naive_"): e for e in [*sensors, *flags]}
    for report in day:
        loc = location[0]
        loc._attr_latitude, loc._attr_longitude = report.latitude, report.longitude
        loc.async_write_ha_state()
        values: dict[str, Any] = {
            "speed": report.speed_kmh,
            "course": report.course,
            "voltage": report.voltage,
            "signal": report.signal,
            "satellites": report.satellites,
            "battery": report.battery,
            "odometer": report.odometer_km,
            "last_seen": datetime.now(UTC).isoformat(),
        }
        for key, value in values.items():
            by_key[key]._attr_native_value = value
            by_key[key].async_write_ha_state()
        for key, on in (
            ("ignition", report.ignition),
            ("moving", report.speed_kmh >= 5),
            ("connectivity", True),
        ):
            by_key[key]._attr_is_on = on
            by_key[key].async_write_ha_state()
        await asyncio.sleep(0)
    await recorder_done(hass)
    per_entity = await hass.async_add_executor_job(rows_since, db, first)
    size1 = await hass.async_add_executor_job(db_bytes, db)
    for platform in platforms.values():
        await platform.async_reset()
    return {"entities": per_entity, "db_bytes": size1 - size0}


# --- the benchmark ----------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    from homeassistant.helpers import recorder as recorder_helper
    from homeassistant.setup import async_setup_component

    day = list(simulated_day(args.interval, args.seed))
    with tempfile.TemporaryDirectory(prefix="sinotrack-recorder-") as config_dir:
        db = Path(config_dir) / DB_FILE
        async with harness.home_assistant(config_dir) as hass:
            recorder_helper.async_initialize_recorder(hass)
            # The user's defaults but a commit per event: the counts are complete at once.
            config = {"recorder": {"db_url": f"sqlite:///{db}", "commit_interval": 0}}
            if not await async_setup_component(hass, "recorder", config):
                raise SystemExit("the recorder did not set up")
            await hass.async_block_till_done()
            ours = await run_integration(hass, day, db)
            naive = await run_naive(hass, day, db)
    ours_rows = sum(e["rows"] for e in ours["entities"].values())
    naive_rows = sum(e["rows"] for e in naive["entities"].values())
    for title, phase in (("integration", ours), ("naive", naive)):
        print(f"{title}: rows and payload bytes per tracker-day")
        for entity_id, counts in sorted(phase["entities"].items()):
            print(f"  {entity_id:45} {counts['rows']:6d} rows {counts['bytes']:8d} B")
        print(f"  database growth: {phase['db_bytes']} B")
    result = {
        "benchmark": "recorder",
        "reports": len(day),
        "interval_s": args.interval,
        "rows": ours_rows,
        "naive_rows": naive_rows,
        "ratio": round(ours_rows / naive_rows, 4) if naive_rows else None,
        "db_bytes": ours["db_bytes"],
        "naive_db_bytes": naive["db_bytes"],
        "entities": {k: v["rows"] for k, v in sorted(ours["entities"].items())},
        "naive_entities": {k: v["rows"] for k, v in sorted(naive["entities"].items())},
        "target_ratio": 0.25,
    }
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=int, default=30, help="seconds between reports")
    parser.add_argument("--seed", type=int, default=19, help="the day's random jitter")
    args = parser.parse_args(argv)
    os.environ.setdefault("TZ", "UTC")
    harness.quiet_logging()
    return harness.run_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
