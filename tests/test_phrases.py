"""The sentences Python writes for the user follow Home Assistant's language.

The entry title, a new tracker's default name, the logbook lines and the command labels inside
them and inside errors come from the translations (``phrases.py``), English where a language lacks
a key; real sockets, a real config flow.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.translation import async_get_cached_translations

from custom_components.sinotrack.const import DOMAIN, SUBENTRY_TYPE_TRACKER
from custom_components.sinotrack.phrases import async_load_phrases, command_label, phrase
from custom_components.sinotrack.protocol import CommandKind
from custom_components.sinotrack.subentries import default_tracker_name

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    logbook_lines,
    setup_listener,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


async def test_entry_title_and_default_name_in_the_users_language(hass: HomeAssistant) -> None:
    await hass.config.async_update(language="es")
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Hub de SinoTrack (puerto {port})"
    entry = result["result"]
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": "123456789012345"}
    )
    assert result["title"] == "SinoTrack A 2345"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_english_title_by_default(hass: HomeAssistant) -> None:
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": True, "udp": False}
    )
    assert result["title"] == f"SinoTrack hub (port {port})"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


def test_default_name_follows_the_pattern_of_the_language() -> None:
    # A language that puts the digits first still gets markers no other tracker has.
    pattern, plain = "{digits} {letter} SinoTrack", "{digits} SinoTrack"
    first = default_tracker_name(TID, (), pattern, plain)
    assert first == "1660 A SinoTrack"
    assert default_tracker_name(TID, [first], pattern, plain) == "1660 B SinoTrack"
    taken = [f"1660 {chr(c)} SinoTrack" for c in range(ord("A"), ord("Z") + 1)]
    assert default_tracker_name(TID, taken, pattern, plain) == "1660 SinoTrack"


async def test_logbook_and_errors_in_the_users_language(hass: HomeAssistant) -> None:
    await hass.config.async_update(language="de")
    port = free_port()
    entry = await setup_listener(hass, port, trackers=[(TID, "Auto")])
    tracker = await FakeTracker(port).connect()
    try:
        book = logbook_lines(hass)
        await tracker.send(h02_position_frame(TID, speed_knots=60 / 1.852, status="FFFFFFFF"))
        await tracker.read_frame()
        switch = entity_id(hass, "switch", f"{TID}_immobilizer")
        with pytest.raises(ServiceValidationError):
            await hass.services.async_call(
                "switch", "turn_on", {"entity_id": switch}, blocking=True
            )
        assert book == ["Motorabschaltung abgelehnt: fährt 60 km/h (die Grenze liegt bei 20 km/h)"]
        # The command label inside an error and a logbook line: the tracker never answers.
        hub: Any = entry.runtime_data.hub
        hub.commands.ack_timeout = 0.2
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN, "request_position", {"entity_id": switch}, blocking=True
            )
        assert err.value.translation_placeholders is not None
        assert err.value.translation_placeholders["command"] == "Positionsabfrage"
        assert "Positionsabfrage: gesendet" in book
        assert "Positionsabfrage: keine Antwort innerhalb von 0 s" in book
    finally:
        await tracker.close()
        await hass.config_entries.async_unload(entry.entry_id)


async def test_every_command_kind_has_a_label(hass: HomeAssistant) -> None:
    await async_load_phrases(hass)
    cached = async_get_cached_translations(hass, "en", "selector", DOMAIN)
    for kind in CommandKind:
        assert f"component.{DOMAIN}.selector.command.options.{kind.value}" in cached
    assert command_label(hass, CommandKind.ENGINE_STOP.value) == "engine cut"
    assert phrase(hass, "logbook_queued", command="x") == "x queued until the tracker reports"
    # An unknown key is itself, never an exception (as Home Assistant's own messages).
    assert phrase(hass, "no_such_phrase") == "no_such_phrase"
    # A placeholder the caller did not give leaves the sentence as it is, never raises.
    assert phrase(hass, "logbook_queued") == "{command} queued until the tracker reports"
