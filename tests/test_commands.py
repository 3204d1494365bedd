"""Immobilizer and commands against a fake tracker on a real socket: acks, interlock, queueing."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.hub import Hub
from custom_components.sinotrack.protocol import Command, CommandKind

from .helpers import (
    FakeTracker,
    UdpClient,
    entity_id,
    free_port,
    h02_position_frame,
    logbook_lines,
    setup_listener,
    tracker_device,
    wait_for,
    wait_for_event,
    wait_for_state,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
S20 = re.compile(rb"\*HQ,4106011660,S20,(\d{6}),1,([01])#")
STOPPED_FIX = "A,5035.3129,N,00431.8211,E,000.00,000,{date},{status}"


def ack(kind: str, tag: str, status: str = "F7FFFBFF") -> str:
    """The acknowledgement styles of the H02 reference for an S20 command with time tag ``tag``."""
    now = dt_util.utcnow()
    fix = f"{now:%H%M%S}," + STOPPED_FIX.format(date=f"{now:%d%m%y}", status=status)
    return {
        "DONE": f"*HQ,{TID},V4,S20,DONE,{tag},{fix}#",
        "OK": f"*HQ,{TID},V4,S20,OK,{tag},{fix}#",
        "80": f"*HQ,{TID},V4,S20,80,{tag},{fix}#",
        "echo": f"*HQ,{TID},V4,S20,{tag},1,1#",
        "ERROR": f"*HQ,{TID},V4,S20,ERROR,{tag},{fix}#",
    }[kind]


@pytest.fixture
async def car(hass: HomeAssistant) -> Any:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    tracker = await FakeTracker(port).connect()
    yield entry, tracker
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def report(tracker: FakeTracker, **kwargs: Any) -> bytes:
    await tracker.send(h02_position_frame(TID, **kwargs))
    return await tracker.read_frame()


def switch_id(hass: HomeAssistant) -> str:
    return entity_id(hass, "switch", f"{TID}_immobilizer")


@pytest.mark.parametrize("style", ["DONE", "OK", "80", "echo"])
async def test_engine_cut_waits_for_the_tracker(hass: HomeAssistant, car: Any, style: str) -> None:
    _, tracker = car
    book = logbook_lines(hass)
    await report(tracker, speed_knots=0.0)
    switch = switch_id(hass)
    assert hass.states.get(switch).state == "off"  # status bit 27 of the report
    call = asyncio.create_task(
        hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    )
    sent = await tracker.read_frame()
    match = S20.fullmatch(sent)
    assert match is not None, sent
    assert match.group(2) == b"1"
    await asyncio.sleep(0.05)
    assert not call.done()
    assert hass.states.get(switch).state != "on"  # never an optimistic guess
    await tracker.send(ack(style, match.group(1).decode()))
    if style != "echo":  # an acknowledgement with a fix is answered with R12
        assert (await tracker.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
    await asyncio.wait_for(call, 5)
    assert hass.states.get(switch).state == "on"
    assert any("engine cut sent" in m for m in book)
    assert any("engine cut done" in m or "engine cut answered" in m for m in book)

    # Restore: S20,…,1,0 and the switch turns off on the answer.
    call = asyncio.create_task(
        hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    )
    sent = await tracker.read_frame()
    match = S20.fullmatch(sent)
    assert match is not None
    assert match.group(2) == b"0"
    await tracker.send(ack("DONE", match.group(1).decode(), status="FFFFFBFF"))
    await asyncio.wait_for(call, 5)
    assert hass.states.get(switch).state == "off"


async def test_engine_cut_refused_at_speed(hass: HomeAssistant, car: Any) -> None:
    _, tracker = car
    book = logbook_lines(hass)
    await report(tracker, speed_knots=60 / 1.852, status="FFFFFFFF")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": switch_id(hass)}, blocking=True
        )
    assert err.value.translation_key == "interlock_speed"
    assert err.value.translation_placeholders == {"name": "Car", "speed": "60", "limit": "20"}
    assert await tracker.read_nothing() == b""
    # One sentence after the switch's name, not the exception's message again.
    assert book == ["engine cut refused: moving at 60 km/h (the limit is 20 km/h)"]
    # Release is never refused.
    call = asyncio.create_task(
        hass.services.async_call(DOMAIN, "release", {"entity_id": switch_id(hass)}, blocking=True)
    )
    sent = await tracker.read_frame()
    assert S20.fullmatch(sent).group(2) == b"0"
    await tracker.send(ack("OK", S20.fullmatch(sent).group(1).decode(), status="FFFFFBFF"))
    await asyncio.wait_for(call, 5)


async def test_interlock_freshness_and_force(hass: HomeAssistant, car: Any) -> None:
    entry, tracker = car
    hub: Hub = entry.runtime_data.hub
    state = hub.trackers[TID]
    book = logbook_lines(hass)
    with pytest.raises(ServiceValidationError) as err:
        await hub.send_command(TID, _stop())
    assert err.value.translation_key == "interlock_no_report"
    await report(tracker, status="FFFFFFFF")  # stopped, ignition on
    state.report_time = dt_util.utcnow() - timedelta(minutes=5)
    with pytest.raises(ServiceValidationError) as err:
        await hub.send_command(TID, _stop())
    assert err.value.translation_key == "interlock_stale"
    await hass.async_block_till_done()
    assert book == [
        "engine cut refused: no report since Home Assistant started, so its speed is unknown",
        "engine cut refused: the latest report is 5 minutes old and does not show the ignition off",
    ]
    # Old, but the ignition is off: allowed.
    state.ignition = False
    hub.commands.ack_timeout = 0.2
    with pytest.raises(HomeAssistantError) as timeout:
        await hub.send_command(TID, _stop())
    assert timeout.value.translation_key == "command_timeout"
    assert S20.fullmatch(await tracker.read_frame())
    # Force overrides the interlock (moving fast, stale).
    state.report_speed_kmh = 90.0
    with pytest.raises(HomeAssistantError):
        await hub.send_command(TID, _stop(), force=True)
    assert S20.fullmatch(await tracker.read_frame())


def _stop() -> Any:
    from custom_components.sinotrack.protocol.model import Command, CommandKind

    return Command(CommandKind.ENGINE_STOP)


async def test_failed_ack_raises(hass: HomeAssistant, car: Any) -> None:
    _, tracker = car
    await report(tracker)
    call = asyncio.create_task(
        hass.services.async_call("switch", "turn_on", {"entity_id": switch_id(hass)}, blocking=True)
    )
    sent = await tracker.read_frame()
    await tracker.send(ack("ERROR", S20.fullmatch(sent).group(1).decode(), status="FFFFFBFF"))
    with pytest.raises(ServiceValidationError) as err:  # the tracker's "no", not a failure
        await asyncio.wait_for(call, 5)
    assert err.value.translation_key == "command_failed"
    assert hass.states.get(switch_id(hass)).state == "off"


async def test_offline_queue_delivered_with_next_report(hass: HomeAssistant, car: Any) -> None:
    entry, tracker = car
    book = logbook_lines(hass)
    await report(tracker)
    await tracker.close()
    await wait_for(lambda: TID not in entry.runtime_data.hub.peers)
    response = await hass.services.async_call(
        DOMAIN, "immobilize", {"entity_id": switch_id(hass)}, blocking=True, return_response=True
    )
    assert response["trackers"][0]["queued"] is True
    switch = hass.states.get(switch_id(hass))
    assert switch.attributes["pending_command"] == "engine_stop"
    assert switch.state == "off"

    # Back, but moving: the cut stays queued.
    again = await FakeTracker(entry.data["port"]).connect()
    reply = await report(again, speed_knots=40.0)
    assert reply.startswith(f"*HQ,{TID},V4,V1,".encode())
    assert await again.read_nothing() == b""
    assert hass.states.get(switch_id(hass)).attributes["pending_command"] == "engine_stop"
    # Stopped: delivered right after the reply to that report.
    await report(again, speed_knots=0.0)
    sent = await again.read_frame()
    match = S20.fullmatch(sent)
    assert match is not None
    assert hass.states.get(switch_id(hass)).attributes["pending_command"] is None
    await again.send(ack("DONE", match.group(1).decode()))
    await wait_for_state(hass, switch_id(hass), lambda s: s.state == "on")
    assert any("delivered" in m for m in book)
    await again.close()


async def test_queue_expires_and_cancels(hass: HomeAssistant, car: Any) -> None:
    entry, tracker = car
    hub: Hub = entry.runtime_data.hub
    book = logbook_lines(hass)
    await report(tracker)
    await tracker.close()
    await wait_for(lambda: TID not in hub.peers)
    hub.commands.queue_expiry = timedelta(seconds=0.05)
    await hass.services.async_call(
        DOMAIN, "request_position", {"entity_id": switch_id(hass)}, blocking=True
    )
    await wait_for_event(hass, "logbook_entry", lambda: any("expired" in m for m in book))
    assert not hub.commands.pending_for(TID)

    hub.commands.queue_expiry = timedelta(minutes=10)
    await hass.services.async_call(
        DOMAIN, "immobilize", {"entity_id": switch_id(hass)}, blocking=True
    )
    response = await hass.services.async_call(
        DOMAIN,
        "cancel_command",
        {"entity_id": switch_id(hass)},
        blocking=True,
        return_response=True,
    )
    assert response["trackers"][0]["cancelled"] == 1
    assert hass.states.get(switch_id(hass)).attributes["pending_command"] is None
    assert any("cancelled" in m for m in book)


async def test_udp_tracker_gets_command_on_next_datagram(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    udp = await UdpClient.open(port)
    udp.send(h02_position_frame(TID))
    await udp.reply()
    response = await hass.services.async_call(
        DOMAIN, "immobilize", {"entity_id": switch_id(hass)}, blocking=True, return_response=True
    )
    assert response["trackers"][0]["queued"] is True
    udp.send(h02_position_frame(TID))
    assert (await udp.reply()).startswith(f"*HQ,{TID},V4,V1,".encode())
    match = S20.fullmatch(await udp.reply())
    assert match is not None
    udp.send(ack("DONE", match.group(1).decode()))
    await wait_for_state(hass, switch_id(hass), lambda s: s.state == "on")
    udp.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def _restart(hass: HomeAssistant, entry: Any) -> None:
    """Home Assistant stops and starts again on the same storage (the entry is set up anew)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _queue_while_offline(hass: HomeAssistant, entry: Any, service: str, **data: Any) -> None:
    port = entry.data["port"]
    tracker = await FakeTracker(port).connect()
    await report(tracker)
    await tracker.close()
    await wait_for(lambda: TID not in entry.runtime_data.hub.peers)
    response = await hass.services.async_call(
        DOMAIN,
        service,
        {"entity_id": switch_id(hass), **data},
        blocking=True,
        return_response=True,
    )
    assert response["trackers"][0]["queued"] is True


async def test_queued_command_survives_a_restart(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    await _queue_while_offline(hass, entry, "set_interval", seconds=45)
    book = logbook_lines(hass)
    await _restart(hass, entry)
    assert any("reporting interval still queued after the restart" in m for m in book)
    (pending,) = entry.runtime_data.hub.commands.pending_for(TID)
    assert pending.command == Command(CommandKind.SET_INTERVAL, interval_s=45)
    # It reaches the tracker with the reply to its first report after the restart.
    tracker = await FakeTracker(port).connect()
    assert (await report(tracker)).startswith(f"*HQ,{TID},V4,V1,".encode())
    assert re.fullmatch(rb"\*HQ,4106011660,D1,\d{6},45#", await tracker.read_frame())
    assert entry.runtime_data.hub.commands.pending_for(TID) == []
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_restored_engine_cut_meets_the_interlock(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    await _queue_while_offline(hass, entry, "immobilize")
    await _restart(hass, entry)
    # The switch shows the restored command before the tracker reports.
    assert hass.states.get(switch_id(hass)).attributes["pending_command"] == "engine_stop"
    tracker = await FakeTracker(port).connect()
    # Moving at 54 km/h: the restored cut is held back, however old it is.
    await report(tracker, speed_knots=29.0)
    assert await tracker.read_nothing() == b""
    assert len(entry.runtime_data.hub.commands.pending_for(TID)) == 1
    # Stopped: the interlock lets it through.
    await report(tracker)
    assert S20.fullmatch(await tracker.read_frame()) is not None
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_queued_command_expired_during_the_restart_is_dropped(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    await _queue_while_offline(hass, entry, "set_interval", seconds=45)
    assert await hass.config_entries.async_unload(entry.entry_id)
    (stored,) = hass_storage[f"{DOMAIN}.{entry.entry_id}.commands"]["data"]
    assert stored["command"] == "set_interval"
    assert stored["interval_s"] == 45
    # Home Assistant stayed stopped past the command's expiry (stored with it).
    stored["expires"] = (dt_util.utcnow() - timedelta(seconds=1)).isoformat()
    book = logbook_lines(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert any("expired while Home Assistant was stopped" in m for m in book)
    assert entry.runtime_data.hub.commands.pending_for(TID) == []
    tracker = await FakeTracker(port).connect()
    await report(tracker)
    assert await tracker.read_nothing() == b""
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_services_and_button(
    hass: HomeAssistant, car: Any, hass_admin_user: Any, hass_read_only_user: Any
) -> None:
    entry, tracker = car
    await report(tracker)
    device = tracker_device(hass, entry.entry_id, TID)

    async def answer(expected: bytes, reply: str) -> None:
        sent = await tracker.read_frame()
        match = re.fullmatch(expected, sent)
        assert match, sent
        # A tracker echoes the command's time tag (reference capture: V4,D1,60,65535,<tag>,…).
        await tracker.send(reply.format(tag=match.group(1).decode()) if match.groups() else reply)

    call = hass.services.async_call(
        DOMAIN, "request_position", {"device_id": device.id}, blocking=True, return_response=True
    )
    task = asyncio.create_task(call)
    await answer(rb"\*HQ,4106011660,CR,\d{6}#", f"*HQ,{TID},V4,CR#")
    response = await asyncio.wait_for(task, 5)
    assert response == {
        "trackers": [
            {
                "device_id": device.id,
                "queued": False,
                "command": "CR",
                "result": None,
                "success": None,
                "params": [],
            }
        ]
    }
    task = asyncio.create_task(
        hass.services.async_call(
            DOMAIN, "set_interval", {"device_id": device.id, "seconds": 30}, blocking=True
        )
    )
    await answer(rb"\*HQ,4106011660,D1,(\d{6}),30#", f"*HQ,{TID},V4,D1,30,1,{{tag}}#")
    await asyncio.wait_for(task, 5)

    # Raw commands are for administrators only.
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "send_command",
            {"device_id": device.id, "command": "S71,22,30"},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    task = asyncio.create_task(
        hass.services.async_call(
            DOMAIN,
            "send_command",
            {"device_id": device.id, "command": "S71,HHMMSS,22,30"},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )
    )
    sent = await tracker.read_frame()
    assert re.fullmatch(rb"\*HQ,4106011660,S71,\d{6},22,30#", sent)
    await tracker.send(f"*HQ,{TID},V4,S71,{sent[20:26].decode()},22,30#")
    await asyncio.wait_for(task, 5)
    # Forcing an engine cut is for administrators only.
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "immobilize",
            {"device_id": device.id, "force": True},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    assert await tracker.read_nothing() == b""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "request_position", {"device_id": "nope"}, blocking=True
        )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "set_interval", {"device_id": device.id, "seconds": 70000}, blocking=True
        )
    assert err.value.translation_key == "invalid_command"

    # The button.
    button = entity_id(hass, "button", f"{TID}_request_position")
    task = asyncio.create_task(
        hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    )
    await answer(rb"\*HQ,4106011660,CR,\d{6}#", f"*HQ,{TID},V4,CR#")
    await asyncio.wait_for(task, 5)


async def test_commands_a_tracker_never_answers_are_bounded(hass: HomeAssistant) -> None:
    from custom_components.sinotrack.commands import MAX_AWAITING_ACK

    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Car")])
    hub: Hub = entry.runtime_data.hub
    udp = await UdpClient.open(port)
    udp.send(h02_position_frame(TID))
    await udp.reply()
    for _ in range(MAX_AWAITING_ACK + 10):
        await hass.services.async_call(
            DOMAIN, "request_position", {"entity_id": switch_id(hass)}, blocking=True
        )
        udp.send(h02_position_frame(TID))  # delivers it; the tracker never acknowledges
        await udp.reply()
        await udp.reply()
    assert len(hub.commands.sent[TID]) == MAX_AWAITING_ACK
    udp.close()
    await hass.config_entries.async_unload(entry.entry_id)
