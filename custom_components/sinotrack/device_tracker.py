"""The tracker on the map: its last valid fix, restored across restarts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.device_tracker import (  # type: ignore[attr-defined, unused-ignore]
    TrackerEntity,
)
from homeassistant.components.device_tracker.const import SourceType
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import ExtraStoredData, RestoredExtraData, RestoreEntity
from homeassistant.util import dt as dt_util

from .entity import SinoTrackStateEntity, add_per_tracker
from .motion import FALLBACK_ACCURACY_M
from .tracker import TrackerState

if TYPE_CHECKING:
    from . import SinoTrackConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SinoTrackConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_per_tracker(entry, async_add_entities, lambda tracker: [SinoTrackLocation(tracker)])


class SinoTrackLocation(SinoTrackStateEntity, TrackerEntity, RestoreEntity):
    """Moves only on a valid fix newer than the one shown, and not on a parked vehicle's
    jitter. Stays put while offline: the last fix is still the best answer to "where is it"
    (a stolen car's last position most of all), and ``unavailable`` would drop it from the map
    and from the person it belongs to; the connectivity sensor tells that it is old."""

    _attr_name = None  # the device's name: the map shows "Motorbike", not "Motorbike Location"
    # The tracker base class files it under diagnostics; on the device page it belongs on top.
    _attr_entity_category = None  # type: ignore[assignment]
    # Constants as attributes: looked up on every write, and SourceType's members are behind a
    # deprecation wrapper in newer Home Assistant (a Python call per access).
    _attr_source_type = SourceType.GPS
    # Never 0 (Home Assistant would take every fix as exact): the protocol's default until the
    # first fix tells better (motion.fix_accuracy_m).
    _attr_location_accuracy = int(FALLBACK_ACCURACY_M)

    def __init__(self, tracker: TrackerState) -> None:
        super().__init__(tracker, "location")

    def _refresh(self) -> bool:
        tracker = self.tracker
        changed = False
        if tracker.latitude != self._attr_latitude:
            self._attr_latitude = tracker.latitude
            changed = True
        if tracker.longitude != self._attr_longitude:  # most moves change one coordinate
            self._attr_longitude = tracker.longitude
            changed = True
        # The accuracy of the fix shown: parked jitter changes neither (TrackerState.parked).
        # Whole metres: the type Home Assistant 2025.4 declares, and finer is noise.
        if (
            tracker.accuracy_m is not None
            and (accuracy := max(1, round(tracker.accuracy_m))) != self._attr_location_accuracy
        ):
            self._attr_location_accuracy = accuracy
            changed = True
        return changed

    @property
    def extra_restore_state_data(self) -> ExtraStoredData:
        fix_time = self.tracker.fix_time
        return RestoredExtraData(
            {
                "latitude": self.tracker.latitude,
                "longitude": self.tracker.longitude,
                "fix_time": fix_time.isoformat() if fix_time else None,
            }
        )

    async def async_added_to_hass(self) -> None:
        tracker = self.tracker
        if tracker.latitude is None:
            extra = await self.async_get_last_extra_data()
            data = extra.as_dict() if extra else {}
            if data.get("latitude") is None:
                last = await self.async_get_last_state()
                if last is not None:
                    data = {
                        "latitude": last.attributes.get("latitude"),
                        "longitude": last.attributes.get("longitude"),
                    }
            restore_fix(tracker, data)
        await super().async_added_to_hass()


def restore_fix(tracker: TrackerState, data: dict[str, Any]) -> None:
    """Put a restored fix back into the tracker, if it is a real one."""
    try:
        latitude = float(data["latitude"])
        longitude = float(data["longitude"])
    except (KeyError, TypeError, ValueError):
        return
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return
    tracker.latitude = latitude
    tracker.longitude = longitude
    tracker.parked.anchor(latitude, longitude)  # parked jitter after the restart stays hidden
    raw_time = data.get("fix_time")
    fix_time: datetime | None = None
    if isinstance(raw_time, str):
        fix_time = dt_util.parse_datetime(raw_time)
    if fix_time is not None:
        # Never newer than now: a fix saved in the future would hold back every report after it.
        fix_time = min(dt_util.as_utc(fix_time), dt_util.utcnow())
    tracker.fix_time = fix_time
