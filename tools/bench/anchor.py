"""Phase 2 of ``bench e2e``, the anchor: what Home Assistant itself costs for the same state
changes, written by plain entities with precomputed values (see ``tools.bench.e2e``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from . import loadgen
from .harness import GcTime, StateWatch


def anchor_entities(
    trackers: int, per_report: float
) -> tuple[list[Any], list[Any], list[list[Any]]]:
    """Plain entities with precomputed values: one tracker + sensors per tracker."""
    from homeassistant.components.device_tracker import (  # type: ignore[attr-defined]
        TrackerEntity,
    )
    from homeassistant.components.device_tracker.const import SourceType
    from homeassistant.components.sensor import (
        SensorDeviceClass,
        SensorEntity,
        SensorStateClass,
    )
    from homeassistant.const import UnitOfSpeed
    from homeassistant.helpers.device_registry import DeviceInfo

    def device(index: int) -> DeviceInfo:
        return DeviceInfo(identifiers={("bench_anchor", str(index))}, name=f"Anchor {index}")

    class AnchorTracker(TrackerEntity):
        _attr_should_poll = False
        _attr_has_entity_name = True
        _attr_source_type = SourceType.GPS
        _attr_location_accuracy = 0

        def __init__(self, index: int) -> None:
            self._attr_unique_id = f"anchor_{index}_location"
            self._attr_name = None
            # (TrackerEntity declares no device in some versions; the integration's have one.)
            self._attr_device_info = device(index)  # type: ignore[assignment, unused-ignore]
            # Where the integration's tracker ``index`` is: Home Assistant caches zone distances
            # by point, so trackers sharing coordinates would make the anchor's writes cheaper.
            self._attr_latitude = loadgen.latitude_of(0)
            self._attr_longitude = loadgen.longitude_of(index)

        @property
        def latitude(self) -> float | None:
            return self._attr_latitude

        @property
        def longitude(self) -> float | None:
            return self._attr_longitude

    class AnchorSpeed(SensorEntity):
        _attr_should_poll = False
        _attr_has_entity_name = True
        _attr_device_class = SensorDeviceClass.SPEED
        _attr_native_unit_of_measurement = UnitOfSpeed.KILOMETERS_PER_HOUR
        _attr_state_class = SensorStateClass.MEASUREMENT
        _attr_suggested_display_precision = 0

        def __init__(self, index: int, key: str = "speed") -> None:
            self._attr_unique_id = f"anchor_{index}_{key}"
            self._attr_name = key
            self._attr_device_info = device(index)

    class AnchorTimestamp(SensorEntity):
        _attr_should_poll = False
        _attr_has_entity_name = True
        _attr_device_class = SensorDeviceClass.TIMESTAMP

        def __init__(self, index: int) -> None:
            self._attr_unique_id = f"anchor_{index}_last_seen"
            self._attr_name = "Last seen"
            self._attr_device_info = device(index)

    extra = max(0, math.ceil(per_report) - 3)  # more sensors when >3 writes per report
    location = [AnchorTracker(i) for i in range(trackers)]
    sensors: list[list[Any]] = []
    for i in range(trackers):
        row: list[Any] = [AnchorSpeed(i), AnchorTimestamp(i)]
        row += [AnchorSpeed(i, f"extra{k}") for k in range(extra)]
        sensors.append(row)
    flat = [s for row in sensors for s in row]
    return location, flat, sensors


class AnchorWriter:
    """One report's state changes, precomputed, written into the anchor's plain entities.

    Location and speed change on every report; the other writes (last seen, ignition …) are
    spread over the reports as in phase 1. Every write changes the state: a write that changes
    nothing costs less and fires no event, so it would not be "the same change". The coordinates
    are the integration's for the same tracker and report (``loadgen.latitude_of``,
    ``longitude_of``): Home Assistant memoises the zone distance of a point (``distance`` is an
    ``lru_cache``), so coordinates shared by all anchor trackers would skip the Vincenty formula
    that every integration write pays.
    """

    def __init__(self, location: list[Any], sensors: list[list[Any]], per_report: float) -> None:
        self.location = location
        self.sensors = sensors
        self.extra_per_report = per_report - 2
        self.budget = 0.0
        self.done = 0
        self.latitudes = [loadgen.latitude_of(seq) for seq in range(4096)]
        self.speeds = [18.5, 20.4]
        base = datetime.now(UTC)
        self.stamps = [base + timedelta(seconds=i) for i in range(4096)]  # shown to the second

    def write(self, index: int, n: int) -> None:
        """Report ``n`` of tracker ``index``."""
        loc = self.location[index]
        loc._attr_latitude = self.latitudes[n & 4095]
        loc.async_write_ha_state()
        row = self.sensors[index]
        speed = row[0]
        speed._attr_native_value = self.speeds[n & 1]
        speed.async_write_ha_state()
        self.budget += self.extra_per_report
        if self.budget >= 1.0:
            seen = row[1]
            seen._attr_native_value = self.stamps[self.done & 4095]
            seen.async_write_ha_state()
            self.budget -= 1.0
            k = 2
            while self.budget >= 1.0 and k < len(row):
                row[k]._attr_native_value = float(n)
                row[k].async_write_ha_state()
                self.budget -= 1.0
                k += 1
        self.done += 1


@contextlib.asynccontextmanager
async def anchor_writer(
    hass: Any, trackers: int, per_report: float, watch: StateWatch
) -> AsyncIterator[AnchorWriter]:
    """The anchor's entities added to Home Assistant (watched as the integration's are) and
    their writer, for the anchor's tight loop and the floor's rounds; removed at the end."""
    from homeassistant.helpers.entity_platform import EntityPlatform
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    location, flat, sensors = anchor_entities(trackers, per_report)
    # A config entry, so the entities get devices and names the way the integration's do.
    anchor_entry = MockConfigEntry(domain="bench_anchor", title="anchor")
    anchor_entry.add_to_hass(hass)
    logger = logging.getLogger("bench.anchor")
    platforms = {
        domain: EntityPlatform(
            hass=hass,
            logger=logger,
            domain=domain,
            platform_name="bench_anchor",
            platform=None,
            scan_interval=timedelta(seconds=30),
            entity_namespace=None,
        )
        for domain in ("device_tracker", "sensor")
    }
    for platform in platforms.values():
        platform.config_entry = anchor_entry
    try:
        await platforms["device_tracker"].async_add_entities(location)
        await platforms["sensor"].async_add_entities(flat)
        await hass.async_block_till_done()
        for entity in [*location, *flat]:
            watch.watched.add(entity.entity_id)
        for index, entity in enumerate(location):
            watch.trackers[entity.entity_id] = index
        yield AnchorWriter(location, sensors, per_report)
    finally:
        for platform in platforms.values():
            await platform.async_reset()


async def run_anchor(
    writer: AnchorWriter, reports: int, watch: StateWatch, gc_time: GcTime
) -> dict[str, Any]:
    """Phase 2: ``reports`` reports' state changes written in a tight loop."""
    trackers = len(writer.location)
    writes_before = watch.writes
    gc0 = list(gc_time.runs)
    gc.collect()
    cpu0 = time.thread_time()
    wall0 = time.monotonic()
    done = 0
    while done < reports:
        for _ in range(min(200, reports - done)):
            writer.write(done % trackers, done // trackers)
            done += 1
        await asyncio.sleep(0)
    cpu = time.thread_time() - cpu0
    wall = time.monotonic() - wall0
    gc1 = list(gc_time.runs)
    writes = watch.writes - writes_before
    return {
        "reports": reports,
        "writes_per_report": writes / reports,
        "cpu_us_per_report": cpu / reports * 1e6,
        "wall_s": wall,
        "gc_per_1000": [round((b - a) * 1000 / reports, 2) for a, b in zip(gc0, gc1, strict=True)],
    }
