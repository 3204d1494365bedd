"""SinoTrack's 4G line end to end (issue #16): its V6/V8 reports on the device. Real sockets."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position,
    setup_listener,
    tracker_device,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

VAN = "9001000002"  # a 4G tracker: V6 at power-on, then V8
BIKE = "4106011660"  # a classic one: V1 and binary frames
ICCID = "8944501311217563382"
BSSIDS = ("A1B2C3D4E5F6", "0A1B2C3D4E5F")


def v6(tid: str = VAN, status: str = "FFFFFBFF") -> str:
    """SinoTrack's power-on report (h02.md §13.1): cell, then the ICCID with its F filler."""
    now = dt_util.utcnow()
    return (
        f"*HQ,{tid},V6,{now:%H%M%S},A,3514.4088,N,09733.2842,W,0.00,0.00,{now:%d%m%y},"
        f"{status},310,260,32936,13641,{ICCID}F,#"
    )


def v8(tid: str = VAN, status: str = "FFFFFBFF", when: datetime | None = None) -> str:
    """The 4G periodic report: cell, two Wi-Fi pairs, satellites, CSQ, 0.1 V, battery %."""
    now = when or dt_util.utcnow()
    wifi = ",".join(f"{bssid},{rssi}" for bssid, rssi in zip(BSSIDS, (60, 75), strict=True))
    return (
        f"*HQ,{tid},V8,{now:%H%M%S},A,3542.2043,N,03838.6508,W,0.00,170,{now:%d%m%y},"
        f"{status},310,260,32936,13641,{wifi},22,31,126,80#"
    )


def binary(tid: str = BIKE) -> bytes:
    """A real 32-byte binary frame (h02.md §11) with the tracker ID swapped in."""
    frame = bytearray.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    frame[1:6] = bytes.fromhex(tid)
    return bytes(frame)


def state(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    found = hass.states.get(entity_id(hass, platform, unique_id))
    assert found is not None
    return found


def is_r12(frame: bytes, tid: str) -> bool:
    return re.fullmatch(rb"\*HQ,%s,R12,\d{6}#" % tid.encode(), frame) is not None


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
    await wait_for(lambda: registry.async_get_entity_id("sensor", DOMAIN, f"{VAN}_voltage"))
    await hass.async_block_till_done()
    assert state(hass, "sensor", f"{VAN}_battery").state == "80"
    assert float(state(hass, "sensor", f"{VAN}_voltage").state) == pytest.approx(12.6)
    assert state(hass, "sensor", f"{VAN}_satellites").state == "22"
    assert state(hass, "sensor", f"{VAN}_signal").state == "31"

    bike = await FakeTracker(entry.data["port"]).connect()
    await bike.send(h02_position(BIKE))
    assert (await bike.read_frame()).startswith(f"*HQ,{BIKE},V4,V1,".encode())
    await bike.send(binary())
    assert is_r12(await bike.read_frame(), BIKE)

    device = tracker_device(hass, entry.entry_id, VAN)
    diag = (await async_get_device_diagnostics(hass, entry, device))["tracker"]
    assert diag["iccid"] == "894450#########3382"
    assert diag["serving_cell"] == {"mcc": 310, "mnc": 260, "cells": 1}
    assert diag["wifi_access_points"] == 2
    entry_diag = await async_get_config_entry_diagnostics(hass, entry)
    assert [t["wifi_access_points"] for t in entry_diag["trackers"]] == [2, 0]
    text = json.dumps([diag, entry_diag])
    # Wi-Fi BSSIDs, cell IDs, the LAC and the whole ICCID locate or identify someone.
    for secret in (*BSSIDS, "32936", "13641", ICCID, VAN, BIKE):
        assert secret not in text
    await van.close()
    await bike.close()
