"""icons.json: every entity, state and service has an icon, as Home Assistant loads them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers.icon import async_get_icons

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.event import EVENT_TYPES

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / DOMAIN
MDI = re.compile(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$")
# The battery sensor keeps its device class's icon, which shows the level (battery-20 …
# battery-alert); a fixed icon here would replace it with one that never changes.
DEVICE_CLASS_ICON = {("sensor", "battery")}
TWO_STATE = {"binary_sensor", "switch"}  # their "on" state gets an icon of its own


def translated_entities() -> dict[str, set[str]]:
    """Platform -> translation keys of every entity the integration names."""
    strings = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
    return {platform: set(keys) for platform, keys in strings["entity"].items()}


async def test_home_assistant_loads_every_icon(hass: HomeAssistant) -> None:
    entities: dict[str, Any] = (await async_get_icons(hass, "entity", [DOMAIN]))[DOMAIN]
    services: dict[str, Any] = (await async_get_icons(hass, "services", [DOMAIN]))[DOMAIN]

    for platform, keys in translated_entities().items():
        for key in keys:
            if (platform, key) in DEVICE_CLASS_ICON:
                continue
            icon = entities[platform][key]
            assert MDI.match(icon["default"]), (platform, key)
            if platform in TWO_STATE:
                assert MDI.match(icon["state"]["on"]), (platform, key)
                assert icon["state"]["on"] != icon["default"], (platform, key)
    # The engine: the immobilizer switch shows the engine, or the engine off while it is cut.
    assert entities["switch"]["immobilizer"] == {
        "default": "mdi:engine",
        "state": {"on": "mdi:engine-off"},
        "state_attributes": {
            "pending_command": {
                "state": {"engine_stop": "mdi:engine-off", "engine_resume": "mdi:engine"}
            }
        },
    }
    assert entities["button"]["request_position"] == {"default": "mdi:crosshairs-gps"}
    alarm_states = entities["event"]["alarm"]["state_attributes"]["event_type"]["state"]
    assert set(alarm_states) == set(EVENT_TYPES)

    declared = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    assert len(declared) == 11  # issue 21: arm, disarm, set_overspeed, send_sms, configure_by_sms
    assert set(services) == set(declared)
    for service, icon in services.items():
        assert MDI.match(icon["service"]), service


def test_every_icon_is_a_material_design_name() -> None:
    """No typo like "mdi:Engine" or "mdi engine": the frontend would show nothing."""

    def values(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [v for child in node.values() for v in values(child)]
        return [node]

    data = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
    found = values(data)
    assert len(found) > 40
    assert [icon for icon in found if not MDI.match(icon)] == []
