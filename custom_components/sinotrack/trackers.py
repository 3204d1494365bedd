"""Tracker identity rules: what may become a device, its default name, and its SIM's number."""

from __future__ import annotations

from collections.abc import Iterable
from string import ascii_uppercase

MAX_TRACKER_ID_LENGTH = 20


def valid_tracker_id(tracker_id: str) -> bool:
    """Digits only, 1-20 of them: nothing else from the network becomes a name or an ID."""
    return (
        0 < len(tracker_id) <= MAX_TRACKER_ID_LENGTH
        and tracker_id.isascii()
        and tracker_id.isdigit()
    )


def map_marker(name: str) -> str:
    """The text the map draws for a tracker without a picture: the first character of each
    word of its name, at most three (the frontend's ha-map: ``name.split(" ")``, first
    characters, ``substr(0, 3)``). "SinoTrack 1600" and "SinoTrack 1601" are both "S1"."""
    return "".join(word[0] for word in name.split(" ") if word)[:3]


def default_tracker_name(tracker_id: str, taken: Iterable[str] = ()) -> str:
    """ "SinoTrack A 1660": a letter that gives the tracker a map marker no other tracker has
    ("SA1", "SB1" …), then the last four digits of its ID, which tell the user which device it
    is. ``taken``: the names of the trackers already added (of every hub: one map shows all)."""
    markers = {map_marker(name) for name in taken}
    tail = tracker_id[-4:]
    for letter in ascii_uppercase:
        name = f"SinoTrack {letter} {tail}"
        if map_marker(name) not in markers:
            return name
    return f"SinoTrack {tail}"  # 26 markers taken: a name that tells the tracker at least


MIN_ICCID_LENGTH = 18  # ITU-T E.118: 19-20 digits; some SIMs print 18 or 22
MAX_ICCID_LENGTH = 22


def valid_iccid(iccid: str) -> bool:
    """A SIM's ICCID as the codec hands it over (digits, filler removed), of a sane length."""
    return (
        MIN_ICCID_LENGTH <= len(iccid) <= MAX_ICCID_LENGTH and iccid.isascii() and iccid.isdigit()
    )
