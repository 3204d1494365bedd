"""The set-up form recovers: after an error, the corrected submission creates the listener."""

from __future__ import annotations

import socket

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.sinotrack.const import DOMAIN

from .helpers import free_port

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_user_step_recovers_from_each_error(hass: HomeAssistant) -> None:
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": False, "udp": False}
    )
    assert result["errors"] == {"base": "no_protocol"}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("", port))
        busy.listen()
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": port, "tcp": True, "udp": True}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "port_in_use"}
    # The other program has let go of the port: the same form, submitted again, succeeds.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"port": port, "tcp": True, "udp": True}
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.runtime_data.server.bound_port == port
    assert await hass.config_entries.async_unload(entry.entry_id)
