"""What Home Assistant remembers about each tracker across restarts: its H02 dialect, its SIM and
its active alarms.

One store per listener entry (``sinotrack.<entry_id>.trackers``), keyed by tracker ID. A 4G
tracker says it is one only in its V6/V8 reports; remembered, its first binary frame after a
restart is read by the right status table and its first restore has the right form. An alarm
still active when Home Assistant stopped (a power cut) is still active when it starts: the first
report that shows it again is no new edge, so it fires no second event.
Nothing read back is trusted: a record this module would not have written is dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN, valid_iccid, valid_tracker_id
from .protocol import Alarm

STORAGE_VERSION = 1
SAVE_DELAY_S = 5.0
DIALECTS = frozenset({"classic", "4g"})
ALARM_VALUES = frozenset(alarm.value for alarm in Alarm)

type Record = dict[str, Any]  # "dialect", "iccid" (str), "alarms" (a sorted list of str)


def store_key(entry_id: str) -> str:
    return f"{DOMAIN}.{entry_id}.trackers"


class TrackerProfiles:
    """The remembered dialect, ICCID and active alarms of the trackers of one listener entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Record]] = Store(hass, STORAGE_VERSION, store_key(entry_id))
        self._records: dict[str, Record] = {}
        self._dirty = False  # changed since the last write

    async def async_load(self) -> None:
        stored: Any = await self._store.async_load()
        self._records = {}
        if not isinstance(stored, dict):
            return
        for tracker_id, record in stored.items():
            if not isinstance(tracker_id, str) or not valid_tracker_id(tracker_id):
                continue
            if not isinstance(record, dict):
                continue
            clean: Record = {}
            if (dialect := record.get("dialect")) in DIALECTS:
                clean["dialect"] = dialect
            iccid = record.get("iccid")
            if isinstance(iccid, str) and valid_iccid(iccid):
                clean["iccid"] = iccid
            alarms = record.get("alarms")
            if isinstance(alarms, list):
                known = sorted({a for a in alarms if isinstance(a, str) and a in ALARM_VALUES})
                if known:
                    clean["alarms"] = known
            if clean:
                self._records[tracker_id] = clean

    def dialect(self, tracker_id: str) -> str | None:
        return self._records.get(tracker_id, {}).get("dialect")

    def iccid(self, tracker_id: str) -> str | None:
        iccid: str | None = self._records.get(tracker_id, {}).get("iccid")
        return iccid

    def alarms(self, tracker_id: str) -> frozenset[Alarm]:
        return frozenset(Alarm(a) for a in self._records.get(tracker_id, {}).get("alarms", ()))

    def remember(self, tracker_id: str, dialect: str | None, iccid: str | None) -> None:
        """Keep what a tracker told about itself; written a few seconds later, once."""
        record: Record = dict(self._records.get(tracker_id, {}))
        for key, value in (("dialect", dialect), ("iccid", iccid)):
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        self._update(tracker_id, record)

    def remember_alarms(self, tracker_id: str, alarms: frozenset[Alarm]) -> None:
        """Keep the alarms active now (they change on an alarm's edges only)."""
        record: Record = dict(self._records.get(tracker_id, {}))
        if alarms:
            record["alarms"] = sorted(alarm.value for alarm in alarms)
        else:
            record.pop("alarms", None)
        self._update(tracker_id, record)

    def _update(self, tracker_id: str, record: Record) -> None:
        if self._records.get(tracker_id, {}) == record:
            return
        if record:
            self._records[tracker_id] = record
        else:
            self._records.pop(tracker_id, None)
        self._save()

    def retain(self, tracker_ids: Collection[str]) -> None:
        """Forget the trackers that are no longer configured."""
        gone = [t for t in self._records if t not in tracker_ids]
        for tracker_id in gone:
            del self._records[tracker_id]
        if gone:
            self._save()

    def as_dict(self) -> dict[str, Record]:
        return {
            tracker_id: {k: list(v) if isinstance(v, list) else v for k, v in record.items()}
            for tracker_id, record in self._records.items()
        }

    def _save(self) -> None:
        self._dirty = True
        self._store.async_delay_save(self.as_dict, SAVE_DELAY_S)

    async def async_flush(self) -> None:
        """Write now (on unload) what changed, so a reload reads what was learnt."""
        if self._dirty:
            self._dirty = False
            await self._store.async_save(self.as_dict())


async def async_remove_profiles(hass: HomeAssistant, entry_id: str) -> None:
    """The listener entry was deleted: its trackers' records go with it."""
    await Store[dict[str, Record]](hass, STORAGE_VERSION, store_key(entry_id)).async_remove()
