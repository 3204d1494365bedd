"""Constants of the SinoTrack integration."""

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

CONF_TRACKER_ID: Final = "tracker_id"
CONF_NAME: Final = "name"
CONF_MAX_CUT_SPEED: Final = "max_cut_speed"
CONF_R12_REPLIES: Final = "r12_replies"
CONF_COMMAND_STYLE: Final = "command_style"
DEFAULT_R12_REPLIES: Final = True
SUBENTRY_TYPE_TRACKER: Final = "tracker"


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
