"""Constants of the SinoTrack integration, the identity rules of what the network sends (tracker
IDs, ICCIDs) and the dispatcher signal names. Imports nothing from the rest of the integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "sinotrack"
MANUFACTURER: Final = "SinoTrack"

CONF_PORT: Final = "port"
CONF_TCP: Final = "tcp"
CONF_UDP: Final = "udp"
DEFAULT_PORT: Final = 8888

CONF_NEW_TRACKERS: Final = "new_trackers"
CONF_OFFLINE_AFTER: Final = "offline_after"
CONF_MAX_CONNECTIONS: Final = "max_connections"
DEFAULT_OFFLINE_AFTER: Final = 10  # minutes of silence before a tracker counts as offline
DEFAULT_MAX_CONNECTIONS: Final = 500

CONF_RELAY_HOST: Final = "relay_host"  # empty: no relay
CONF_RELAY_PORT: Final = "relay_port"
CONF_RELAY_COMMANDS: Final = "relay_commands"
DEFAULT_RELAY_PORT: Final = 5013  # Traccar's H02 port; SinoTrack's own servers use others

CONF_TRACKER_ID: Final = "tracker_id"
CONF_NAME: Final = "name"
CONF_MAX_CUT_SPEED: Final = "max_cut_speed"
DEFAULT_MAX_CUT_SPEED: Final = 20.0  # km/h: above this an engine cut is refused
CONF_R12_REPLIES: Final = "r12_replies"
CONF_COMMAND_STYLE: Final = "command_style"
DEFAULT_R12_REPLIES: Final = True
SUBENTRY_TYPE_TRACKER: Final = "tracker"


MAX_TRACKER_ID_LENGTH: Final = 20
MIN_ICCID_LENGTH: Final = 18  # ITU-T E.118: 19-20 digits; some SIMs print 18 or 22
MAX_ICCID_LENGTH: Final = 22


def valid_tracker_id(tracker_id: str) -> bool:
    """Digits only, 1-20 of them: nothing else from the network becomes a name or an ID."""
    return (
        0 < len(tracker_id) <= MAX_TRACKER_ID_LENGTH
        and tracker_id.isascii()
        and tracker_id.isdigit()
    )


def valid_iccid(iccid: str) -> bool:
    """A SIM's ICCID as the codec hands it over (digits, filler removed), of a sane length."""
    return (
        MIN_ICCID_LENGTH <= len(iccid) <= MAX_ICCID_LENGTH and iccid.isascii() and iccid.isdigit()
    )


class NewTrackerPolicy(StrEnum):
    """What happens when an unknown tracker ID reports."""

    ASK = "ask"
    ADD = "add"
    IGNORE = "ignore"


DEFAULT_NEW_TRACKERS: Final = NewTrackerPolicy.ASK


class CommandStyle(StrEnum):
    """Which engine-restore form an H02 tracker gets (SinoTrack's two lines disagree)."""

    AUTO = "auto"  # the tracker's remembered dialect: 4G once it sent V6/V8, else classic
    CLASSIC = "classic"  # S20,<tag>,1,0
    FOUR_G = "4g"  # S20,<tag>,0,0


DEFAULT_COMMAND_STYLE: Final = CommandStyle.AUTO


def signal_tracker_updated(subentry_id: str) -> str:
    """The dispatcher signal of one tracker, fired on every message it sends: the entities that
    show what its reports measure (position, speed, course, last seen …) look again."""
    return f"{DOMAIN}_{subentry_id}_updated"


def signal_tracker_status(subentry_id: str) -> str:
    """The dispatcher signal of one tracker's status, fired when it changes: online, the status
    word's flags, the immobilizer and its queued command, the battery, and the first report of
    a value only some models send (``TrackerState.status_key``).

    A second, rarer signal because each entity a signal wakes costs the event loop about 1.6 µs
    per report under the end-to-end benchmark's flood (the dispatcher's call and the entity's
    comparison; docs/performance.md): with one signal the seven followers of the status would
    wake on every report for values that change a few times a day.
    """
    return f"{DOMAIN}_{subentry_id}_status"


def signal_tracker_alarm(subentry_id: str) -> str:
    """The dispatcher signal of one tracker's alarms (an ``AlarmEvent`` each)."""
    return f"{DOMAIN}_{subentry_id}_alarm"
