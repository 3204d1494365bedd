"""Services: position request, interval, immobilize/release, arm/disarm, overspeed limit, raw
command, cancel (per device)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .commands import MAX_INTERVAL_S, MAX_OVERSPEED_KMH, MIN_INTERVAL_S
from .const import DOMAIN
from .hub import Hub
from .protocol import Command, CommandKind
from .sms import DEFAULT_INTERVAL_S, DEFAULT_PARKED_INTERVAL_S, SetupValues, async_send

ATTR_FORCE = "force"
ATTR_SECONDS = "seconds"
ATTR_COMMAND = "command"
ATTR_KMH = "kmh"
ATTR_VIA = "via"
ATTR_MESSAGE = "message"
VIA = {vol.Optional(ATTR_VIA): vol.In(["gprs", "sms"])}

TARGET = {
    vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_ENTITY_ID): cv.entity_ids,
}

type Handler = Callable[[Hub, str, ServiceCall], Awaitable[dict[str, Any]]]


def _trackers(hass: HomeAssistant, call: ServiceCall) -> list[tuple[Hub, str, str]]:
    """(hub, tracker ID, device ID) for every targeted SinoTrack device."""
    devices = dr.async_get(hass)
    device_ids = set(call.data.get(ATTR_DEVICE_ID, []))
    entities = er.async_get(hass)
    for entity_id in call.data.get(ATTR_ENTITY_ID, []):
        if (registered := entities.async_get(entity_id)) is not None and registered.device_id:
            device_ids.add(registered.device_id)
    found: list[tuple[Hub, str, str]] = []
    for device_id in sorted(device_ids):
        device = devices.async_get(device_id)
        if device is None:
            continue
        tracker_ids = [ident for domain, ident in device.identifiers if domain == DOMAIN]
        # Newer Home Assistant: one config entry per device (config_entries is deprecated).
        single: str | None = getattr(device, "config_entry_id", None)
        for entry_id in [single] if single else list(device.config_entries):
            entry = hass.config_entries.async_get_entry(entry_id)
            if entry is None or entry.domain != DOMAIN:
                continue
            if entry.state is not ConfigEntryState.LOADED:
                continue
            hub: Hub = entry.runtime_data.hub
            found.extend((hub, t, device_id) for t in tracker_ids if t in hub.trackers)
    if not found:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_trackers")
    return found


async def _require_admin(hass: HomeAssistant, call: ServiceCall) -> None:
    """Automations and scripts (no user) may; a signed-in user must be an administrator."""
    if call.context.user_id is None:
        return
    user = await hass.auth.async_get_user(call.context.user_id)
    if user is None or not user.is_admin:
        raise Unauthorized(context=call.context)


def _register(
    hass: HomeAssistant,
    name: str,
    schema: dict[Any, Any],
    handler: Handler,
    *,
    admin: Callable[[ServiceCall], bool] = lambda _call: False,
) -> None:
    async def service(call: ServiceCall) -> ServiceResponse:
        if admin(call):
            await _require_admin(hass, call)
        results: list[Any] = []
        for hub, tracker_id, device_id in _trackers(hass, call):
            result = await handler(hub, tracker_id, call)
            results.append({"device_id": device_id, **result})
        return {"trackers": results}

    # Typed Any: Home Assistant 2026.10 validates with probatio, which aliases voluptuous.
    full_schema: Any = vol.Schema({**TARGET, **schema})
    hass.services.async_register(
        DOMAIN, name, service, schema=full_schema, supports_response=SupportsResponse.OPTIONAL
    )


def _simple(kind: CommandKind, **extra: Any) -> Handler:
    async def handler(hub: Hub, tracker_id: str, call: ServiceCall) -> dict[str, Any]:
        command = Command(kind, **{k: fn(call) for k, fn in extra.items()})
        force = bool(call.data.get(ATTR_FORCE, False))
        via = call.data.get(ATTR_VIA)
        result = await hub.send_command(tracker_id, command, force=force, via=via)
        return result.as_response()

    return handler


async def _send_sms(hub: Hub, tracker_id: str, call: ServiceCall) -> dict[str, Any]:
    tracker = hub.tracker(tracker_id)
    await async_send(hub.hass, hub.sms_service, tracker, call.data[ATTR_MESSAGE])
    hub.commands.logbook(tracker, "logbook_sms_message_sent")
    return {"via": "sms"}


async def _configure_by_sms(hub: Hub, tracker_id: str, call: ServiceCall) -> dict[str, Any]:
    values = SetupValues(
        apn=call.data["apn"],
        apn_user=call.data["apn_user"],  # the schema's defaults: always there
        apn_password=call.data["apn_password"],
        interval=call.data["interval"],
        parked_interval=call.data["parked_interval"],
    )
    return {"via": "sms", "steps": await hub.configure_by_sms(tracker_id, values)}


async def _cancel(hub: Hub, tracker_id: str, call: ServiceCall) -> dict[str, Any]:
    return {"cancelled": hub.commands.cancel(hub.trackers[tracker_id])}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services once, for every listener entry."""
    _register(hass, "request_position", {**VIA}, _simple(CommandKind.REQUEST_POSITION))
    _register(
        hass,
        "set_interval",
        {
            **VIA,
            vol.Required(ATTR_SECONDS): vol.All(
                vol.Coerce(int), vol.Range(min=MIN_INTERVAL_S, max=MAX_INTERVAL_S)
            ),
        },
        _simple(CommandKind.SET_INTERVAL, interval_s=lambda call: int(call.data[ATTR_SECONDS])),
    )
    _register(
        hass,
        "immobilize",
        {**VIA, vol.Optional(ATTR_FORCE, default=False): cv.boolean},
        _simple(CommandKind.ENGINE_STOP),
        admin=lambda call: bool(call.data.get(ATTR_FORCE)),
    )
    _register(
        hass,
        "release",
        {**VIA, vol.Optional(ATTR_FORCE, default=False): cv.boolean},
        _simple(CommandKind.ENGINE_RESUME),
    )
    _register(
        hass,
        "send_command",
        {vol.Required(ATTR_COMMAND): vol.All(cv.string, vol.Length(min=1, max=512))},
        _simple(CommandKind.RAW, text=lambda call: str(call.data[ATTR_COMMAND])),
        admin=lambda _call: True,
    )
    _register(hass, "cancel_command", {}, _cancel)
    _register(hass, "arm", {**VIA}, _simple(CommandKind.ARM))
    _register(hass, "disarm", {**VIA}, _simple(CommandKind.DISARM))
    seconds = vol.All(vol.Coerce(int), vol.Range(min=MIN_INTERVAL_S, max=MAX_INTERVAL_S))
    _register(
        hass,
        "configure_by_sms",
        {
            vol.Required("apn"): cv.string,
            vol.Optional("apn_user", default=""): cv.string,
            vol.Optional("apn_password", default=""): cv.string,
            vol.Optional("interval", default=DEFAULT_INTERVAL_S): seconds,
            vol.Optional("parked_interval", default=DEFAULT_PARKED_INTERVAL_S): seconds,
        },
        _configure_by_sms,
        admin=lambda _call: True,
    )
    _register(
        hass,
        "send_sms",
        {vol.Required(ATTR_MESSAGE): vol.All(cv.string, vol.Length(min=1, max=160))},
        _send_sms,
        admin=lambda _call: True,
    )
    _register(
        hass,
        "set_overspeed",
        {
            **VIA,
            vol.Required(ATTR_KMH): vol.All(
                vol.Coerce(int), vol.Range(min=0, max=MAX_OVERSPEED_KMH)
            ),
        },
        _simple(CommandKind.SET_OVERSPEED, speed_kmh=lambda call: int(call.data[ATTR_KMH])),
    )
