"""A JT/T 808 tracker end to end, and both protocols on one listener at the same time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.protocol.jt808 import build_frame

from .helpers import (
    JT808_ID,
    JT808_PHONE,
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    jt808_location,
    setup_listener,
    wait_for,
    wait_for_event,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

H02_ID = "4106011660"


def unframe(reply: bytes) -> dict[str, Any]:
    """A platform frame taken apart (un-escaped, checksum checked)."""
    assert reply[:1] == b"\x7e"
    assert reply[-1:] == b"\x7e"
    content = reply[1:-1].replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    check = 0
    for byte in content[:-1]:
        check ^= byte
    assert check == content[-1]
    return {
        "id": int.from_bytes(content[0:2]),
        "phone": content[4:10],
        "serial": int.from_bytes(content[10:12]),
        "body": content[12:-1],
    }


class Jt808Tracker(FakeTracker):
    serial = 0

    async def message(self, message_id: int, body: bytes) -> int:
        self.serial += 1
        await self.send(build_frame(message_id, body, JT808_PHONE, None, self.serial))
        return self.serial

    async def read_jt808(self, timeout: float = 5.0) -> dict[str, Any]:
        return unframe(await self.read_jt808_frame(timeout))


def register_body() -> bytes:
    return (
        (11).to_bytes(2)
        + (1).to_bytes(2)
        + b"SINOT"
        + b"ST-901A+".ljust(20, b"\x00")
        + b"5678900"
        + bytes((0,))
        + b"VIN0000000000000"
    )


async def test_jt808_register_auth_report_and_engine_cut(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(JT808_ID, "Van")])
    tracker = await Jt808Tracker(port).connect()

    serial = await tracker.message(0x0100, register_body())
    reply = await tracker.read_jt808()
    assert reply["id"] == 0x8100
    assert reply["phone"] == JT808_PHONE
    assert int.from_bytes(reply["body"][:2]) == serial
    assert reply["body"][2] == 0  # result: success
    auth_code = reply["body"][3:]
    assert auth_code

    serial = await tracker.message(0x0102, auth_code)
    reply = await tracker.read_jt808()
    assert reply["id"] == 0x8001
    assert reply["body"] == serial.to_bytes(2) + (0x0102).to_bytes(2) + b"\x00"

    serial = await tracker.message(0x0200, jt808_location(speed_dkmh=0, status=0b10))
    reply = await tracker.read_jt808()
    assert reply["body"] == serial.to_bytes(2) + (0x0200).to_bytes(2) + b"\x00"
    loc = hass.states.get(entity_id(hass, "device_tracker", f"{JT808_ID}_location"))
    assert loc.attributes["latitude"] == pytest.approx(52.370216, abs=1e-6)
    assert loc.attributes["longitude"] == pytest.approx(4.895168, abs=1e-6)
    # The odometer sensor appears with the first report that carries a mileage.
    await wait_for_event(
        hass,
        er.EVENT_ENTITY_REGISTRY_UPDATED,
        lambda: er.async_get(hass).async_get_entity_id(
            "sensor", "sinotrack", f"{JT808_ID}_odometer"
        ),
    )
    await hass.async_block_till_done()
    assert hass.states.get(entity_id(hass, "sensor", f"{JT808_ID}_odometer")).state == "1234.5"
    assert hass.states.get(entity_id(hass, "binary_sensor", f"{JT808_ID}_ignition")).state == "off"
    fix_time = entry.runtime_data.hub.trackers[JT808_ID].fix_time
    assert abs((fix_time - dt_util.utcnow()).total_seconds()) < 10  # GMT+8 taken into account

    switch = entity_id(hass, "switch", f"{JT808_ID}_immobilizer")
    call = asyncio.create_task(
        hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    )
    command = await tracker.read_jt808()
    assert command["id"] == 0x8105
    assert command["body"] == b"\xf0"
    assert hass.states.get(switch).state == "off"
    await tracker.message(0x0001, command["serial"].to_bytes(2) + (0x8105).to_bytes(2) + b"\x00")
    await asyncio.wait_for(call, 5)
    assert hass.states.get(switch).state == "on"
    # The next report carries the oil-cut status bit: still on.
    await tracker.message(0x0200, jt808_location(status=0b10 | (1 << 10)))
    await tracker.read_jt808()
    assert hass.states.get(switch).state == "on"
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_both_protocols_on_one_listener(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="add")
    jt = await Jt808Tracker(port).connect()
    h02 = await FakeTracker(port).connect()
    await jt.message(0x0200, jt808_location(speed_dkmh=450, status=0b11))
    await h02.send(h02_position_frame(H02_ID, lat=50.0, lon=4.0))
    assert (await jt.read_jt808())["id"] == 0x8001
    assert (await h02.read_frame()).startswith(f"*HQ,{H02_ID},V4,V1,".encode())
    await hass.async_block_till_done()
    await wait_for(lambda: len(entry.runtime_data.hub.trackers) == 2)
    hub = entry.runtime_data.hub
    await wait_for(lambda: hub.trackers[JT808_ID].latitude is not None)
    assert hub.trackers[JT808_ID].speed_kmh == pytest.approx(45.0)
    assert hub.trackers[JT808_ID].protocol == "jt808"
    assert hub.trackers[H02_ID].protocol == "h02"
    assert hub.trackers[H02_ID].latitude == pytest.approx(50.0)
    await jt.close()
    await h02.close()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_jt808_restore_unanswered_raises_no_h02_repair(hass: HomeAssistant) -> None:
    """The restore-form repair offers H02's other S20 form: a JT/T 808 tracker has none."""
    from homeassistant.exceptions import HomeAssistantError
    from homeassistant.helpers import issue_registry as ir

    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(JT808_ID, "Van")])
    entry.runtime_data.hub.commands.ack_timeout = 0.2
    tracker = await Jt808Tracker(port).connect()
    await tracker.message(0x0200, jt808_location(speed_dkmh=0, status=0b10))
    await tracker.read_jt808()
    switch = entity_id(hass, "switch", f"{JT808_ID}_immobilizer")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call("sinotrack", "release", {"entity_id": switch}, blocking=True)
    command = await tracker.read_jt808()
    assert command["id"] == 0x8105
    assert ir.async_get(hass).issues == {}
    await tracker.close()
    await hass.config_entries.async_unload(entry.entry_id)
