"""The engine restore's two H02 forms, and the repair when a tracker leaves a restore unanswered.

SinoTrack's classic trackers restore with ``S20,<tag>,1,0``; its 4G line's protocol note says
``S20,<tag>,0,0`` (h02.md §13.3). Whether either accepts the other's is unknown, so a tracker
gets the form of its dialect (or the one its ``command_style`` names), and a restore nobody
acknowledges is never left silent: the user may be standing next to a car that will not start.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, CommandStyle
from .dialect import FOUR_G
from .protocol import Command, CommandKind, EncodedCommand
from .sms import sms_text

if TYPE_CHECKING:
    from .tracker import TrackerState

IMMOBILIZER_KINDS: Final = frozenset({CommandKind.ENGINE_STOP, CommandKind.ENGINE_RESUME})

# What the H02 codec takes in Command.text for the engine commands, and the restore it sends.
CODEC_TEXT: Final = {CommandStyle.CLASSIC: "CLASSIC", CommandStyle.FOUR_G: "4G"}
RESTORE_FORM: Final = {CommandStyle.CLASSIC: "S20,…,1,0", CommandStyle.FOUR_G: "S20,…,0,0"}
OTHER: Final = {
    CommandStyle.CLASSIC: CommandStyle.FOUR_G,
    CommandStyle.FOUR_G: CommandStyle.CLASSIC,
}
SMS_RESTORE: Final = sms_text("engine_resume", "PASSWORD")  # 941PASSWORD: unverified


def restore_style(tracker: TrackerState) -> CommandStyle:
    """The form this tracker's engine commands take: its setting, or else its dialect."""
    if tracker.command_style is not CommandStyle.AUTO:
        return tracker.command_style
    return CommandStyle.FOUR_G if tracker.dialect == FOUR_G else CommandStyle.CLASSIC


def for_protocol(tracker: TrackerState, command: Command, protocol: str | None) -> Command:
    """The command as the codec of the tracker's connection (``protocol``) gets it: H02 engine
    commands name their form (other protocols use ``Command.text`` for their own variants and
    never get these)."""
    if command.kind not in IMMOBILIZER_KINDS or protocol != "h02":
        return command
    return dataclasses.replace(command, text=CODEC_TEXT[restore_style(tracker)])


def _issue_id(tracker: TrackerState) -> str:
    return f"restore_unanswered_{tracker.tracker_id}"


def restore_unanswered(
    hass: HomeAssistant, tracker: TrackerState, encoded: EncodedCommand, seconds: float
) -> None:
    """A restore got no acknowledgement: tell the user which other form and the SMS to try."""
    sent = next((s for s, text in CODEC_TEXT.items() if text == encoded.command.text), None)
    if sent is None:  # not an H02 restore: there is no other form to offer
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(tracker),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="restore_unanswered",
        translation_placeholders={
            "name": tracker.name,
            "seconds": f"{seconds:.0f}",
            "sent": RESTORE_FORM[sent],
            "other": RESTORE_FORM[OTHER[sent]],
            "sms": SMS_RESTORE,
        },
    )


def restore_acknowledged(hass: HomeAssistant, tracker: TrackerState) -> None:
    ir.async_delete_issue(hass, DOMAIN, _issue_id(tracker))
