"""Remote commands: send now (a TCP peer) or queue for the next report (offline, UDP), match the
answer. Commands see the tracker's peer only: it encodes, sends and recognises the answer.

The engine cut is the one command that can hurt someone, so it goes through the interlock: refused
unless the latest report shows the vehicle at or below the tracker's speed limit and is either fresh
or shows the ignition off; a queued cut is checked again against the report that would deliver it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, valid_tracker_id
from .immobilizer import (
    IMMOBILIZER_KINDS,
    for_protocol,
    restore_acknowledged,
    restore_unanswered,
)
from .phrases import command_label, phrase
from .protocol import (
    Command,
    CommandAck,
    CommandKind,
    EncodedCommand,
    ProtocolError,
    ServerMessage,
)
from .server import Peer

if TYPE_CHECKING:
    from .tracker import TrackerState

_LOGGER = logging.getLogger(__name__)

ACK_TIMEOUT_S = 30.0
MAX_AWAITING_ACK = 16  # commands per tracker remembered for matching their acknowledgement
QUEUE_EXPIRY = timedelta(minutes=10)
FRESH_REPORT = timedelta(minutes=2)
EVENT_LOGBOOK_ENTRY = "logbook_entry"
STORAGE_VERSION = 1
MIN_INTERVAL_S = 5  # the set_interval service's range
MAX_INTERVAL_S = 86400
MAX_OVERSPEED_KMH = 255  # the set_overspeed service's range (0 = off)


@dataclass(slots=True)
class PendingCommand:
    """A command queued for delivery or sent and waiting for its acknowledgement."""

    tracker_id: str
    command: Command
    created: datetime
    encoded: EncodedCommand | None = None  # set once it is on the wire
    future: asyncio.Future[CommandAck] | None = None
    unsub_expiry: CALLBACK_TYPE | None = None
    unsub_ack_wait: CALLBACK_TYPE | None = None  # a delivered restore's wait for its answer
    force: bool = False
    expires: datetime = field(default_factory=dt_util.utcnow)  # set when it is queued


@dataclass(slots=True)
class CommandResult:
    """What a service call gets back."""

    queued: bool
    ack: CommandAck | None = None
    sms: bool = False  # sent by SMS: no acknowledgement comes back over GPRS

    def as_response(self) -> dict[str, Any]:
        data: dict[str, Any] = {"queued": self.queued}
        if self.sms:
            data["via"] = "sms"
        if self.ack is not None:
            data.update(
                command=self.ack.command,
                result=self.ack.result,
                success=self.ack.success,
                params=list(self.ack.params),
            )
        return data


@dataclass(slots=True)
class CommandCenter:
    """The command queue and acknowledgement correlation of one hub."""

    hass: HomeAssistant
    store_key: str
    entity_of: Callable[[str], str | None]  # tracker ID -> the switch's entity ID, for the logbook
    changed: Callable[[TrackerState], None]  # the queue of a tracker changed: its entities look
    queued: dict[str, list[PendingCommand]] = field(default_factory=dict)
    sent: dict[str, list[PendingCommand]] = field(default_factory=dict)
    ack_timeout: float = ACK_TIMEOUT_S
    queue_expiry: timedelta = QUEUE_EXPIRY
    _store: Store[list[dict[str, Any]]] | None = None

    def __post_init__(self) -> None:
        self._store = Store(self.hass, STORAGE_VERSION, self.store_key)

    # --- interlock ---------------------------------------------------------------------------

    @staticmethod
    def check_interlock(tracker: TrackerState, now: datetime) -> None:
        """Raise a translated ServiceValidationError unless an engine cut is safe now."""
        name = tracker.name
        if tracker.report_time is None or tracker.report_speed_kmh is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="interlock_no_report",
                translation_placeholders={"name": name},
            )
        limit = tracker.max_cut_speed
        if tracker.report_speed_kmh > limit:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="interlock_speed",
                translation_placeholders={
                    "name": name,
                    "speed": f"{tracker.report_speed_kmh:.0f}",
                    "limit": f"{limit:.0f}",
                },
            )
        age = now - tracker.report_time
        if age > FRESH_REPORT and tracker.ignition is not False:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="interlock_stale",
                translation_placeholders={
                    "name": name,
                    "minutes": f"{age.total_seconds() / 60:.0f}",
                },
            )

    # --- sending -----------------------------------------------------------------------------

    def check_cut(
        self, tracker: TrackerState, command: Command, force: bool, now: datetime
    ) -> None:
        """The interlock of an engine cut, by GPRS or by SMS alike: refused (and the logbook
        says why) unless safe now, or forced (the logbook says so too)."""
        if command.kind is not CommandKind.ENGINE_STOP:
            return
        if force:
            self.logbook(tracker, "logbook_cut_forced")
            return
        # "<switch> engine cut refused: <reason>", one sentence (the exception's own message
        # already starts with "Engine cut refused: <name> …").
        self._interlock_logged(tracker, now, "logbook_")

    def _interlock_logged(self, tracker: TrackerState, now: datetime, prefix: str) -> None:
        """``check_interlock``; a refusal is in the logbook too, as ``prefix`` + its reason."""
        try:
            self.check_interlock(tracker, now)
        except ServiceValidationError as err:
            placeholders = err.translation_placeholders or {}
            self.logbook(tracker, f"{prefix}{err.translation_key}", **placeholders)
            raise

    async def send(
        self,
        tracker: TrackerState,
        peer: Peer | None,
        command: Command,
        *,
        force: bool = False,
    ) -> CommandResult:
        """Send at once over a live TCP connection and wait for the answer, or queue it."""
        now = dt_util.utcnow()
        self.check_cut(tracker, command, force, now)
        pending = PendingCommand(tracker.tracker_id, command, now, force=force)
        if peer is None or not peer.stream or not peer.is_open:
            self._enqueue(tracker, pending)
            return CommandResult(queued=True)
        loop = asyncio.get_running_loop()
        pending.future = loop.create_future()
        try:
            self._send(tracker, pending, peer, "logbook_sent")
        except ProtocolError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_command",
                translation_placeholders={"name": tracker.name, "error": str(err)},
            ) from err
        try:
            async with asyncio.timeout(self.ack_timeout):
                ack = await pending.future
        except TimeoutError:
            self._forget_sent(pending)
            self._unanswered(tracker, pending)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_timeout",
                translation_placeholders={
                    "name": tracker.name,
                    "command": self.label(pending),
                    "seconds": f"{self.ack_timeout:.0f}",
                },
            ) from None
        if ack.success is False:
            # The tracker's refusal, like the interlock's: an answer to the user, not a fault of
            # Home Assistant (no "Unexpected exception" traceback in the log).
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={
                    "name": tracker.name,
                    "command": self.label(pending),
                    "result": ack.result or "?",
                },
            )
        return CommandResult(queued=False, ack=ack)

    def relay_command(self, tracker: TrackerState, peer: Peer, message: ServerMessage) -> bool:
        """A command from the relay's upstream server (read by the tracker's codec): sent
        through the tracker's peer, in the logbook like Home Assistant's own; an engine cut
        meets the same interlock (refused while moving: logged, in the logbook)."""
        label = (
            command_label(self.hass, CommandKind.ENGINE_STOP.value)
            if message.engine_stop
            else phrase(self.hass, "relay_command_label", name=message.name)
        )
        if message.engine_stop:
            try:
                self._interlock_logged(tracker, dt_util.utcnow(), "logbook_relay_refused_")
            except ServiceValidationError as err:
                _LOGGER.info(
                    "Engine cut from the relay server for %s refused: %s", tracker.name, err
                )
                return False
        peer.send(message.raw)
        _LOGGER.debug("Relayed %s from the upstream server to %s", label, tracker.tracker_id)
        self.logbook(tracker, "logbook_relay_sent", command=label)
        return True

    def _send(self, tracker: TrackerState, pending: PendingCommand, peer: Peer, how: str) -> None:
        """Send through the tracker's peer and wait for the answer; the logbook says ``how``."""
        command = for_protocol(tracker, pending.command, peer.protocol)
        encoded = peer.send_command(tracker.tracker_id, command, dt_util.utcnow())
        _LOGGER.debug("Sent %s to %s: %r", pending.command.kind, tracker.tracker_id, encoded.data)
        pending.encoded = encoded
        waiting = self.sent.setdefault(tracker.tracker_id, [])
        waiting.append(pending)
        if len(waiting) > MAX_AWAITING_ACK:
            # A tracker that never answers must not grow this list: forget the oldest command
            # nobody is waiting on (delivered with a reply; a caller's own wait has a timeout).
            stale = next((p for p in waiting if p.future is None or p.future.done()), waiting[0])
            waiting.remove(stale)
        self.logbook(tracker, how, command=self.label(pending))

    def _forget_sent(self, pending: PendingCommand) -> None:
        waiting = self.sent.get(pending.tracker_id, [])
        if pending in waiting:
            waiting.remove(pending)

    def _unanswered(self, tracker: TrackerState, pending: PendingCommand) -> None:
        """No answer in time: the logbook says so, and for a restore a repair says what next."""
        self.logbook(
            tracker,
            "logbook_no_answer",
            command=self.label(pending),
            seconds=f"{self.ack_timeout:.0f}",
        )
        if pending.command.kind is CommandKind.ENGINE_RESUME and pending.encoded is not None:
            restore_unanswered(self.hass, tracker, pending.encoded, self.ack_timeout)

    def _await_ack(self, tracker: TrackerState, pending: PendingCommand) -> None:
        """A restore delivered with a reply has no caller waiting: a timer notices no answer."""

        @callback
        def no_answer(_now: datetime) -> None:
            pending.unsub_ack_wait = None
            self._unanswered(tracker, pending)

        pending.unsub_ack_wait = async_call_later(self.hass, self.ack_timeout, no_answer)

    # --- the queue ---------------------------------------------------------------------------

    def _enqueue(
        self, tracker: TrackerState, pending: PendingCommand, *, restored: bool = False
    ) -> None:
        """Queue it until the tracker reports or it expires (a restored one keeps its expiry)."""
        if not restored:
            pending.expires = pending.created + self.queue_expiry
        queue = self.queued.setdefault(tracker.tracker_id, [])
        if pending.command.kind in (CommandKind.ENGINE_STOP, CommandKind.ENGINE_RESUME):
            # The newest immobilizer command supersedes an older queued one.
            for old in [p for p in queue if p.command.kind in IMMOBILIZER_KINDS]:
                self._drop(tracker, old, "logbook_replaced")
        queue.append(pending)

        @callback
        def expire(_now: datetime) -> None:
            self._expire(tracker, pending)

        delay = max(0.0, (pending.expires - dt_util.utcnow()).total_seconds())
        pending.unsub_expiry = async_call_later(self.hass, delay, expire)
        if restored:
            self.logbook(tracker, "logbook_still_queued", command=self.label(pending))
        else:
            self.logbook(tracker, "logbook_queued", command=self.label(pending))
        self._save()
        self.changed(tracker)

    @callback
    def _expire(self, tracker: TrackerState, pending: PendingCommand) -> None:
        pending.unsub_expiry = None
        self._drop(tracker, pending, "logbook_expired")

    def _drop(self, tracker: TrackerState, pending: PendingCommand, why: str) -> None:
        queue = self.queued.get(tracker.tracker_id, [])
        if pending in queue:
            queue.remove(pending)
            if pending.unsub_expiry is not None:
                pending.unsub_expiry()
                pending.unsub_expiry = None
            self.logbook(tracker, why, command=self.label(pending))
            self._save()
            self.changed(tracker)

    def cancel(self, tracker: TrackerState) -> int:
        """Cancel every queued command of a tracker; how many there were."""
        queue = list(self.queued.get(tracker.tracker_id, []))
        for pending in queue:
            self._drop(tracker, pending, "logbook_cancelled")
        return len(queue)

    def pending_for(self, tracker_id: str) -> list[PendingCommand]:
        return self.queued.get(tracker_id, [])

    def deliver(self, tracker: TrackerState, peer: Peer) -> None:
        """Send the queued commands right after the reply to the report that just arrived."""
        queue = self.queued.get(tracker.tracker_id)
        if not queue:
            return
        now = dt_util.utcnow()
        for pending in list(queue):
            if pending.command.kind is CommandKind.ENGINE_STOP and not pending.force:
                try:
                    self.check_interlock(tracker, now)
                except ServiceValidationError as err:
                    _LOGGER.debug("Queued engine cut for %s held back: %s", tracker.name, err)
                    continue  # stays queued: the vehicle is moving, or the report is stale
            queue.remove(pending)
            if pending.unsub_expiry is not None:
                pending.unsub_expiry()
                pending.unsub_expiry = None
            try:
                self._send(tracker, pending, peer, "logbook_delivered")
            except ProtocolError as err:
                self.logbook(
                    tracker, "logbook_unsupported", command=self.label(pending), error=str(err)
                )
                continue
            if pending.command.kind is CommandKind.ENGINE_RESUME:
                self._await_ack(tracker, pending)
        self._save()
        self.changed(tracker)

    # --- answers -----------------------------------------------------------------------------

    def on_ack(self, tracker: TrackerState, ack: CommandAck, peer: Peer) -> None:
        """Pair an acknowledgement with the command it answers; the tracker's word is final."""
        waiting = self.sent.get(tracker.tracker_id)
        if not waiting:
            return
        for pending in waiting:
            if pending.encoded is not None and peer.answers(pending.encoded, ack):
                waiting.remove(pending)
                outcome = {True: "done", False: "failed", None: "answered"}[ack.success]
                self.logbook(
                    tracker,
                    f"logbook_{outcome}" if ack.result else f"logbook_{outcome}_no_result",
                    command=self.label(pending),
                    result=ack.result or "",
                )
                if pending.unsub_ack_wait is not None:
                    pending.unsub_ack_wait()
                    pending.unsub_ack_wait = None
                if ack.success is not False and pending.command.kind in IMMOBILIZER_KINDS:
                    tracker.immobilized = pending.command.kind is CommandKind.ENGINE_STOP
                    if pending.command.kind is CommandKind.ENGINE_RESUME:
                        restore_acknowledged(self.hass, tracker)
                if pending.future is not None and not pending.future.done():
                    pending.future.set_result(ack)
                return

    # --- bookkeeping -------------------------------------------------------------------------

    def label(self, pending: PendingCommand) -> str:
        return command_label(self.hass, pending.command.kind.value)

    def logbook(self, tracker: TrackerState, key: str, **placeholders: str) -> None:
        """A logbook line for the tracker's switch: the sentence ``exceptions.<key>``."""
        message = phrase(self.hass, key, **placeholders)
        data: dict[str, Any] = {"name": tracker.name, "message": message, "domain": DOMAIN}
        if (entity_id := self.entity_of(tracker.tracker_id)) is not None:
            data["entity_id"] = entity_id
        self.hass.bus.async_fire(EVENT_LOGBOOK_ENTRY, data)

    def _save(self) -> None:
        assert self._store is not None
        self._store.async_delay_save(self._snapshot, 1.0)

    def _snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "tracker_id": p.tracker_id,
                "command": p.command.kind.value,
                "interval_s": p.command.interval_s,
                "text": p.command.text,
                "speed_kmh": p.command.speed_kmh,
                "created": p.created.isoformat(),
                "expires": p.expires.isoformat(),
            }
            for queue in self.queued.values()
            for p in queue
        ]

    async def async_flush(self) -> None:
        """Write the queue now (on unload), so a reload finds it."""
        assert self._store is not None
        await self._store.async_save(self._snapshot())

    async def async_restore(self, trackers: Mapping[str, TrackerState]) -> None:
        """Queue again what was queued when Home Assistant stopped, until its own expiry.

        Delivery is the usual one: a restored engine cut meets the interlock against the report
        that would deliver it, like any queued cut, even one forced before the restart (``force``
        is not stored: it answered what the user saw then, not what follows a restart). What
        expired meanwhile, or belongs to a tracker no longer configured, is dropped (the logbook
        says so for the first).
        """
        assert self._store is not None
        stored: Any = await self._store.async_load()
        now = dt_util.utcnow()
        for item in stored if isinstance(stored, list) else ():
            restored = _restored_command(item)
            if restored is None or (tracker := trackers.get(restored.tracker_id)) is None:
                continue
            # Never later than a fresh queueing would expire: a clock set back must not keep it.
            restored.expires = min(restored.expires, now + self.queue_expiry)
            if restored.expires <= now:
                self.logbook(tracker, "logbook_expired_while_stopped", command=self.label(restored))
                continue
            self._enqueue(tracker, restored, restored=True)
        self._save()

    @callback
    def shutdown(self) -> None:
        """Cancel timers and waiting callers; what is queued stays on disk, restored at start."""
        for queue in self.queued.values():
            for pending in queue:
                if pending.unsub_expiry is not None:
                    pending.unsub_expiry()
                    pending.unsub_expiry = None
        for waiting in self.sent.values():
            for pending in waiting:
                if pending.future is not None and not pending.future.done():
                    pending.future.cancel()
                if pending.unsub_ack_wait is not None:
                    pending.unsub_ack_wait()
                    pending.unsub_ack_wait = None
        self.sent.clear()


def _restored_command(item: Any) -> PendingCommand | None:
    """A queued command read back from storage, or None if it is not one this module wrote."""
    if not isinstance(item, dict):
        return None
    tracker_id = item.get("tracker_id")
    if not isinstance(tracker_id, str) or not valid_tracker_id(tracker_id):
        return None
    try:
        kind = CommandKind(str(item.get("command")))
    except ValueError:
        return None
    interval_s = item.get("interval_s")
    text = item.get("text")
    if kind is CommandKind.SET_INTERVAL and not (
        isinstance(interval_s, int) and MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S
    ):
        return None
    if kind is CommandKind.RAW and not isinstance(text, str):
        return None
    speed_kmh = item.get("speed_kmh")
    if kind is CommandKind.SET_OVERSPEED and not (
        isinstance(speed_kmh, int) and 0 <= speed_kmh <= MAX_OVERSPEED_KMH
    ):
        return None
    created = item.get("created")
    expires = item.get("expires")
    if not isinstance(created, str) or not isinstance(expires, str):
        return None
    try:  # a well-shaped but impossible date raises (month 13) instead of giving None
        created_at = dt_util.parse_datetime(created)
        expires_at = dt_util.parse_datetime(expires)
    except ValueError:
        return None
    if created_at is None or expires_at is None:
        return None
    command = Command(
        kind,
        interval_s=interval_s if kind is CommandKind.SET_INTERVAL else None,
        text=text if isinstance(text, str) else None,  # RAW's body, SET_INTERVAL's form
        speed_kmh=speed_kmh if kind is CommandKind.SET_OVERSPEED else None,
    )
    return PendingCommand(
        tracker_id,
        command,
        dt_util.as_utc(created_at),
        expires=dt_util.as_utc(expires_at),
    )
