"""Tracker subentries: which hub owns a tracker ID, a new tracker's default name, adding one.

(Which IDs may become a tracker at all is ``const.valid_tracker_id``.)

Used by the config flow (a tracker added by hand or confirmed) and by the hub (the "add" policy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from string import ascii_uppercase
from types import MappingProxyType

from homeassistant.config_entries import ConfigEntries, ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant

from .const import CONF_TRACKER_ID, DOMAIN, SUBENTRY_TYPE_TRACKER
from .phrases import phrase


def map_marker(name: str) -> str:
    """The text the map draws for a tracker without a picture: the first character of each
    word of its name, at most three (the frontend's ha-map: ``name.split(" ")``, first
    characters, ``substr(0, 3)``). "SinoTrack 1600" and "SinoTrack 1601" are both "S1"."""
    return "".join(word[0] for word in name.split(" ") if word)[:3]


def default_tracker_name(
    tracker_id: str,
    taken: Iterable[str] = (),
    pattern: str = "SinoTrack {letter} {digits}",
    plain: str = "SinoTrack {digits}",
) -> str:
    """ "SinoTrack A 1660": a letter that gives the tracker a map marker no other tracker has
    ("SA1", "SB1" …), then the last four digits of its ID, which tell the user which device it
    is. ``taken``: the names of the trackers already added (of every hub: one map shows all);
    ``pattern`` and ``plain``: the name in the user's language, with and without the letter."""
    markers = {map_marker(name) for name in taken}
    tail = tracker_id[-4:]
    for letter in ascii_uppercase:
        name = pattern.format(letter=letter, digits=tail)
        if map_marker(name) not in markers:
            return name
    return plain.format(digits=tail)  # 26 markers taken: a name that tells the tracker at least


def tracker_subentries(entry: ConfigEntry) -> Iterator[tuple[str, ConfigSubentry]]:
    """(tracker ID, subentry) for every tracker of a listener entry."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_TYPE_TRACKER:
            yield str(subentry.data[CONF_TRACKER_ID]), subentry


def tracker_owner(hass: HomeAssistant, tracker_id: str) -> ConfigEntry | None:
    """The listener entry (hub) a tracker ID is configured under: an ID belongs to one only."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if any(
            sub.subentry_type == SUBENTRY_TYPE_TRACKER and sub.unique_id == tracker_id
            for sub in entry.subentries.values()
        ):
            return entry
    return None


def suggested_tracker_name(hass: HomeAssistant, tracker_id: str) -> str:
    """The default name of a new tracker: its map marker differs from every other tracker's."""
    names = (
        sub.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_TYPE_TRACKER
    )
    return default_tracker_name(
        tracker_id,
        names,
        phrase(hass, "default_tracker_name", letter="{letter}", digits="{digits}"),
        phrase(hass, "default_tracker_name_plain", digits="{digits}"),
    )


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
