"""Config flow: the listener entry, its options, reconfigure, and tracker subentries."""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector

from .const import (
    CONF_COMMAND_STYLE,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_CUT_SPEED,
    CONF_NAME,
    CONF_NEW_TRACKERS,
    CONF_OFFLINE_AFTER,
    CONF_PORT,
    CONF_R12_REPLIES,
    CONF_RELAY_COMMANDS,
    CONF_RELAY_HOST,
    CONF_RELAY_PORT,
    CONF_TCP,
    CONF_TRACKER_ID,
    CONF_UDP,
    DEFAULT_COMMAND_STYLE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_CUT_SPEED,
    DEFAULT_NEW_TRACKERS,
    DEFAULT_OFFLINE_AFTER,
    DEFAULT_PORT,
    DEFAULT_R12_REPLIES,
    DEFAULT_RELAY_PORT,
    DOMAIN,
    SUBENTRY_TYPE_TRACKER,
    CommandStyle,
    NewTrackerPolicy,
    valid_tracker_id,
)
from .phrases import async_load_phrases, phrase
from .subentries import (
    add_tracker_subentry,
    suggested_tracker_name,
    tracker_owner,
)

PORT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX)
)


def probe_port(port: int, tcp: bool, udp: bool) -> str | None:
    """Try to bind the chosen sockets; an error key for the form, or None when free."""
    kinds = [k for k, on in ((socket.SOCK_STREAM, tcp), (socket.SOCK_DGRAM, udp)) if on]
    for kind in kinds:
        sock = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:  # as asyncio's server binds it
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("", port))
        except OSError as err:
            return "port_in_use" if err.errno == errno.EADDRINUSE else "cannot_bind"
        finally:
            sock.close()
    return None


def _schema(fields: dict[Any, Any]) -> Any:
    """A form schema. Typed ``Any``: Home Assistant 2026.10 swapped voluptuous for probatio, which
    accepts ``vol.Schema`` at run time (it aliases the module) but not in type checkers."""
    return vol.Schema(fields)


def _listener_schema(defaults: dict[str, Any]) -> Any:
    return _schema(
        {
            vol.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): PORT_SELECTOR,
            vol.Required(CONF_TCP, default=defaults.get(CONF_TCP, True)): bool,
            vol.Required(CONF_UDP, default=defaults.get(CONF_UDP, True)): bool,
        }
    )


async def _async_entry_title(hass: HomeAssistant, port: int) -> str:
    """ "SinoTrack hub (port 8888)" in the user's language (the flow may run before set-up)."""
    await async_load_phrases(hass)
    return phrase(hass, "entry_title", port=port)


def _clean_listener_input(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_TCP: bool(user_input[CONF_TCP]),
        CONF_UDP: bool(user_input[CONF_UDP]),
    }


class SinoTrackConfigFlow(ConfigFlow, domain=DOMAIN):
    """The listener entry (one per port) and the confirmation of newly seen trackers."""

    VERSION = 1
    MINOR_VERSION = 1

    _tracker_id: str
    _listener_entry_id: str
    _suggested_name: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> SinoTrackOptionsFlow:
        return SinoTrackOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        return {SUBENTRY_TYPE_TRACKER: TrackerSubentryFlow}

    async def _async_validate(
        self, data: dict[str, Any], current_port: int | None = None
    ) -> str | None:
        if not data[CONF_TCP] and not data[CONF_UDP]:
            return "no_protocol"
        if data[CONF_PORT] == current_port:
            return None  # bound by this very entry: it is rebound on reload
        return await self.hass.async_add_executor_job(
            probe_port, data[CONF_PORT], data[CONF_TCP], data[CONF_UDP]
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean_listener_input(user_input)
            if _entry_on_port(self.hass, data[CONF_PORT]) is not None:
                errors[CONF_PORT] = "port_configured"  # the user picks another port here
            elif error := await self._async_validate(data):
                errors["base"] = error
            else:
                await self.async_set_unique_id(str(data[CONF_PORT]))
                return self.async_create_entry(
                    title=await _async_entry_title(self.hass, data[CONF_PORT]),
                    data=data,
                    options={
                        CONF_NEW_TRACKERS: DEFAULT_NEW_TRACKERS.value,
                        CONF_OFFLINE_AFTER: DEFAULT_OFFLINE_AFTER,
                        CONF_MAX_CONNECTIONS: DEFAULT_MAX_CONNECTIONS,
                    },
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(_listener_schema({}), user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean_listener_input(user_input)
            other = _entry_on_port(self.hass, data[CONF_PORT])
            if other is not None and other.entry_id != entry.entry_id:
                errors[CONF_PORT] = "port_configured"
            elif error := await self._async_validate(data, current_port=entry.data[CONF_PORT]):
                errors["base"] = error
            else:
                # The entry's update listener sees the new port and reloads (rebinds) the entry.
                self.hass.config_entries.async_update_entry(
                    entry,
                    data=data,
                    unique_id=str(data[CONF_PORT]),
                    title=await _async_entry_title(self.hass, data[CONF_PORT]),
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_listener_schema(dict(user_input or entry.data)),
            errors=errors,
        )

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """A tracker nobody knows has reported: ask the user whether to add it."""
        tracker_id = str(discovery_info[CONF_TRACKER_ID])
        if not valid_tracker_id(tracker_id):
            return self.async_abort(reason="invalid_tracker_id")
        await self.async_set_unique_id(f"tracker_{tracker_id}")
        self._abort_if_unique_id_configured()
        self._tracker_id = tracker_id
        self._listener_entry_id = str(discovery_info["entry_id"])
        self.context["title_placeholders"] = {"tracker_id": tracker_id}
        return await self.async_step_confirm_tracker()

    async def async_step_confirm_tracker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self.hass.config_entries.async_get_entry(self._listener_entry_id)
        if entry is None:
            return self.async_abort(reason="listener_removed")
        if any(s.unique_id == self._tracker_id for s in entry.subentries.values()):
            return self.async_abort(reason="already_configured")
        placeholders = {"tracker_id": self._tracker_id}
        errors: dict[str, str] = {}
        await async_load_phrases(self.hass)  # the suggested name is in the user's language
        if (owner := tracker_owner(self.hass, self._tracker_id)) is not None:
            # It reports here, but belongs to another hub: adding it twice would split it.
            errors["base"] = "tracker_elsewhere"
            placeholders["hub"] = owner.title
        elif user_input is not None:
            name = str(user_input[CONF_NAME]).strip()
            if not name or name == self._suggested_name:  # another tracker may have taken it
                name = suggested_tracker_name(self.hass, self._tracker_id)
            add_tracker_subentry(self.hass.config_entries, entry, self._tracker_id, name)
            return self.async_abort(reason="tracker_added")
        self._suggested_name = suggested_tracker_name(self.hass, self._tracker_id)
        return self.async_show_form(
            step_id="confirm_tracker",
            data_schema=_schema({vol.Required(CONF_NAME, default=self._suggested_name): str}),
            errors=errors,
            description_placeholders=placeholders,
        )


def _entry_on_port(hass: HomeAssistant, port: int) -> ConfigEntry | None:
    """The listener entry (hub) that owns ``port``, if any."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.unique_id == str(port) or entry.data.get(CONF_PORT) == port:
            return entry
    return None


class SinoTrackOptionsFlow(OptionsFlow):
    """New-tracker policy, offline delay and connection cap; applied without a restart."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            relay_host = relay_host_of(str(user_input.get(CONF_RELAY_HOST) or ""))
            if relay_host is None:
                errors[CONF_RELAY_HOST] = "invalid_relay_host"
            else:
                return self.async_create_entry(
                    data={
                        CONF_NEW_TRACKERS: str(user_input[CONF_NEW_TRACKERS]),
                        CONF_OFFLINE_AFTER: int(user_input[CONF_OFFLINE_AFTER]),
                        CONF_MAX_CONNECTIONS: int(user_input[CONF_MAX_CONNECTIONS]),
                        CONF_RELAY_HOST: relay_host,
                        CONF_RELAY_PORT: int(user_input[CONF_RELAY_PORT]),
                        CONF_RELAY_COMMANDS: bool(user_input[CONF_RELAY_COMMANDS]),
                    }
                )
        options = dict(user_input or self.config_entry.options)
        schema = _schema(
            {
                vol.Required(
                    CONF_NEW_TRACKERS,
                    default=options.get(CONF_NEW_TRACKERS, DEFAULT_NEW_TRACKERS.value),
                ): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[p.value for p in NewTrackerPolicy],
                        translation_key=CONF_NEW_TRACKERS,
                        mode=selector.SelectSelectorMode.LIST,
                    )
                ),
                vol.Required(
                    CONF_OFFLINE_AFTER,
                    default=options.get(CONF_OFFLINE_AFTER, DEFAULT_OFFLINE_AFTER),
                ): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1,
                        max=1440,
                        step=1,
                        unit_of_measurement="min",
                        mode=selector.NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(
                    CONF_MAX_CONNECTIONS,
                    default=options.get(CONF_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS),
                ): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=100000, step=1, mode=selector.NumberSelectorMode.BOX
                    )
                ),
                **_relay_fields(options),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)


_RELAY_HOST = re.compile(r"[A-Za-z0-9._:-]{1,253}")


def relay_host_of(text: str) -> str | None:
    """The relay server as typed (a name, an IPv4 or an IPv6 address, brackets allowed):
    ``""`` for none (the relay is off), None if it cannot be a host."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return ""
    return host if _RELAY_HOST.fullmatch(host) and not host.startswith(("-", ".")) else None


def _relay_fields(options: Mapping[str, Any]) -> dict[Any, Any]:
    """The relay's options: its server (empty: off), port, and whether its commands pass."""
    return {
        vol.Optional(
            CONF_RELAY_HOST, description={"suggested_value": options.get(CONF_RELAY_HOST, "")}
        ): selector.TextSelector(),
        vol.Required(
            CONF_RELAY_PORT, default=options.get(CONF_RELAY_PORT, DEFAULT_RELAY_PORT)
        ): PORT_SELECTOR,
        vol.Required(
            CONF_RELAY_COMMANDS, default=options.get(CONF_RELAY_COMMANDS, False)
        ): selector.BooleanSelector(),
    }


SPEED_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=0, max=200, step=1, unit_of_measurement="km/h", mode=selector.NumberSelectorMode.BOX
    )
)
COMMAND_STYLE_SELECTOR = selector.SelectSelector(
    selector.SelectSelectorConfig(
        options=[s.value for s in CommandStyle],
        translation_key=CONF_COMMAND_STYLE,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
)


def _dialect_fields(data: Mapping[str, Any]) -> dict[Any, Any]:
    """R12 replies and the immobilizer's restore form (SinoTrack's 4G line, h02.md §13)."""
    return {
        vol.Required(
            CONF_R12_REPLIES, default=data.get(CONF_R12_REPLIES, DEFAULT_R12_REPLIES)
        ): bool,
        vol.Required(
            CONF_COMMAND_STYLE, default=data.get(CONF_COMMAND_STYLE, DEFAULT_COMMAND_STYLE.value)
        ): COMMAND_STYLE_SELECTOR,
    }


def _dialect_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    return {
        CONF_R12_REPLIES: bool(user_input.get(CONF_R12_REPLIES, DEFAULT_R12_REPLIES)),
        CONF_COMMAND_STYLE: str(user_input.get(CONF_COMMAND_STYLE, DEFAULT_COMMAND_STYLE.value)),
    }


class TrackerSubentryFlow(ConfigSubentryFlow):
    """Add a tracker by hand, by its ID; change its name or engine-cut speed limit later."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            tracker_id = str(user_input[CONF_TRACKER_ID]).strip()
            entry = self._get_entry()
            owner = tracker_owner(self.hass, tracker_id) if valid_tracker_id(tracker_id) else None
            if not valid_tracker_id(tracker_id):
                errors[CONF_TRACKER_ID] = "invalid_tracker_id"
            elif owner is not None and owner.entry_id == entry.entry_id:
                errors[CONF_TRACKER_ID] = "already_configured"
            elif owner is not None:
                errors[CONF_TRACKER_ID] = "tracker_elsewhere"
                placeholders["hub"] = owner.title
            else:
                name = str(user_input.get(CONF_NAME) or "").strip()
                await async_load_phrases(self.hass)
                return self.async_create_entry(
                    title=name or suggested_tracker_name(self.hass, tracker_id),
                    data={
                        CONF_TRACKER_ID: tracker_id,
                        CONF_MAX_CUT_SPEED: float(
                            user_input.get(CONF_MAX_CUT_SPEED, DEFAULT_MAX_CUT_SPEED)
                        ),
                        **_dialect_input(user_input),
                    },
                    unique_id=tracker_id,
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _schema(
                    {
                        vol.Required(CONF_TRACKER_ID): str,
                        vol.Optional(CONF_NAME): str,
                        vol.Optional(
                            CONF_MAX_CUT_SPEED, default=DEFAULT_MAX_CUT_SPEED
                        ): SPEED_SELECTOR,
                        **_dialect_fields({}),
                    }
                ),
                user_input,
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        subentry = self._get_reconfigure_subentry()
        if user_input is not None:
            name = str(user_input[CONF_NAME]).strip() or subentry.title
            return self.async_update_and_abort(
                self._get_entry(),
                subentry,
                title=name,
                data_updates={
                    CONF_MAX_CUT_SPEED: float(user_input[CONF_MAX_CUT_SPEED]),
                    **_dialect_input(user_input),
                },
            )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_schema(
                {
                    vol.Required(CONF_NAME, default=subentry.title): str,
                    vol.Required(
                        CONF_MAX_CUT_SPEED,
                        default=subentry.data.get(CONF_MAX_CUT_SPEED, DEFAULT_MAX_CUT_SPEED),
                    ): SPEED_SELECTOR,
                    **_dialect_fields(subentry.data),
                }
            ),
        )
