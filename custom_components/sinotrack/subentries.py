"""Tracker subentries: which IDs may become one, its default name, and adding one.

Used by the config flow (a tracker added by hand or confirmed) and by the hub (the "add" policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from homeassistant.config_entries import ConfigEntries, ConfigEntry, ConfigSubentry

from .const import CONF_TRACKER_ID, SUBENTRY_TYPE_TRACKER

MAX_TRACKER_ID_LENGTH = 20


def valid_tracker_id(tracker_id: str) -> bool:
    """Digits only, 1-20 of them: nothing else from the network becomes a name or an ID."""
    return (
        0 < len(tracker_id) <= MAX_TRACKER_ID_LENGTH
        and tracker_id.isascii()
        and tracker_id.isdigit()
    )


def default_tracker_name(tracker_id: str) -> str:
    """ "SinoTrack 1234": the last four digits tell trackers apart on a dashboard."""
    return f"SinoTrack {tracker_id[-4:]}"


def tracker_subentries(entry: ConfigEntry) -> Iterator[tuple[str, ConfigSubentry]]:
    """(tracker ID, subentry) for every tracker of a listener entry."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_TYPE_TRACKER:
            yield str(subentry.data[CONF_TRACKER_ID]), subentry


def add_tracker_subentry(
    manager: ConfigEntries, entry: ConfigEntry, tracker_id: str, name: str
) -> ConfigSubentry:
    """Add a tracker to the listener entry (the entry's update listener creates its device)."""
    subentry = ConfigSubentry(
        data=MappingProxyType({CONF_TRACKER_ID: tracker_id}),
        subentry_type=SUBENTRY_TYPE_TRACKER,
        title=name,
        unique_id=tracker_id,
    )
    manager.async_add_subentry(entry, subentry)
    return subentry
