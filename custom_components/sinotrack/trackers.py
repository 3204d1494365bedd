"""Tracker identity rules: what may become a device, its default name, and its SIM's number."""

from __future__ import annotations

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


MIN_ICCID_LENGTH = 18  # ITU-T E.118: 19-20 digits; some SIMs print 18 or 22
MAX_ICCID_LENGTH = 22


def valid_iccid(iccid: str) -> bool:
    """A SIM's ICCID as the codec hands it over (digits, filler removed), of a sane length."""
    return (
        MIN_ICCID_LENGTH <= len(iccid) <= MAX_ICCID_LENGTH and iccid.isascii() and iccid.isdigit()
    )
