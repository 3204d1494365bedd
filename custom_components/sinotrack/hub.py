"""One hub per listener entry: trackers, new-tracker policy, online/offline, repairs.

The server hands every decoded message to ``Hub.handle`` (synchronously, on the event loop) with
the peer it came from. The hub folds it into the tracker's state, fires the tracker's dispatcher
signal (its entities look again), decides whether the message is answered and answers through the
peer, then sends the commands queued for that tracker through the same peer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import discovery_flow
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from . import dialect, sms
from .commands import CommandCenter, CommandResult
from .const import (
    CONF_COMMAND_STYLE,
    CONF_MAX_CUT_SPEED,
    CONF_NEW_TRACKERS,
    CONF_OFFLINE_AFTER,
    CONF_PHONE_NUMBER,
    CONF_PORT,
    CONF_PUBLIC_HOST,
    CONF_R12_REPLIES,
    CONF_RELAY_COMMANDS,
    CONF_RELAY_HOST,
    CONF_RELAY_PORT,
    CONF_SMS_FALLBACK,
    CONF_SMS_PASSWORD,
    CONF_SMS_SERVICE,
    CONF_SMS_SETUP,
    CONF_TRACKER_ID,
    DEFAULT_COMMAND_STYLE,
    DEFAULT_MAX_CUT_SPEED,
    DEFAULT_NEW_TRACKERS,
    DEFAULT_OFFLINE_AFTER,
    DEFAULT_R12_REPLIES,
    DEFAULT_RELAY_PORT,
    DEFAULT_SMS_PASSWORD,
    DOMAIN,
    CommandStyle,
    NewTrackerPolicy,
    signal_tracker_alarm,
    signal_tracker_status,
    signal_tracker_updated,
    valid_tracker_id,
)
from .fix_clock import OFFSET_MIN_SPAN_S, FixClock
from .immobilizer import IMMOBILIZER_KINDS
from .phrases import command_label
from .profiles import TrackerProfiles
from .protocol import Command, CommandAck, Decoded, DeviceIdentity, Position, ServerMessage
from .relay import BACKOFF_BASE_S, BACKOFF_MAX_S, UNREACHABLE_AFTER_S, Relay, RelayTiming
from .server import Peer
from .subentries import (
    add_tracker_subentry,
    suggested_tracker_name,
    tracker_owner,
    tracker_subentries,
)
from .tracker import QUIET, Outcome, TrackerState

_LOGGER = logging.getLogger(__name__)

VIA_SMS = "sms"
MAX_PENDING_TRACKERS = 20
# At the cap the oldest waiting tracker makes room (its discovery closes) for a new one, at most
# this many in a burst and this many per second after it: a flood of junk IDs cannot keep a
# genuine tracker out, nor open and close discovery flows as fast as it sends.
EVICTION_BURST = MAX_PENDING_TRACKERS
EVICTIONS_PER_S = 2.0
EVICTED_REMEMBERED = 256  # evicted IDs whose discovery, still starting, aborts itself
LIVE_SESSION_S = 120.0  # a TCP connection that reported this recently owns its tracker's ID
CONTESTED_REPORTS = 3  # refused reports for one ID from other sources ...
CONTESTED_WINDOW_S = 600.0  # ... this quickly: a repair names their addresses
CONTESTED_SOURCES_SHOWN = 5
PENDING_MESSAGES_PER_TRACKER = 10
OFFLINE_CHECK_INTERVAL = timedelta(seconds=30)
DUPLICATE_TAKEOVERS = 3  # new connections taking over one ID ...
DUPLICATE_WINDOW_S = 600.0  # ... this quickly: two devices share the ID

type PlatformAdder = Callable[[TrackerState], None]


def _monotonic() -> float:
    return time.monotonic()


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
    held_positions: int = 0  # implausible jumps not shown (trust.py)
    contested_reports: int = 0  # reports refused: another connection owns the ID
    evicted_flows: int = 0  # waiting trackers (and their discovery) evicted for a new one


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
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.trackers: dict[str, TrackerState] = {}
        self.peers: dict[str, Peer] = {}  # which peer speaks for which tracker
        # Unknown trackers waiting for a decision: their latest messages and peer.
        self.pending: OrderedDict[str, deque[tuple[Decoded, datetime, float, Peer]]] = OrderedDict()
        self._clock_min_span_s = clock_min_span_s  # how long a local-time offset must hold
        # Monotonic seconds: live sessions, takeovers, offline. Looked up at each call, not
        # bound once, so Home Assistant's frozen test clock moves it as it moves the rest.
        self._clock = clock if clock is not None else _monotonic
        self._evict_tokens = float(EVICTION_BURST)
        self._evict_at = self._clock()
        self._evicted: OrderedDict[str, None] = OrderedDict()
        self._contested: dict[str, deque[tuple[float, str]]] = {}
        self.stats = HubStats()
        self.policy = NewTrackerPolicy(DEFAULT_NEW_TRACKERS)
        self.offline_after = timedelta(minutes=DEFAULT_OFFLINE_AFTER)
        self._adders: list[PlatformAdder] = []
        self._takeovers: dict[str, deque[float]] = {}
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._started_mono = self._clock()  # start(): a tracker silent since then goes offline
        self.commands = CommandCenter(
            hass, f"{DOMAIN}.{entry.entry_id}.commands", self._switch_of, self.status_changed
        )
        self.profiles = TrackerProfiles(hass, entry.entry_id)  # loaded before start()
        self.relay = Relay(
            self._relay_command,
            self._relay_unreachable,
            lambda coro: entry.async_create_background_task(hass, coro, f"{DOMAIN} relay"),
            RelayTiming(
                backoff_base=relay_backoff[0],
                backoff_max=relay_backoff[1],
                unreachable_after=relay_unreachable_after,
            ),
        )
        self.sms_pause = sms.SETUP_PAUSE_S
        self.setup_waiting: dict[str, deque[str]] = {}  # set-up steps sent, not answered yet
        self.apply_options(entry.options)

    # --- lifecycle -------------------------------------------------------------------------

    @callback
    def start(self) -> None:
        self._started_mono = self._clock()
        self.sync_subentries()
        self._unsub_timer = async_track_time_interval(
            self.hass, self._check_offline, OFFLINE_CHECK_INTERVAL, cancel_on_shutdown=True
        )
        self.entry.async_on_unload(
            self.hass.bus.async_listen(sms.EVENT_INCOMING_SMS, self._incoming_sms)
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
        self.sms_service: str | None = options.get(CONF_SMS_SERVICE) or None
        self.public_host: str | None = options.get(CONF_PUBLIC_HOST) or None

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
                self._apply(tracker, decoded, received, received_mono, None, source=peer.name)
                self._learn(tracker, peer)
                if peer.is_open:  # commands reach it before its next report
                    self.peers[tracker_id] = peer
                    self.relay.attach(tracker_id, peer)  # with what it sent while waiting
                    peer.identified = True
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
        tracker.phone_number = sub.data.get(CONF_PHONE_NUMBER) or None
        tracker.sms_password = str(sub.data.get(CONF_SMS_PASSWORD) or DEFAULT_SMS_PASSWORD)
        tracker.sms_fallback = bool(sub.data.get(CONF_SMS_FALLBACK, False))

    # --- the hot path ------------------------------------------------------------------------

    def handle(self, decoded: Decoded, peer: Peer) -> None:
        """Take one decoded message from the server and answer it through its peer."""
        self.stats.messages += 1
        tracker_id = decoded.message.device_id
        tracker = self.trackers.get(tracker_id)
        owner = self.peers.get(tracker_id)
        contested = False
        if tracker is None:
            self._unknown(tracker_id, decoded, peer)
        elif owner is not peer and self._owned_elsewhere(tracker, owner, decoded):
            contested = True  # answered below (it may be the tracker's new link), nothing else
            self._contest(tracker, peer)
        else:
            if owner is not peer:
                self._claim(tracker_id, peer)
                dialect.tune(peer.codec, tracker.dialect, tracker.r12_replies)
            self._apply(tracker, decoded, dt_util.utcnow(), self._clock(), peer, source=peer.name)
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
        if tracker is not None and not contested and tracker_id in self.commands.queued:
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
        *,
        source: str,
    ) -> None:
        message = decoded.message
        status = tracker.status_key()
        iccid = tracker.iccid
        alarms = tracker.active_alarms
        outcome = tracker.apply(message, received, received_mono, source)
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
        if outcome.held:
            self.stats.held_positions += 1
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
        peer.identified = True  # speaks for a known tracker: never dropped for a stranger
        if old is None or not old.stream or not old.is_open or not peer.stream:
            return
        now = self._clock()
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
            self._warn(
                f"duplicate_tracker_{tracker_id}",
                "duplicate_tracker",
                name=self.trackers[tracker_id].name,
            )
        else:
            _LOGGER.debug("Tracker %s reconnected from %s", tracker_id, peer.name)
        old.close()

    def _owned_elsewhere(self, tracker: TrackerState, owner: Peer | None, decoded: Decoded) -> bool:
        """Whether a live session (``owner``, the tracker's peer) owns the tracker's ID against
        this report from another peer: its TCP connection is open and reported within
        ``LIVE_SESSION_S``, and the report is not a fix that may move the tracker (trust.py: a
        genuine reconnect is taken at once)."""
        if owner is None or not owner.stream or not owner.is_open:
            return False
        if self._clock() - tracker.last_seen_mono >= LIVE_SESSION_S:
            return False
        message = decoded.message
        pos = message.position if isinstance(message, CommandAck) else message
        return not (isinstance(pos, Position) and tracker.would_move(pos, dt_util.utcnow()))

    def _contest(self, tracker: TrackerState, peer: Peer) -> None:
        """Count a refused report; a repair names the sources once it keeps happening."""
        self.stats.contested_reports += 1
        tracker_id = tracker.tracker_id
        now = self._clock()
        seen = self._contested.setdefault(tracker_id, deque(maxlen=CONTESTED_REPORTS))
        seen.append((now, peer.host))
        _LOGGER.debug(
            "Report for tracker %s from %s refused: its live connection owns it",
            tracker.name,
            peer.name,
        )
        if len(seen) < CONTESTED_REPORTS or now - seen[0][0] >= CONTESTED_WINDOW_S:
            return
        sources = sorted({host for _at, host in seen})[:CONTESTED_SOURCES_SHOWN]
        seen.clear()
        self._warn(
            f"contested_tracker_{tracker_id}",
            "contested_tracker",
            name=tracker.name,
            sources=", ".join(sources),
        )

    def _warn(self, issue_id: str, key: str, **placeholders: str) -> None:
        """A warning repair ``issue_id`` (not fixable here), translated under ``key``."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders=placeholders,
        )

    # --- commands ----------------------------------------------------------------------------

    async def send_command(
        self, tracker_id: str, command: Command, *, force: bool = False, via: str | None = None
    ) -> CommandResult:
        """By GPRS (queued while offline), or by SMS with ``via="sms"``; an immobilizer command
        of a tracker with ``sms_fallback`` goes by SMS when it is offline or left it unanswered."""
        tracker = self.tracker(tracker_id)
        peer = self.peers.get(tracker_id)
        fallback = (
            command.kind in IMMOBILIZER_KINDS and tracker.sms_fallback and tracker.phone_number
        )
        if via == VIA_SMS or (fallback and (peer is None or not peer.is_open)):
            return await self.send_sms_command(tracker, command, force=force)
        try:
            return await self.commands.send(tracker, peer, command, force=force)
        except HomeAssistantError as err:
            if not fallback or err.translation_key != "command_timeout":
                raise
        return await self.send_sms_command(tracker, command, force=force)

    async def send_sms_command(
        self, tracker: TrackerState, command: Command, *, force: bool = False
    ) -> CommandResult:
        """A command's SMS form (sms.py), an engine cut past the same interlock as by GPRS."""
        self.commands.check_cut(tracker, command, force, dt_util.utcnow())
        await sms.async_send(
            self.hass, self.sms_service, tracker, sms.command_text(tracker, command)
        )
        _LOGGER.debug("Sent %s to %s by SMS", command.kind, tracker.name)
        self.commands.logbook(
            tracker, "logbook_sms_sent", command=command_label(self.hass, command.kind.value)
        )
        return CommandResult(queued=False, sms=True)

    async def configure_by_sms(
        self, tracker_id: str, values: sms.SetupValues | None = None
    ) -> list[str]:
        """Send the set-up SMS one at a time (``sms_pause`` apart); the logbook shows progress.
        ``values`` None: the last ones (the button)."""
        tracker = self.tracker(tracker_id)
        sub = self.entry.subentries[tracker.subentry_id]
        if values is None:
            last = sub.data.get(CONF_SMS_SETUP)
            if not isinstance(last, dict):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="sms_no_setup",
                    translation_placeholders={"name": tracker.name},
                )
            values = sms.SetupValues(**last)
        if not self.public_host:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="sms_no_public_host"
            )
        port = int(self.entry.data[CONF_PORT])
        steps = sms.setup_sequence(tracker.sms_password, values, self.public_host, port)
        sms.notify_service(self.hass, self.sms_service)  # refused before the first SMS
        self.hass.config_entries.async_update_subentry(
            self.entry, sub, data={**sub.data, CONF_SMS_SETUP: dataclasses.asdict(values)}
        )
        waiting = self.setup_waiting[tracker_id] = deque()
        for number, (step, text) in enumerate(steps, 1):
            if number > 1:
                await asyncio.sleep(self.sms_pause)
            await sms.async_send(self.hass, self.sms_service, tracker, text)
            waiting.append(step)
            self.commands.logbook(
                tracker,
                "logbook_sms_setup_step",
                number=str(number),
                total=str(len(steps)),
                step=step,
            )
        return [step for step, _ in steps]

    @callback
    def _incoming_sms(self, event: Event) -> None:
        """An SMS from a tracker's number (the sms integration): in the logbook; it confirms
        the oldest set-up step still unanswered."""
        phone = str(event.data.get("phone") or "").replace(" ", "")
        text = sms.answer_text(event.data.get("text"))
        tracker = next((t for t in self.trackers.values() if t.phone_number == phone), None)
        if tracker is None or not phone or text is None:
            return
        self.commands.logbook(tracker, "logbook_sms_answer", text=text)
        waiting = self.setup_waiting.get(tracker.tracker_id)
        if waiting:
            self.commands.logbook(tracker, "logbook_sms_setup_confirmed", step=waiting.popleft())

    def tracker(self, tracker_id: str) -> TrackerState:
        tracker = self.trackers.get(tracker_id)
        if tracker is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_tracker",
                translation_placeholders={"tracker_id": tracker_id},
            )
        return tracker

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
        self._warn(issue_id, "relay_unreachable", host=self.relay.host, port=str(self.relay.port))

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
            if len(self.pending) >= MAX_PENDING_TRACKERS and not self._evict_oldest():
                self.stats.unknown_dropped += 1
                self.relay.refuse(peer)
                return
            self._evicted.pop(tracker_id, None)
            queue = self.pending[tracker_id] = deque(maxlen=PENDING_MESSAGES_PER_TRACKER)
            queue.append((decoded, dt_util.utcnow(), self._clock(), peer))
            self._new_tracker(tracker_id)  # "add" creates the tracker (and takes the queue) at once
            return
        self.pending.move_to_end(tracker_id)  # still reporting: the last to be evicted
        queue.append((decoded, dt_util.utcnow(), self._clock(), peer))

    def _evict_oldest(self) -> bool:
        """Make room for a new tracker: the one waiting longest without a word goes, and its
        discovery closes; False when the evictions of the last seconds used up the budget."""
        now = self._clock()
        self._evict_tokens = min(
            float(EVICTION_BURST), self._evict_tokens + (now - self._evict_at) * EVICTIONS_PER_S
        )
        self._evict_at = now
        if self._evict_tokens < 1.0:
            return False
        self._evict_tokens -= 1.0
        tracker_id, _queue = self.pending.popitem(last=False)
        self.stats.evicted_flows += 1
        self._evicted[tracker_id] = None
        while len(self._evicted) > EVICTED_REMEMBERED:
            self._evicted.popitem(last=False)
        self._abort_discovery(tracker_id)
        return True

    @callback
    def discovery_wanted(self, tracker_id: str) -> bool:
        """Whether a starting discovery flow for ``tracker_id`` still has a tracker waiting
        (False once it was evicted: its flow may start after the eviction closed the others)."""
        return tracker_id not in self._evicted

    @callback
    def discovery_closed(self, tracker_id: str) -> None:
        """A discovery flow ended (dismissed, ignored, added or evicted): once no flow for the
        tracker is left, its place in the waiting list is free (added ones took theirs)."""
        unique_id = f"tracker_{tracker_id}"

        @callback
        def free() -> None:
            if tracker_id in self.trackers or tracker_id not in self.pending:
                return
            for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
                if flow["context"].get("unique_id") == unique_id:
                    return
            del self.pending[tracker_id]

        self.hass.loop.call_soon(free)

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
        limit = self._clock() - self.offline_after.total_seconds()
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
        self._warn(
            issue_id,
            "tracker_local_time",
            name=tracker.name,
            offset=f"{hours:+d}",
            sms="8960000E00",
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
