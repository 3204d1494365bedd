"""Which trackers a service call reaches, and who may call the administrators' services."""

from __future__ import annotations

import pytest
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sinotrack.const import DOMAIN

from .helpers import entity_id, free_port, setup_listener, tracker_device

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


async def test_automation_sends_a_raw_command_to_the_targeted_entities(
    hass: HomeAssistant,
) -> None:
    # No user in the context (an automation or a script): the administrators' service runs.
    entry = await setup_listener(hass, free_port(), trackers=[(TID, "Bike")])
    device = tracker_device(hass, entry.entry_id, TID)
    response = await hass.services.async_call(
        DOMAIN,
        "send_command",
        {
            "entity_id": ["sensor.not_registered", entity_id(hass, "sensor", f"{TID}_battery")],
            "command": "S71,HHMMSS,22,30",
        },
        blocking=True,
        return_response=True,
        context=Context(),
    )
    # The tracker has not connected: the command waits for its next report.
    assert response == {"trackers": [{"device_id": device.id, "queued": True}]}
    (pending,) = entry.runtime_data.hub.commands.pending_for(TID)
    assert pending.command.text == "S71,HHMMSS,22,30"
    response = await hass.services.async_call(
        DOMAIN, "cancel_command", {"device_id": device.id}, blocking=True, return_response=True
    )
    assert response == {"trackers": [{"device_id": device.id, "cancelled": 1}]}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_devices_no_loaded_listener_speaks_for_are_refused(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port(), trackers=[(TID, "Bike")])
    device = tracker_device(hass, entry.entry_id, TID)
    other = MockConfigEntry(domain="other_integration")
    other.add_to_hass(hass)
    foreign = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other_integration", TID)}
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "request_position", {"device_id": foreign.id}, blocking=True
        )
    assert err.value.translation_key == "no_trackers"
    # The tracker's own device, once its listener is unloaded: nothing can reach it.
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "request_position", {"device_id": [foreign.id, device.id]}, blocking=True
        )
    assert err.value.translation_key == "no_trackers"
