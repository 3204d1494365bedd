"""One hub per listener entry: trackers, new-tracker policy, online/offline, repairs.

The server hands every decoded message to ``Hub.handle`` (synchronously, on the event loop) with
the peer it came from. The hub folds it into the tracker's state, fires the tracker's dispatcher
signal (its entities look again), decides whether the message is answered and answers through the
peer, then sends the commands queued for that tracker through the same peer.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import discovery_flow
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from . import dialect
from .commands import CommandCenter, CommandResult
from .const import (
    CONF_COMMAND_STYLE,
    CONF_MAX_CUT_SPEED,
    CONF_NEW_TRACKERS,
    CONF_OFFLINE_AFTER,
    CONF_R12_REPLIES,
    CONF_RELAY_COMMANDS,
    CONF_RELAY_HOST,
    CONF_RELAY_PORT,
    CONF_TRACKER_ID,
    DEFAULT_COMMAND_STYLE,
    DEFAULT_MAX_CUT_SPEED,
    DEFAULT_NEW_TRACKERS,
    DEFAULT_OFFLINE_AFTER,
    DEFAULT_R12_REPLIES,
    DEFAULT_RELAY_PORT,
    DOMAIN,
    CommandStyle,
    NewTrackerPolicy,
    signal_tracker_alarm,
    signal_tracker_status,
    signal_tracker_updated,
    valid_tracker_id,
)
from .fix_clock import OFFSET_MIN_SPAN_S, FixClock
from .profiles import TrackerProfiles
from .protocol import Command, CommandAck, Decoded, DeviceIdentity, ServerMessage
from .relay import BACKOFF_BASE_S, BACKOFF_MAX_S, UNREACHABLE_AFTER_S, Relay
from .server import Peer
from .subentries import (
    add_tracker_subentry,
    suggested_tracker_name,
    tracker_owner,
    tracker_subentries,
)
from .tracker import QUIET, Outcome, TrackerState

_LOGGER = logging.getLogger(__name__)

MAX_PENDING_TRACKERS = 20
PENDING_MESSAGES_PER_TRACKER = 10
OFFLINE_CHECK_INTERVAL = timedelta(seconds=30)
DUPLICATE_TAKEOVERS = 3  # new connections taking over one ID ...
DUPLICATE_WINDOW_S = 600.0  # ... this quickly: two devices share the ID

type PlatformAdder = Callable[[TrackerState], None]


@dataclass(slots=True)
class HubStats:
    """What the hub dropped, and why (shown in diagnostics)."""

    messages: int = 0
    invalid_ids: int = 0
    unknown_ignored: int = 0
    unknown_dropped: int = 0  # more than MAX_PENDING_TRACKERS waiting
    untrusted_times: int = 0
    late_reports: int = 0
    duplicate_sessions: int = 0


class Hub:
    """The trackers of one listener entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        clock_min_span_s: float = OFFSET_MIN_SPAN_S,
        relay_backoff: tuple[float, float] = (BACKOFF_BASE_S, BACKOFF_MAX_S),
        relay_unreachable_after: float = UNREACHABLE_AFTER_S,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.trackers: dict[str, TrackerState] = {}
        self.peers: dict[str, Peer] = {}  # which peer speaks for which tracker
        # Unknown trackers waiting for a decision: their latest messages and peer.
        self.pending: OrderedDict[str, deque[tuple[Decoded, datetime, float, Peer]]] = OrderedDict()
        self._clock_min_span_s = clock_min_span_s  # how long a local-time offset must hold
        self.stats = HubStats()
        self.policy = NewTrackerPolicy(DEFAULT_NEW_TRACKERS)
        self.offline_after = timedelta(minutes=DEFAULT_OFFLINE_AFTER)
        self._adders: list[PlatformAdder] = []
        self._takeovers: dict[str, deque[float]] = {}
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._started_mono = time.monotonic()  # start(): a tracker silent since then goes offline
        self.commands = CommandCenter(
            hass, f"{DOMAIN}.{entry.entry_id}.commands", self._switch_of, self.status_changed
        )
        self.profiles = TrackerProfiles(hass, entry.entry_id)  # loaded before start()
        self.relay = Relay(
            self._relay_command,
            self._relay_unreachable,
            lambda coro: entry.async_create_background_task(hass, coro, f"{DOMAIN} relay"),
            backoff_base=relay_backoff[0],
            backoff_max=relay_backoff[1],
            unreachable_after=relay_unreachable_after,
        )
        self.apply_options(entry.options)

    # --- lifecycle -------------------------------------------------------------------------

    @callback
    def start(self) -> None:
        self._started_mono = time.monotonic()
        self.sync_subentries()
        self._unsub_timer = async_track_time_interval(
            self.hass, self._check_offline, OFFLINE_CHECK_INTERVAL, cancel_on_shutdown=True
        )

    @callback
    def stop(self) -> None:
        self.commands.shutdown()
        self.relay.close()
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    @callback
    def apply_options(self, options: Mapping[str, Any]) -> None:
        try:
            self.policy = NewTrackerPolicy(options.get(CONF_NEW_TRACKERS, DEFAULT_NEW_TRACKERS))
        except ValueError:
            self.policy = NewTrackerPolicy(DEFAULT_NEW_TRACKERS)
        self.offline_after = timedelta(
            minutes=float(options.get(CONF_OFFLINE_AFTER, DEFAULT_OFFLINE_AFTER))
        )
        if self.relay.configure(
            str(options.get(CONF_RELAY_HOST) or ""),
            int(options.get(CONF_RELAY_PORT, DEFAULT_RELAY_PORT)),
            bool(options.get(CONF_RELAY_COMMANDS, False)),
        ):
            for tracker_id, peer in self.peers.items():  # relayed from now on
                self.relay.attach(tracker_id, peer)

    @callback
    def register_platform(self, adder: PlatformAdder) -> None:
        """How a platform adds a tracker's entities: called for every tracker, now and later."""
        self._adders.append(adder)
        for tracker in self.trackers.values():
            adder(tracker)

    @callback
    def sync_subentries(self) -> None:
        """Create state for new tracker subentries, drop removed ones."""
        wanted: dict[str, ConfigSubentry] = dict(tracker_subentries(self.entry))
        for tracker_id in list(self.trackers):
            if tracker_id not in wanted:
                del self.trackers[tracker_id]
                self.relay.forget(tracker_id)
        self.profiles.retain(wanted)
        for tracker_id, sub in wanted.items():
            tracker = self.trackers.get(tracker_id)
            max_cut_speed = float(sub.data.get(CONF_MAX_CUT_SPEED, DEFAULT_MAX_CUT_SPEED))
            if tracker is not None:
                tracker.name = sub.title
                tracker.max_cut_speed = max_cut_speed
                self._apply_settings(tracker, sub)
                if (known := self.peers.get(tracker_id)) is not None:
                    dialect.tune(known.codec, tracker.dialect, tracker.r12_replies)
                continue
            tracker = TrackerState(
                tracker_id,
                sub.title,
                sub.subentry_id,
                max_cut_speed=max_cut_speed,
                clock=FixClock(min_span_s=self._clock_min_span_s),
                dialect=self.profiles.dialect(tracker_id),
                iccid=self.profiles.iccid(tracker_id),
                # Still active after a restart: showing it again is no new edge, no new event.
                active_alarms=self.profiles.alarms(tracker_id),
            )
            self._apply_settings(tracker, sub)
            self.trackers[tracker_id] = tracker
            self._abort_discovery(tracker_id)
            for decoded, received, received_mono, peer in self.pending.pop(tracker_id, ()):
                self._apply(tracker, decoded, received, received_mono, None)
                self._learn(tracker, peer)
                if peer.is_open:  # commands reach it before its next report
                    self.peers[tracker_id] = peer
                    self.relay.attach(tracker_id, peer)  # with what it sent while waiting
                    dialect.tune(peer.codec, tracker.dialect, tracker.r12_replies)
            for adder in self._adders:
                adder(tracker)

    @staticmethod
    def _apply_settings(tracker: TrackerState, sub: ConfigSubentry) -> None:
        """The tracker's own options: R12 replies and the immobilizer's restore form."""
        tracker.r12_replies = bool(sub.data.get(CONF_R12_REPLIES, DEFAULT_R12_REPLIES))
        try:
            tracker.command_style = CommandStyle(
                sub.data.get(CONF_COMMAND_STYLE, DEFAULT_COMMAND_STYLE)
            )
        except ValueError:
            tracker.command_style = DEFAULT_COMMAND_STYLE

    # --- the hot path ------------------------------------------------------------------------

    def handle(self, decoded: Decoded, peer: Peer) -> None:
        """Take one decoded message from the server and answer it through its peer."""
        self.stats.messages += 1
        tracker_id = decoded.message.device_id
        tracker = self.trackers.get(tracker_id)
        if tracker is None:
            self._unknown(tracker_id, decoded, peer)
        else:
            if self.peers.get(tracker_id) is not peer:
                self._claim(tracker_id, peer)
                dialect.tune(peer.codec, tracker.dialect, tracker.r12_replies)
            self._apply(tracker, decoded, dt_util.utcnow(), time.monotonic(), peer)
            if tracker.dialect is None:
                self._learn(tracker, peer)
        # Every message the protocol answers is answered, from a known tracker or not (an
        # unanswered tracker resends, and may drop its link): the hub decides only whether a
        # tracker that wants no R12 gets none (the codec made this one before it knew whose
        # connection this is; it knows now).
        reply = decoded.reply
        if reply and tracker is not None and not tracker.r12_replies and dialect.is_r12(reply):
            reply = None
        if reply:
            peer.send(reply)
        if tracker is not None and tracker_id in self.commands.queued:
            self.commands.deliver(tracker, peer)  # right after the reply, in the same write

    def _learn(self, tracker: TrackerState, peer: Peer) -> None:
        """A tracker that showed the 4G dialect is remembered as one (V6/V8 reports)."""
        spoken = dialect.spoken(peer.codec)
        if spoken == dialect.FOUR_G and tracker.dialect != spoken:
            tracker.dialect = spoken
            self.profiles.remember(tracker.tracker_id, tracker.dialect, tracker.iccid)

    def _apply(
        self,
        tracker: TrackerState,
        decoded: Decoded,
        received: datetime,
        received_mono: float,
        peer: Peer | None,
    ) -> None:
        message = decoded.message
        status = tracker.status_key()
        iccid = tracker.iccid
        alarms = tracker.active_alarms
        outcome = tracker.apply(message, received, received_mono)
        if tracker.active_alarms != alarms:
            self.profiles.remember_alarms(tracker.tracker_id, tracker.active_alarms)
        if isinstance(message, CommandAck) and peer is not None:
            self.commands.on_ack(tracker, message, peer)
        if outcome is not QUIET:  # the usual report: nothing to count
            self._account(tracker, outcome)
        if isinstance(message, DeviceIdentity) and (message.model or message.firmware):
            self.update_device(tracker)
        if not tracker.online:
            tracker.online = True
            if tracker.went_offline:
                tracker.went_offline = False
                _LOGGER.info("Tracker %s is back online", tracker.name)
        # Each entity looks again and writes only if what it shows changed.
        async_dispatcher_send(self.hass, signal_tracker_updated(tracker.subentry_id))
        if tracker.status_key() != status:
            if tracker.iccid != iccid:
                self.profiles.remember(tracker.tracker_id, tracker.dialect, tracker.iccid)
            self.status_changed(tracker)
        # The alarms after the state: automations triggered by one see the state it came with.
        for event in outcome.alarms:
            async_dispatcher_send(self.hass, signal_tracker_alarm(tracker.subentry_id), event)

    @callback
    def status_changed(self, tracker: TrackerState) -> None:
        """Tell the entities that follow the tracker's status (``TrackerState.status_key``, and
        the immobilizer's queued command) to look again."""
        async_dispatcher_send(self.hass, signal_tracker_status(tracker.subentry_id))

    def _account(self, tracker: TrackerState, outcome: Outcome) -> None:
        if outcome.untrusted_time:
            self.stats.untrusted_times += 1
        if outcome.late:
            self.stats.late_reports += 1
        if outcome.offset_changed:
            self._offset_issue(tracker)

    def peer_closed(self, peer: Peer) -> None:
        """A connection ended: forget it as the way to its tracker."""
        for tracker_id, known in list(self.peers.items()):
            if known is peer:
                del self.peers[tracker_id]
        self.relay.peer_closed(peer)

    def _claim(self, tracker_id: str, peer: Peer) -> None:
        """The newest connection of a tracker wins; an older TCP one is closed.

        A tracker whose mobile link died reconnects before we notice the old connection is gone:
        that is normal. When new connections keep taking over one ID, two devices share it.
        """
        old = self.peers.get(tracker_id)
        self.peers[tracker_id] = peer
        self.relay.attach(tracker_id, peer)
        if old is None or not old.stream or not old.is_open or not peer.stream:
            return
        now = time.monotonic()
        takeovers = self._takeovers.setdefault(tracker_id, deque(maxlen=DUPLICATE_TAKEOVERS))
        takeovers.append(now)
        if len(takeovers) == DUPLICATE_TAKEOVERS and now - takeovers[0] < DUPLICATE_WINDOW_S:
            takeovers.clear()
            self.stats.duplicate_sessions += 1
            # The warning is a repair the user sees, not a log line: a test harness or a flaky
            # mobile link replaying connections must not fill the log.
            _LOGGER.info(
                "Connections keep taking over tracker %s (now %s, before %s): two devices "
                "may share this ID; using the newest",
                tracker_id,
                peer.name,
                old.name,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"duplicate_tracker_{tracker_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="duplicate_tracker",
                translation_placeholders={"name": self.trackers[tracker_id].name},
            )
        else:
            _LOGGER.debug("Tracker %s reconnected from %s", tracker_id, peer.name)
        old.close()

    # --- commands ----------------------------------------------------------------------------

    async def send_command(
        self, tracker_id: str, command: Command, *, force: bool = False
    ) -> CommandResult:
        tracker = self.trackers.get(tracker_id)
        if tracker is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_tracker",
                translation_placeholders={"tracker_id": tracker_id},
            )
        return await self.commands.send(tracker, self.peers.get(tracker_id), command, force=force)

    def _relay_command(self, tracker_id: str, peer: Peer, message: ServerMessage) -> bool:
        """A command from the relay's upstream, for the tracker on ``peer``."""
        tracker = self.trackers.get(tracker_id)
        return tracker is not None and self.commands.relay_command(tracker, peer, message)

    @callback
    def _relay_unreachable(self, unreachable: bool) -> None:
        """The relay's upstream has been unreachable for an hour (or is back): a repair."""
        issue_id = f"relay_unreachable_{self.entry.entry_id}"
        if not unreachable:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        _LOGGER.info("The relay server %s has been unreachable for an hour", self.relay.host)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="relay_unreachable",
            translation_placeholders={"host": self.relay.host, "port": str(self.relay.port)},
        )

    def _switch_of(self, tracker_id: str) -> str | None:
        return er.async_get(self.hass).async_get_entity_id(
            "switch", DOMAIN, f"{tracker_id}_immobilizer"
        )

    # --- unknown trackers --------------------------------------------------------------------

    def _unknown(self, tracker_id: str, decoded: Decoded, peer: Peer) -> None:
        if not valid_tracker_id(tracker_id):
            self.stats.invalid_ids += 1
            self.relay.refuse(peer)
            return
        if self.policy is NewTrackerPolicy.IGNORE:
            self.stats.unknown_ignored += 1
            self.relay.refuse(peer)
            return
        queue = self.pending.get(tracker_id)
        if queue is None:
            if len(self.pending) >= MAX_PENDING_TRACKERS:
                self.stats.unknown_dropped += 1
                self.relay.refuse(peer)
                return
            queue = self.pending[tracker_id] = deque(maxlen=PENDING_MESSAGES_PER_TRACKER)
            queue.append((decoded, dt_util.utcnow(), time.monotonic(), peer))
            self._new_tracker(tracker_id)  # "add" creates the tracker (and takes the queue) at once
            return
        queue.append((decoded, dt_util.utcnow(), time.monotonic(), peer))

    def _new_tracker(self, tracker_id: str) -> None:
        # A tracker ID belongs to one hub: one configured under another hub is not added here
        # by itself; its discovery tells the user where it belongs.
        if self.policy is NewTrackerPolicy.ADD and tracker_owner(self.hass, tracker_id) is None:
            name = suggested_tracker_name(self.hass, tracker_id)
            _LOGGER.info("Adding new tracker %s as %s", tracker_id, name)
            add_tracker_subentry(self.hass.config_entries, self.entry, tracker_id, name)
            return
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={CONF_TRACKER_ID: tracker_id, "entry_id": self.entry.entry_id},
        )

    def _abort_discovery(self, tracker_id: str) -> None:
        """Close a "new tracker" discovery left open, once the flow that added it has finished."""
        unique_id = f"tracker_{tracker_id}"

        @callback
        def abort() -> None:
            for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
                if flow["context"].get("unique_id") == unique_id:
                    self.hass.config_entries.flow.async_abort(flow["flow_id"])

        self.hass.loop.call_soon(abort)

    # --- offline, repairs --------------------------------------------------------------------

    @callback
    def _check_offline(self, _now: datetime | None = None) -> None:
        limit = time.monotonic() - self.offline_after.total_seconds()
        for tracker in self.trackers.values():
            if tracker.went_offline:
                continue
            if tracker.online and tracker.last_seen_mono < limit:
                tracker.online = False
                _LOGGER.info(
                    "Tracker %s is offline (silent for %s)",
                    tracker.name,
                    self.offline_after,
                )
            elif tracker.online or self._started_mono >= limit:
                continue
            # Silent for offline_after (or since the start: its restored speed and ignition
            # are no truer than a silent tracker's): what a live report measures goes
            # unavailable; both signals, since speed and motion follow the per-report one.
            tracker.went_offline = True
            async_dispatcher_send(self.hass, signal_tracker_updated(tracker.subentry_id))
            self.status_changed(tracker)

    def _offset_issue(self, tracker: TrackerState) -> None:
        issue_id = f"local_time_{tracker.tracker_id}"
        hours = tracker.clock.offset_hours
        if hours == 0:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        _LOGGER.info(  # the repair below is the user's warning
            "Tracker %s reports local time (UTC%+d) instead of UTC; correcting it",
            tracker.name,
            hours,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="tracker_local_time",
            translation_placeholders={
                "name": tracker.name,
                "offset": f"{hours:+d}",
                "sms": "8960000E00",
            },
        )

    @callback
    def update_device(self, tracker: TrackerState) -> None:
        """Model and firmware, when the protocol tells them."""
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            config_subentry_id=tracker.subentry_id,
            identifiers={(DOMAIN, tracker.tracker_id)},
            model=tracker.model,
            sw_version=tracker.firmware,
        )
