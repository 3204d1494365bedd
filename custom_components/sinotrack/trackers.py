"""Tracker identity rules: what may become a device, and its default name."""

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
