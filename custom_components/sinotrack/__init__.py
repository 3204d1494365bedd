"""SinoTrack GPS trackers reporting straight to Home Assistant (H02, JT/T 808; TCP and UDP).

Setting up a listener entry binds the tracker port (``server.py``), starts its hub (``hub.py``)
and forwards the entity platforms.
"""

from __future__ import annotations

from importlib.util import find_spec

# `python -m custom_components.sinotrack.protocol decode` imports this package first, also in a
# plain Python without Home Assistant: the integration is defined only where Home Assistant is.
if find_spec("homeassistant") is not None:
    import errno
    import logging
    from dataclasses import dataclass

    from homeassistant.config_entries import ConfigEntry
    from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
    from homeassistant.core import Event, HomeAssistant, callback
    from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
    from homeassistant.helpers import config_validation as cv
    from homeassistant.helpers import device_registry as dr
    from homeassistant.helpers import issue_registry as ir
    from homeassistant.helpers.typing import ConfigType

    from .const import CONF_PORT, CONF_TCP, CONF_UDP, DOMAIN
    from .hub import Hub
    from .phrases import async_load_phrases
    from .profiles import async_remove_profiles
    from .server import TrackerServer
    from .services import async_setup_services
    from .subentries import tracker_subentries

    _LOGGER = logging.getLogger(__name__)

    PLATFORMS: list[Platform] = [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.DEVICE_TRACKER,
        Platform.EVENT,
        Platform.SENSOR,
        Platform.SWITCH,
    ]

    CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

    async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
        """Register the services (they target tracker devices of any listener entry)."""
        async_setup_services(hass)
        return True

    @dataclass(slots=True)
    class SinoTrackRuntime:
        """What a loaded listener entry holds."""

        hub: Hub
        server: TrackerServer
        bound: tuple[int, bool, bool]  # port, tcp, udp as bound: a change means rebinding

    type SinoTrackConfigEntry = ConfigEntry[SinoTrackRuntime]

    async def async_setup_entry(hass: HomeAssistant, entry: SinoTrackConfigEntry) -> bool:
        """Bind the tracker port and start the hub."""
        port = int(entry.data[CONF_PORT])
        tcp = bool(entry.data.get(CONF_TCP, True))
        udp = bool(entry.data.get(CONF_UDP, True))
        await async_load_phrases(hass)  # the hub names new trackers and writes the logbook
        hub = Hub(hass, entry)
        await hub.profiles.async_load()  # before the first report can arrive
        server = TrackerServer(
            hub,
            port=port,
            tcp=tcp,
            udp=udp,
        )
        server.apply_options(entry.options)
        issue_id = f"port_in_use_{entry.entry_id}"
        try:
            await server.start()
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                # Home Assistant retries with a growing delay; the repair tells the user why.
                ir.async_create_issue(
                    hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key="port_in_use",
                    translation_placeholders={"port": str(port)},
                )
                raise ConfigEntryNotReady(
                    translation_domain=DOMAIN,
                    translation_key="port_in_use",
                    translation_placeholders={"port": str(port)},
                ) from err
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="cannot_bind",
                translation_placeholders={"port": str(port), "error": str(err)},
            ) from err

        ir.async_delete_issue(hass, DOMAIN, issue_id)
        hub.relay.bind(server)
        entry.runtime_data = SinoTrackRuntime(hub, server, (port, tcp, udp))

        async def _stop(_event: Event) -> None:
            await server.stop()

        # Not async_listen_once: its remover, called by an unload after the stop, logs an error.
        entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _stop))
        entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
        hub.start()
        entry.async_on_unload(hub.stop)
        await hub.commands.async_restore(hub.trackers)  # before the switches show the queue
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        return True

    async def async_unload_entry(hass: HomeAssistant, entry: SinoTrackConfigEntry) -> bool:
        """Stop the hub and release both sockets, closing connected trackers."""
        unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
        if unloaded:
            await entry.runtime_data.server.stop()
            await entry.runtime_data.hub.commands.async_flush()
            await entry.runtime_data.hub.profiles.async_flush()
        return unloaded

    async def async_remove_entry(hass: HomeAssistant, entry: SinoTrackConfigEntry) -> None:
        """The listener entry was deleted: what it remembered about its trackers goes too."""
        await async_remove_profiles(hass, entry.entry_id)

    async def _async_entry_updated(hass: HomeAssistant, entry: SinoTrackConfigEntry) -> None:
        """Options and trackers apply live; a new port or protocol set rebinds (reload)."""
        runtime = entry.runtime_data
        wanted = (
            int(entry.data[CONF_PORT]),
            bool(entry.data.get(CONF_TCP, True)),
            bool(entry.data.get(CONF_UDP, True)),
        )
        if wanted != runtime.bound:
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return
        runtime.hub.apply_options(entry.options)
        runtime.server.apply_options(entry.options)
        runtime.hub.sync_subentries()

    @callback
    def _subentry_of_device(entry: ConfigEntry, device: dr.DeviceEntry) -> str | None:
        ids = {ident for domain, ident in device.identifiers if domain == DOMAIN}
        for tracker_id, subentry in tracker_subentries(entry):
            if tracker_id in ids:
                return subentry.subentry_id
        return None

    async def async_remove_config_entry_device(
        hass: HomeAssistant, entry: SinoTrackConfigEntry, device: dr.DeviceEntry
    ) -> bool:
        """Deleting a tracker's device deletes its subentry (and so the tracker)."""
        subentry_id = _subentry_of_device(entry, device)
        if subentry_id is not None:
            hass.config_entries.async_remove_subentry(entry, subentry_id)
        return True
