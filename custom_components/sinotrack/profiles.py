"""What Home Assistant remembers about each tracker across restarts: its H02 dialect and its SIM.

One store per listener entry (``sinotrack.<entry_id>.trackers``), keyed by tracker ID. A 4G
tracker says it is one only in its V6/V8 reports; remembered, its first binary frame after a
restart is read by the right status table and its first restore has the right form.
Nothing read back is trusted: a record this module would not have written is dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN, valid_iccid, valid_tracker_id

STORAGE_VERSION = 1
SAVE_DELAY_S = 5.0
DIALECTS = frozenset({"classic", "4g"})

type Record = dict[str, str]  # "dialect", "iccid"


def store_key(entry_id: str) -> str:
    return f"{DOMAIN}.{entry_id}.trackers"


class TrackerProfiles:
    """The remembered dialect and ICCID of the trackers of one listener entry."""

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
            if clean:
                self._records[tracker_id] = clean

    def dialect(self, tracker_id: str) -> str | None:
        return self._records.get(tracker_id, {}).get("dialect")

    def iccid(self, tracker_id: str) -> str | None:
        return self._records.get(tracker_id, {}).get("iccid")

    def remember(self, tracker_id: str, dialect: str | None, iccid: str | None) -> None:
        """Keep what a tracker told about itself; written a few seconds later, once."""
        record: Record = {}
        if dialect is not None:
            record["dialect"] = dialect
        if iccid is not None:
            record["iccid"] = iccid
        if self._records.get(tracker_id, {}) == record:
            return
        self._records[tracker_id] = record
        self._save()

    def retain(self, tracker_ids: Collection[str]) -> None:
        """Forget the trackers that are no longer configured."""
        gone = [t for t in self._records if t not in tracker_ids]
        for tracker_id in gone:
            del self._records[tracker_id]
        if gone:
            self._save()

    def as_dict(self) -> dict[str, Record]:
        return {tracker_id: dict(record) for tracker_id, record in self._records.items()}

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
