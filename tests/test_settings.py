"""The tracker's settings as services (issue 21, item 1): arm/disarm confirmed by the tracker's
acknowledgement over a real socket, queued while it is offline, the armed binary sensor from the
status word's bit 9, and the overspeed limit (JT/T 808 0x8103 parameter 0x0055; H02 refused)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.protocol import Command, CommandKind

from . import test_commands
from .helpers import (
    FakeTracker,
    entity_id,
    h02_position_frame,
    tracker_device,
    wait_for,
    wait_for_state,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")
car = test_commands.car  # the fixture: a listener with the Car connected on a real socket

TID = "4106011660"
SCF = re.compile(rb"\*HQ,4106011660,SCF,(\d{6}),([01]),([01])#")
ARMED = "FFFFF9FF"  # bit 9 (armed) and bit 10 (ACC off) active: active-low
DISARMED = "FFFFFBFF"


def scf_ack(tag: str, status: str) -> str:
    """The 4G document's SCF answer: echoed tag, device time, then a fix (h02.md §13.3)."""
    now = dt_util.utcnow()
    return (
        f"*HQ,{TID},V4,SCF,{tag},{now:%H%M%S}, A,5035.3129,N,00431.8211,E,000.00,000,"
        f"{now:%d%m%y},{status}#"
    )


async def test_arm_and_disarm_are_confirmed_by_the_tracker(hass: HomeAssistant, car: Any) -> None:
    entry, tracker = car
    await tracker.send(h02_position_frame(TID, status=DISARMED))
    await tracker.read_frame()
    armed = entity_id(hass, "binary_sensor", f"{TID}_armed")
    await wait_for_state(hass, armed, lambda s: s.state == "off")
    device = tracker_device(hass, entry.entry_id, TID)

    for service, params, status, shown in (
        ("arm", (b"0", b"0"), ARMED, "on"),
        ("disarm", (b"1", b"1"), DISARMED, "off"),
    ):
        call = asyncio.create_task(
            hass.services.async_call(
                DOMAIN, service, {"device_id": device.id}, blocking=True, return_response=True
            )
        )
        match = SCF.fullmatch(await tracker.read_frame())
        assert match is not None
        assert match.groups()[1:] == params
        await asyncio.sleep(0.05)
        assert not call.done()  # waits for the tracker's word
        await tracker.send(scf_ack(match.group(1).decode(), status))
        # An acknowledgement with a fix is answered with R12.
        assert (await tracker.read_frame()).startswith(f"*HQ,{TID},R12,".encode())
        response = await asyncio.wait_for(call, 5)
        assert response == {
            "trackers": [
                {
                    "device_id": device.id,
                    "queued": False,
                    "command": "SCF",
                    "result": None,
                    "success": None,
                    "params": [],
                }
            ]
        }
        await wait_for_state(hass, armed, lambda s, shown=shown: s.state == shown)


async def test_arm_is_queued_while_offline_and_delivered(hass: HomeAssistant, car: Any) -> None:
    entry, tracker = car
    port = int(entry.data["port"])
    await tracker.send(h02_position_frame(TID))
    await tracker.read_frame()
    await tracker.close()
    await wait_for(lambda: TID not in entry.runtime_data.hub.peers)
    device = tracker_device(hass, entry.entry_id, TID)
    response = await hass.services.async_call(
        DOMAIN, "arm", {"device_id": device.id}, blocking=True, return_response=True
    )
    assert response == {"trackers": [{"device_id": device.id, "queued": True}]}
    (pending,) = entry.runtime_data.hub.commands.pending_for(TID)
    assert pending.command.kind is CommandKind.ARM
    back = await FakeTracker(port).connect()
    try:
        await back.send(h02_position_frame(TID))
        data = await back.read_frame() + await back.read_frame()
        assert SCF.search(data) is not None, data
    finally:
        await back.close()


async def test_overspeed_limit_has_no_h02_gprs_form(hass: HomeAssistant, car: Any) -> None:
    entry, tracker = car
    await tracker.send(h02_position_frame(TID))
    await tracker.read_frame()
    device = tracker_device(hass, entry.entry_id, TID)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "set_overspeed", {"device_id": device.id, "kmh": 90}, blocking=True
        )
    assert err.value.translation_key == "invalid_command"
    assert await tracker.read_nothing() == b""
    with pytest.raises(vol.Invalid):  # out of range: refused by the schema
        await hass.services.async_call(
            DOMAIN, "set_overspeed", {"device_id": device.id, "kmh": 300}, blocking=True
        )


def test_jt808_overspeed_limit_is_parameter_0x0055() -> None:
    from datetime import timedelta

    from custom_components.sinotrack.protocol.jt808.encode import command_body

    now = dt_util.utcnow()
    assert command_body(Command(CommandKind.SET_OVERSPEED, speed_kmh=90), now, timedelta()) == (
        0x8103,
        bytes.fromhex("0100000055040000005a"),
    )
    assert command_body(Command(CommandKind.SET_OVERSPEED, speed_kmh=0), now, timedelta())[1][
        -4:
    ] == bytes(4)


async def test_queued_overspeed_limit_survives_a_restart(hass: HomeAssistant) -> None:
    from custom_components.sinotrack.commands import _restored_command

    item = {
        "tracker_id": TID,
        "command": "set_overspeed",
        "interval_s": None,
        "text": None,
        "speed_kmh": 90,
        "created": dt_util.utcnow().isoformat(),
        "expires": dt_util.utcnow().isoformat(),
        "force": False,
    }
    restored = _restored_command(item)
    assert restored is not None
    assert restored.command == Command(CommandKind.SET_OVERSPEED, speed_kmh=90)
    assert _restored_command({**item, "speed_kmh": 999}) is None
