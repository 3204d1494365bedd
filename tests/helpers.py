"""Shared helpers for the Home Assistant tests: real sockets on 127.0.0.1, bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sinotrack.commands import EVENT_LOGBOOK_ENTRY
from custom_components.sinotrack.const import (
    CONF_MAX_CONNECTIONS,
    CONF_NEW_TRACKERS,
    CONF_OFFLINE_AFTER,
    CONF_PORT,
    CONF_TCP,
    CONF_TRACKER_ID,
    CONF_UDP,
    DOMAIN,
    SUBENTRY_TYPE_TRACKER,
)
from tools.devenv import free_port  # noqa: F401 - re-exported: the tests use the tools' own

HOST = "127.0.0.1"


def listener_entry(
    port: int,
    *,
    tcp: bool = True,
    udp: bool = True,
    new_trackers: str = "ask",
    offline_after: int = 10,
    max_connections: int = 500,
    options: dict[str, Any] | None = None,
    trackers: Iterable[tuple[str, str]] = (),
    entry_id: str | None = None,
    tracker_data: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A listener entry with tracker subentries ``(tracker_id, name)``.

    ``entry_id``: a fixed ID for the entry, and then ``f"{entry_id}_{tracker_id}"`` for each
    subentry (snapshots show them), instead of random ones. ``tracker_data``: more of every
    tracker's subentry data (phone number …); ``options``: more listener options.
    """
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"SinoTrack listener (port {port})",
        unique_id=str(port),
        entry_id=entry_id,
        data={CONF_PORT: port, CONF_TCP: tcp, CONF_UDP: udp},
        options={
            CONF_NEW_TRACKERS: new_trackers,
            CONF_OFFLINE_AFTER: offline_after,
            CONF_MAX_CONNECTIONS: max_connections,
            **(options or {}),
        },
        subentries_data=[
            {
                "data": {CONF_TRACKER_ID: tracker_id, **(tracker_data or {})},
                "subentry_type": SUBENTRY_TYPE_TRACKER,
                "title": name,
                "unique_id": tracker_id,
            }
            | ({"subentry_id": f"{entry_id}_{tracker_id}"} if entry_id else {})
            for tracker_id, name in trackers
        ],
    )


async def setup_listener(hass: HomeAssistant, port: int, **kwargs: Any) -> MockConfigEntry:
    entry = listener_entry(port, **kwargs)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def wait_for(
    condition: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
) -> Any:
    """Poll until ``condition()`` is truthy: for what only the socket side or the integration's
    own counters show, which no Home Assistant event announces. Where one does, wait for it
    (``wait_for_state``, ``wait_for_event``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _until(
    hass: HomeAssistant,
    subscribe: Callable[[Callable[[Any], None]], Callable[[], None]],
    condition: Callable[[], Any],
    timeout: float,
    what: str,
) -> Any:
    """``condition()`` once it is truthy, looked at now and after each event ``subscribe``
    delivers (the callback is run in the event loop, as Home Assistant calls listeners)."""
    done: asyncio.Future[Any] = hass.loop.create_future()

    @callback
    def check(_event: Any = None) -> None:
        if not done.done() and (value := condition()):
            done.set_result(value)

    unsubscribe = subscribe(check)
    try:
        check()
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
    finally:
        unsubscribe()


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    condition: Callable[[State], Any] = bool,
    timeout: float = 5.0,
) -> State:
    """The state of ``entity_id`` once ``condition(state)`` holds (by default: once it exists),
    woken by its state-change events (``async_track_state_change_event``), never polled."""
    from homeassistant.helpers.event import async_track_state_change_event

    def met() -> State | None:
        state = hass.states.get(entity_id)
        return state if state is not None and condition(state) else None

    found: State = await _until(
        hass,
        lambda check: async_track_state_change_event(hass, [entity_id], check),
        met,
        timeout,
        f"the state of {entity_id}",
    )
    return found


async def wait_for_event(
    hass: HomeAssistant,
    event_type: str,
    condition: Callable[[], Any],
    timeout: float = 5.0,
    what: str = "condition",
) -> Any:
    """``condition()`` once it is truthy, looked at again on every ``event_type`` bus event
    (the entity registry's, the issue registry's, a discovery's, the logbook's …)."""
    return await _until(
        hass, lambda check: hass.bus.async_listen(event_type, check), condition, timeout, what
    )


class FakeTracker:
    """A tracker on a real TCP connection to the listener."""

    def __init__(self, port: int, source: str | None = None) -> None:
        self.port = port
        self.source = source  # a loopback address to connect from (127.0.0.2 …): per-source rules
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> FakeTracker:
        local = (self.source, 0) if self.source else None
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port, local_addr=local)
        return self

    async def send(self, data: bytes | str) -> None:
        assert self.writer is not None
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()

    async def read_frame(self, timeout: float = 5.0) -> bytes:
        """One reply frame ``*…#`` from the server."""
        assert self.reader is not None
        return await asyncio.wait_for(self.reader.readuntil(b"#"), timeout)

    async def read_jt808_frame(self, timeout: float = 5.0) -> bytes:
        """One JT/T 808 frame ``7e…7e`` from the server, as sent (escaped)."""
        assert self.reader is not None
        start = await asyncio.wait_for(self.reader.readexactly(1), timeout)
        assert start == b"\x7e", start
        return start + await asyncio.wait_for(self.reader.readuntil(b"\x7e"), timeout)

    async def read_nothing(self, wait: float = 0.2) -> bytes:
        """What arrives within ``wait`` seconds (b"" when nothing does)."""
        assert self.reader is not None
        try:
            return await asyncio.wait_for(self.reader.read(4096), wait)
        except TimeoutError:
            return b""

    async def closed_by_server(self, timeout: float = 5.0) -> bool:
        assert self.reader is not None
        try:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
        except (ConnectionError, TimeoutError):
            return False
        return data == b""

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
            self.writer = None


class UdpClient(asyncio.DatagramProtocol):
    """A tracker on UDP: collects the datagrams the listener sends back."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, port: int, source: str | None = None) -> UdpClient:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            cls, remote_addr=(HOST, port), local_addr=(source, 0) if source else None
        )
        assert isinstance(transport, asyncio.DatagramTransport)
        protocol.transport = transport
        return protocol

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received.put_nowait(data)

    def send(self, data: bytes | str) -> None:
        assert self.transport is not None
        self.transport.sendto(data.encode() if isinstance(data, str) else data)

    async def reply(self, timeout: float = 5.0) -> bytes:
        return await asyncio.wait_for(self.received.get(), timeout)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def h02_position_frame(
    tracker_id: str,
    *,
    when: Any = None,
    lat: float = 50.58855,
    lon: float = 4.53035,
    speed_knots: float = 0.0,
    course: int = 0,
    status: str = "FFFFFBFF",
    valid: bool = True,
    kind: str = "V1",
) -> str:
    """An H02 text position frame, fix time ``when`` (UTC datetime; default now)."""
    from homeassistant.util import dt as dt_util

    when = when or dt_util.utcnow()
    lat_deg, lon_deg = int(abs(lat)), int(abs(lon))
    lat_txt = f"{lat_deg:02d}{(abs(lat) - lat_deg) * 60:07.4f}"
    lon_txt = f"{lon_deg:03d}{(abs(lon) - lon_deg) * 60:07.4f}"
    return (
        f"*HQ,{tracker_id},{kind},{when:%H%M%S},{'A' if valid else 'V'},"
        f"{lat_txt},{'N' if lat >= 0 else 'S'},{lon_txt},{'E' if lon >= 0 else 'W'},"
        f"{speed_knots:06.2f},{course:03d},{when:%d%m%y},{status}#"
    )


JT808_PHONE = bytes.fromhex("012345678900")
JT808_ID = "12345678900"  # the terminal ID of JT808_PHONE, without its leading zero


def jt808_location(
    *,
    speed_dkmh: int = 0,
    status: int = 0b10,
    alarm: int = 0,
    mileage_hm: int | None = 12345,
    voltage_dv: int | None = None,
    signal: int | None = 21,
    satellites: int | None = 9,
) -> bytes:
    """A JT/T 808 0x0200 body now (the device's clock is GMT+8) at 52.370216 N 4.895168 E,
    altitude 5 m, heading 90: ``status`` bit 1 a valid fix, bit 0 the ignition; then the items
    given: mileage (0.1 km), external voltage (0.1 V, item 0xE1), signal and satellites."""
    from homeassistant.util import dt as dt_util

    local = dt_util.utcnow() + timedelta(hours=8)
    body = (
        alarm.to_bytes(4)
        + status.to_bytes(4)
        + (52_370_216).to_bytes(4)
        + (4_895_168).to_bytes(4)
        + (5).to_bytes(2)
        + speed_dkmh.to_bytes(2)
        + (90).to_bytes(2)
        + bytes.fromhex(f"{local:%y%m%d%H%M%S}")
    )
    if mileage_hm is not None:
        body += bytes((0x01, 4)) + mileage_hm.to_bytes(4)
    if signal is not None:
        body += bytes((0x30, 1, signal))
    if satellites is not None:
        body += bytes((0x31, 1, satellites))
    if voltage_dv is not None:
        body += bytes((0xE1, 2)) + voltage_dv.to_bytes(2)
    return body


INTEGRATION_LOGGER = "custom_components.sinotrack"


def warnings_from(records: Iterable[logging.LogRecord], *loggers: str) -> list[str]:
    """Warnings and errors logged by ``loggers`` (and their children), as "logger: message".

    Tests assert on these, not on every record: on a busy machine asyncio's debug mode warns
    about slow callbacks ("Executing <Task …> took 0.129 seconds"), which says nothing about
    the code under test.
    """
    return [
        f"{r.name}: {r.getMessage()}"
        for r in records
        if r.levelno >= logging.WARNING
        and any(r.name == name or r.name.startswith(f"{name}.") for name in loggers)
    ]


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity ID registered for ``unique_id`` (names may change, unique IDs do not)."""
    from homeassistant.helpers import entity_registry as er

    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, f"no {platform} entity with unique ID {unique_id}"
    return found


def state(hass: HomeAssistant, platform: str, key: str, tid: str = "4106011660") -> State:
    """The state of tracker ``tid``'s ``platform`` entity with unique ID ``f"{tid}_{key}"``."""
    found = hass.states.get(entity_id(hass, platform, f"{tid}_{key}"))
    assert found is not None
    return found


def states_written(hass: HomeAssistant, entity: str) -> list[State]:
    """Every state the entity ``entity`` writes from now on (its removal is not one)."""
    written: list[State] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == entity and (new := event.data["new_state"]) is not None:
            written.append(new)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    return written


def logbook_lines(hass: HomeAssistant) -> list[str]:
    """Every logbook line the integration writes from now on (wait for one with
    ``wait_for_event(hass, EVENT_LOGBOOK_ENTRY, …)``)."""
    lines: list[str] = []

    @callback
    def record(event: Event) -> None:
        lines.append(event.data["message"])

    hass.bus.async_listen(EVENT_LOGBOOK_ENTRY, record)
    return lines


def tracker_device(hass: HomeAssistant, entry_id: str, tracker_id: str) -> Any:
    """The device of a tracker, or None (portable across registry API changes)."""
    from homeassistant.helpers import device_registry as dr

    for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id):
        if (DOMAIN, tracker_id) in device.identifiers:
            return device
    return None


class LoopLag:
    """How late the event loop wakes a 10 ms sleeper: what every other integration feels.

    A context manager in tests; ``start``/``stop`` with ``recording`` switched around the measured
    window in the benchmarks.
    """

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.recording = True
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            if self.recording:
                self.samples.append(time.perf_counter() - start - 0.01)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def __enter__(self) -> LoopLag:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.samples) or [0.0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
