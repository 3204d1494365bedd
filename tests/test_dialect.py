"""SinoTrack's 4G dialect end to end (issue #16): V6/V8 reports, R12, the remembered dialect,
the restore form per tracker and the repair for an unanswered restore. Real sockets."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN, SUBENTRY_TYPE_TRACKER
from custom_components.sinotrack.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from custom_components.sinotrack.hub import Hub
from custom_components.sinotrack.profiles import store_key
from custom_components.sinotrack.protocol.model import Command, CommandKind

from .helpers import (
    FakeTracker,
    UdpClient,
    entity_id,
    free_port,
    h02_position_frame,
    listener_entry,
    setup_listener,
    states_written,
    tracker_device,
    wait_for,
    wait_for_event,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

VAN = "9001000002"  # a 4G tracker: V6 at power-on, then V8
BIKE = "4106011660"  # a classic one: V1 and binary frames
ICCID = "8944501311217563382"
BSSIDS = ("A1B2C3D4E5F6", "0A1B2C3D4E5F")
TRANSLATIONS = Path(__file__).parents[1] / "custom_components/sinotrack/translations/en.json"
S20 = re.compile(rb"\*HQ,(\d+),S20,(\d{6}),([01]),([01])#")


def v6(tid: str = VAN, status: str = "FFFFFBFF") -> str:
    """SinoTrack's power-on report (h02.md §13.1): cell, then the ICCID with its F filler."""
    now = dt_util.utcnow()
    return (
        f"*HQ,{tid},V6,{now:%H%M%S},A,3514.4088,N,09733.2842,W,0.00,0.00,{now:%d%m%y},"
        f"{status},310,260,32936,13641,{ICCID}F,#"
    )


def v8(tid: str = VAN, status: str = "FFFFFBFF", when: datetime | None = None) -> str:
    """The 4G periodic report: cell, two Wi-Fi pairs, satellites, CSQ, 0.1 V, battery %; where
    the power-on report was (a fix thousands of km away would be an implausible jump, held)."""
    now = when or dt_util.utcnow()
    wifi = ",".join(f"{bssid},{rssi}" for bssid, rssi in zip(BSSIDS, (60, 75), strict=True))
    return (
        f"*HQ,{tid},V8,{now:%H%M%S},A,3514.4088,N,09733.2842,W,0.00,170,{now:%d%m%y},"
        f"{status},310,260,32936,13641,{wifi},22,31,126,80#"
    )


def binary(tid: str = BIKE) -> bytes:
    """A real 32-byte binary frame (h02.md §11) with the tracker ID swapped in."""
    frame = bytearray.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    frame[1:6] = bytes.fromhex(tid)
    return bytes(frame)


def s20_ack(tid: str, tag: str, status: str = "FFFFB9FF") -> str:
    """The 4G protocol note's answer to S20 (§13.3): echoed tag, device time, a space, a fix."""
    now = dt_util.utcnow()
    return (
        f"*HQ,{tid},V4,S20,OK,{tag},{now:%H%M%S}, A,2235.0086,N,11354.3668,E,000.00,000,"
        f"{now:%d%m%y},{status},460,00,10342,3721#"
    )


def state(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    found = hass.states.get(entity_id(hass, platform, unique_id))
    assert found is not None
    return found


def is_r12(frame: bytes, tid: str) -> bool:
    return re.fullmatch(rb"\*HQ,%s,R12,\d{6}#" % tid.encode(), frame) is not None


async def reconfigure(hass: HomeAssistant, entry: Any, tid: str, **changes: Any) -> None:
    """The tracker's subentry reconfigure step, as the user submits it."""
    sub = next(s for s in entry.subentries.values() if s.unique_id == tid)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": sub.title, **changes}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


async def release(hass: HomeAssistant, tid: str) -> asyncio.Task[Any]:
    return asyncio.create_task(
        hass.services.async_call(
            "switch",
            "turn_off",
            {"entity_id": entity_id(hass, "switch", f"{tid}_immobilizer")},
            blocking=True,
        )
    )


@pytest.fixture
async def fleet(hass: HomeAssistant) -> Any:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(VAN, "Van"), (BIKE, "Bike")])
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def test_4g_reports_feed_sensors_iccid_and_diagnostics(
    hass: HomeAssistant, fleet: Any
) -> None:
    entry = fleet
    registry = er.async_get(hass)
    for key in ("signal", "satellites", "iccid"):
        reg = registry.async_get(entity_id(hass, "sensor", f"{VAN}_{key}"))
        assert reg is not None
        assert reg.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert reg.entity_category is not None
        registry.async_update_entity(reg.entity_id, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{VAN}_voltage") is None

    van = await FakeTracker(entry.data["port"]).connect()
    await van.send(v6())
    assert is_r12(await van.read_frame(), VAN)
    assert state(hass, "sensor", f"{VAN}_iccid").state == ICCID
    await van.send(v8())
    assert is_r12(await van.read_frame(), VAN)
    # The voltage sensor appears with the first report that has one.
    await wait_for_event(
        hass,
        er.EVENT_ENTITY_REGISTRY_UPDATED,
        lambda: registry.async_get_entity_id("sensor", DOMAIN, f"{VAN}_voltage"),
    )
    await hass.async_block_till_done()
    assert state(hass, "sensor", f"{VAN}_battery").state == "80"
    assert float(state(hass, "sensor", f"{VAN}_voltage").state) == pytest.approx(12.6)
    assert state(hass, "sensor", f"{VAN}_satellites").state == "22"
    assert state(hass, "sensor", f"{VAN}_signal").state == "31"

    bike = await FakeTracker(entry.data["port"]).connect()
    await bike.send(h02_position_frame(BIKE))
    assert (await bike.read_frame()).startswith(f"*HQ,{BIKE},V4,V1,".encode())
    await bike.send(binary())
    assert is_r12(await bike.read_frame(), BIKE)

    device = tracker_device(hass, entry.entry_id, VAN)
    diag = (await async_get_device_diagnostics(hass, entry, device))["tracker"]
    assert diag["dialect"] == "4g"
    assert diag["iccid"] == ICCID  # the device's diagnostics: whole, to top the SIM up by it
    assert diag["serving_cell"] == {"mcc": 310, "mnc": 260, "cells": 1}
    assert diag["wifi_access_points"] == 2
    assert (diag["command_style"], diag["restore_style"], diag["r12_replies"]) == (
        "auto",
        "4g",
        True,
    )
    entry_diag = await async_get_config_entry_diagnostics(hass, entry)
    assert sorted(str(t["dialect"]) for t in entry_diag["trackers"]) == ["4g", "None"]
    assert ICCID not in json.dumps(entry_diag)  # the overview of every tracker masks it
    text = json.dumps([diag, entry_diag])
    # Wi-Fi BSSIDs, cell IDs, the LAC and the tracker IDs locate or identify someone.
    for secret in (*BSSIDS, "32936", "13641", VAN, BIKE):
        assert secret not in text
    await van.close()
    await bike.close()


async def test_restore_form_follows_dialect_and_command_style(
    hass: HomeAssistant, fleet: Any
) -> None:
    entry = fleet
    port = entry.data["port"]
    van = await FakeTracker(port).connect()
    bike = await FakeTracker(port).connect()
    await van.send(v8())
    await van.read_frame()
    await bike.send(h02_position_frame(BIKE))
    await bike.read_frame()

    async def restore(tracker: FakeTracker, tid: str) -> bytes:
        call = await release(hass, tid)
        sent = await tracker.read_frame()
        match = S20.fullmatch(sent)
        assert match is not None, sent
        await tracker.send(s20_ack(tid, match.group(2).decode()))
        await asyncio.wait_for(call, 5)
        assert is_r12(await tracker.read_frame(), tid)  # the answer carries a fix
        return match.group(3) + match.group(4)

    # Auto: the 4G tracker gets 0,0, the classic one 1,0.
    assert await restore(van, VAN) == b"00"
    assert await restore(bike, BIKE) == b"10"
    # The cut is 1,1 for both; the 4G answer (V4,S20,OK with a spaced fix) confirms it.
    call = asyncio.create_task(
        hass.services.async_call(
            "switch",
            "turn_on",
            {"entity_id": entity_id(hass, "switch", f"{VAN}_immobilizer")},
            blocking=True,
        )
    )
    match = S20.fullmatch(await van.read_frame())
    assert match is not None
    assert match.group(3) + match.group(4) == b"11"
    await van.send(s20_ack(VAN, match.group(2).decode(), status="F7FFBBFF"))
    await asyncio.wait_for(call, 5)
    assert is_r12(await van.read_frame(), VAN)
    assert state(hass, "switch", f"{VAN}_immobilizer").state == "on"
    assert await restore(van, VAN) == b"00"
    assert state(hass, "switch", f"{VAN}_immobilizer").state == "off"

    # command_style overrides the dialect, both ways.
    await reconfigure(hass, entry, VAN, command_style="classic")
    await reconfigure(hass, entry, BIKE, command_style="4g")
    assert await restore(van, VAN) == b"10"
    assert await restore(bike, BIKE) == b"00"
    await van.close()
    await bike.close()


async def test_dialect_is_remembered_across_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(VAN, "Van"), (BIKE, "Bike")])
    van = await FakeTracker(port).connect()
    await van.send(v6())
    await van.read_frame()
    await van.send(v8())
    await van.read_frame()
    await van.close()
    iccid_sensor = entity_id(hass, "sensor", f"{VAN}_iccid")
    er.async_get(hass).async_update_entity(iccid_sensor, disabled_by=None)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[store_key(entry.entry_id)]["data"] == {
        VAN: {"dialect": "4g", "iccid": ICCID}
    }

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Known before the tracker reports again: the SIM's number too.
    assert hass.states.get(iccid_sensor).state == ICCID  # type: ignore[union-attr]
    hub: Hub = entry.runtime_data.hub
    assert (hub.trackers[VAN].dialect, hub.trackers[VAN].iccid) == ("4g", ICCID)
    assert hub.trackers[BIKE].dialect is None
    device = tracker_device(hass, entry.entry_id, VAN)
    assert (await async_get_device_diagnostics(hass, entry, device))["tracker"]["dialect"] == "4g"

    # No V6/V8 since the restart: its codec is told, so the status word of the next binary
    # frame is read by the 4G table (bit 5 = low battery there, GPS antenna in the classic one).
    fired = states_written(hass, entity_id(hass, "event", f"{VAN}_alarm"))
    van = await FakeTracker(port).connect()
    await van.send(binary(VAN))
    await van.read_frame()
    assert hub.peers[VAN].codec.dialect == "4g"  # type: ignore[union-attr]
    low_battery = bytearray(binary(VAN))
    low_battery[-4] &= ~0x20  # the status word's last byte (bits 0-7): bit 5, active-low
    await van.send(bytes(low_battery))
    await van.read_frame()
    await hass.async_block_till_done()
    assert [s.attributes["event_type"] for s in fired] == ["low_battery"]
    # And its restore is the 4G one.
    call = await release(hass, VAN)
    match = S20.fullmatch(await van.read_frame())
    assert match is not None
    assert match.group(3) + match.group(4) == b"00"
    await van.send(s20_ack(VAN, match.group(2).decode()))
    await asyncio.wait_for(call, 5)
    await van.close()

    # A tracker that is removed is forgotten.
    sub = next(s for s in entry.subentries.values() if s.unique_id == VAN)
    hass.config_entries.async_remove_subentry(entry, sub.subentry_id)
    await hass.async_block_till_done()
    assert hub.profiles.dialect(VAN) is None
    await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[store_key(entry.entry_id)]["data"] == {}
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert store_key(entry.entry_id) not in hass_storage


async def test_stored_profiles_are_validated(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    port = free_port()
    entry = listener_entry(port, trackers=[(VAN, "Van"), (BIKE, "Bike"), ("77", "Other")])
    hass_storage[store_key(entry.entry_id)] = {
        "version": 1,
        "key": store_key(entry.entry_id),
        "data": {
            VAN: {"dialect": "4g", "iccid": "89#<script>"},
            BIKE: {"dialect": "5g", "iccid": "8944501311217563382"},
            "77": "not a record",
            "x1": {"dialect": "4g"},
        },
    }
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    hub: Hub = entry.runtime_data.hub
    assert (hub.trackers[VAN].dialect, hub.trackers[VAN].iccid) == ("4g", None)
    assert (hub.trackers[BIKE].dialect, hub.trackers[BIKE].iccid) == (None, ICCID)
    assert hub.trackers["77"].dialect is None
    assert hub.profiles.as_dict() == {VAN: {"dialect": "4g"}, BIKE: {"iccid": ICCID}}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unanswered_restore_raises_a_repair(hass: HomeAssistant, fleet: Any) -> None:
    entry = fleet
    hub: Hub = entry.runtime_data.hub
    hub.commands.ack_timeout = 0.2
    port = entry.data["port"]
    issues = ir.async_get(hass)
    van = await FakeTracker(port).connect()
    await van.send(v8())
    await van.read_frame()

    # Over TCP: the caller's wait times out, and the repair names the other form and the SMS.
    with pytest.raises(HomeAssistantError) as err:
        await hub.send_command(VAN, Command(CommandKind.ENGINE_RESUME))
    assert err.value.translation_key == "command_timeout"
    assert S20.fullmatch(await van.read_frame())
    issue = issues.async_get_issue(DOMAIN, f"restore_unanswered_{VAN}")
    assert issue is not None
    assert issue.translation_key == "restore_unanswered"
    assert issue.translation_placeholders == {
        "name": "Van",
        "seconds": "0",
        "sent": "S20,…,0,0",
        "other": "S20,…,1,0",
        "sms": "941PASSWORD",
    }
    strings = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))["issues"]["restore_unanswered"]
    used = set(re.findall(r"{(\w+)}", strings["title"] + strings["description"]))
    assert used == set(issue.translation_placeholders)
    # An acknowledged restore clears it.
    hub.commands.ack_timeout = 5.0
    call = await release(hass, VAN)
    match = S20.fullmatch(await van.read_frame())
    assert match is not None
    await van.send(s20_ack(VAN, match.group(2).decode()))
    await asyncio.wait_for(call, 5)
    assert issues.async_get_issue(DOMAIN, f"restore_unanswered_{VAN}") is None
    await van.close()

    # Queued for a tracker that is away, delivered with the reply to its next report, and
    # never answered: the same repair, after the ack timeout.
    hub.commands.ack_timeout = 0.2
    udp = await UdpClient.open(port)
    udp.send(h02_position_frame(BIKE))
    await udp.reply()
    await asyncio.wait_for(await release(hass, BIKE), 5)
    assert issues.async_get_issue(DOMAIN, f"restore_unanswered_{BIKE}") is None
    udp.send(h02_position_frame(BIKE))
    assert (await udp.reply()).startswith(f"*HQ,{BIKE},V4,V1,".encode())
    match = S20.fullmatch(await udp.reply())
    assert match is not None
    assert match.group(3) + match.group(4) == b"10"
    issue = await wait_for_event(
        hass,
        ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED,
        lambda: issues.async_get_issue(DOMAIN, f"restore_unanswered_{BIKE}"),
        what="the repair",
    )
    assert issue.translation_placeholders["sent"] == "S20,…,1,0"
    assert issue.translation_placeholders["other"] == "S20,…,0,0"
    # A late answer still counts: the restore was understood.
    udp.send(s20_ack(BIKE, match.group(2).decode()))
    await wait_for_event(
        hass,
        ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED,
        lambda: issues.async_get_issue(DOMAIN, f"restore_unanswered_{BIKE}") is None,
    )
    udp.close()


async def test_r12_off_for_one_tracker_from_its_first_frame(
    hass: HomeAssistant, fleet: Any
) -> None:
    entry = fleet
    port = entry.data["port"]
    await reconfigure(hass, entry, VAN, r12_replies=False)
    hub: Hub = entry.runtime_data.hub
    assert hub.trackers[VAN].r12_replies is False

    van = await FakeTracker(port).connect()
    await van.send(v8())  # the connection's first frame: decoded before it was known as VAN's
    await wait_for(lambda: hub.stats.messages == 1)
    assert await van.read_nothing() == b""
    assert state(hass, "sensor", f"{VAN}_battery").state == "80"
    await van.send(binary(VAN))
    await wait_for(lambda: hub.stats.messages == 2)
    assert await van.read_nothing() == b""
    assert hub.peers[VAN].codec.r12 is False  # type: ignore[union-attr]
    # Replies that are not R12 still go out (the V1 time sync).
    await van.send(h02_position_frame(VAN))
    assert (await van.read_frame()).startswith(f"*HQ,{VAN},V4,V1,".encode())
    # The other tracker keeps its R12.
    bike = await FakeTracker(port).connect()
    await bike.send(binary())
    assert is_r12(await bike.read_frame(), BIKE)
    await van.close()

    # A reconnection, first frame and a queued command in one write: the command goes out,
    # the R12 does not.
    await wait_for(lambda: VAN not in hub.peers)
    response = await hass.services.async_call(
        DOMAIN,
        "request_position",
        {"entity_id": entity_id(hass, "switch", f"{VAN}_immobilizer")},
        blocking=True,
        return_response=True,
    )
    assert response["trackers"][0]["queued"] is True
    van = await FakeTracker(port).connect()
    await van.send(v8() + v8())
    assert re.fullmatch(rb"\*HQ,%s,CR,\d{6}#" % VAN.encode(), await van.read_frame())
    assert await van.read_nothing() == b""
    await van.send(f"*HQ,{VAN},V4,CR#")
    # Turned back on while connected: applies to the next frame.
    await reconfigure(hass, entry, VAN, r12_replies=True)
    await van.send(v8())
    assert is_r12(await van.read_frame(), VAN)
    await van.close()
    await bike.close()


async def test_r12_off_over_udp(hass: HomeAssistant, fleet: Any) -> None:
    entry = fleet
    await reconfigure(hass, entry, VAN, r12_replies=False)
    udp = await UdpClient.open(entry.data["port"])
    udp.send(v8())
    udp.send(h02_position_frame(VAN))
    # Only the V1's time sync comes back: the V8's R12 was held back.
    assert (await udp.reply()).startswith(f"*HQ,{VAN},V4,V1,".encode())
    with pytest.raises(TimeoutError):
        await udp.reply(timeout=0.2)
    udp.close()


async def test_tracker_subentry_dialect_fields(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port())
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    schema = {str(key): key for key in result["data_schema"].schema}
    assert schema["r12_replies"].default() is True
    assert schema["command_style"].default() == "auto"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": VAN, "r12_replies": False, "command_style": "4g"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (sub,) = entry.subentries.values()
    assert (sub.data["r12_replies"], sub.data["command_style"]) == (False, "4g")
    tracker = entry.runtime_data.hub.trackers[VAN]
    assert (tracker.r12_replies, tracker.command_style) == (False, "4g")

    # Reconfigure shows the current values; a submission without them keeps them.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub.subentry_id},
    )
    schema = {str(key): key for key in result["data_schema"].schema}
    assert (schema["r12_replies"].default(), schema["command_style"].default()) == (False, "4g")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Van", "max_cut_speed": 20}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[sub.subentry_id].data["command_style"] == "4g"
    # Not one of the styles: refused by the form.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub.subentry_id},
    )
    with pytest.raises(InvalidData, match="command_style"):
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"name": "Van", "max_cut_speed": 20, "command_style": "5g"}
        )
    await hass.config_entries.async_unload(entry.entry_id)
