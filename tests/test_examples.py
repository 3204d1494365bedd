"""The README's example automations and the alarm blueprint load and run in Home Assistant."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    async_validate_config_item,
)
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.sinotrack.event import EVENT_TYPES

from .helpers import (
    INTEGRATION_LOGGER,
    FakeTracker,
    free_port,
    h02_position_frame,
    setup_listener,
    wait_for,
    wait_for_state,
    warnings_from,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BLUEPRINT = ROOT / "blueprints" / "automation" / "sinotrack" / "alarm_notify.yaml"
BLUEPRINT_PATH = "sinotrack/alarm_notify.yaml"  # relative to <config>/blueprints/automation/

# Where the examples' and the blueprint's problems are logged: automations, their actions and
# templates, the blueprint.
AUTOMATION_LOGGERS = (
    "homeassistant.components.automation",
    "homeassistant.components.blueprint",
    "homeassistant.helpers.script",
    "homeassistant.helpers.template",
)
TRACKER_ID = "4106011660"
IGNITION_ON_VIBRATION = "FFFFFFFE"  # active-low: bit 0 cleared = vibration, bit 10 set = ACC on
PARKED = "FFFFFBFF"  # bit 10 cleared = ignition off, no alarm
PARKED_VIBRATION = "FFFFFBFE"  # ignition off and vibration


def load(path: Path) -> Any:
    """A YAML file as Home Assistant reads it (``!input`` and friends included)."""
    return load_yaml(str(path))


def example(name: str) -> dict[str, Any]:
    config = load(ROOT / "examples" / name)
    assert isinstance(config, dict)
    return config


def install_blueprint(hass: HomeAssistant, config_dir: Path) -> None:
    """Point the test instance at a fresh config folder holding the blueprint."""
    hass.config.config_dir = str(config_dir)
    target = config_dir / "blueprints" / "automation" / BLUEPRINT_PATH
    target.parent.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)


def blueprint_instance(alias: str, **inputs: Any) -> dict[str, Any]:
    return {
        "alias": alias,
        "use_blueprint": {
            "path": BLUEPRINT_PATH,
            "input": {"alarm_entity": "event.motorbike_alarm", **inputs},
        },
    }


def automation_states(hass: HomeAssistant) -> dict[str, str]:
    """Friendly name -> state of every automation entity."""
    return {
        str(state.attributes.get("friendly_name")): state.state
        for state in hass.states.async_all("automation")
    }


def test_examples_exist() -> None:
    names = {path.name for path in EXAMPLES}
    for wanted in (
        "vibration_while_parked.yaml",
        "power_cut.yaml",
        "tracker_offline.yaml",
        "leaving_zone.yaml",
    ):
        assert wanted in names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
async def test_example_is_valid(hass: HomeAssistant, path: Path) -> None:
    """Each example is one automation that Home Assistant's own validation accepts."""
    config = load(path)
    assert isinstance(config, dict), f"{path.name}: one automation (a mapping), not a list"
    assert config.get("alias")
    validated = await async_validate_config_item(hass, "automation", config)
    assert validated is not None
    assert validated.validation_status == "ok"


async def test_examples_set_up(hass: HomeAssistant) -> None:
    """All examples together set up as automations that are on, not unavailable."""
    configs = [load(path) for path in EXAMPLES]
    assert await async_setup_component(hass, "automation", {"automation": configs})
    await hass.async_block_till_done()
    states = automation_states(hass)
    assert states == {config["alias"]: STATE_ON for config in configs}


def test_blueprint_is_valid() -> None:
    """The blueprint parses with Home Assistant's schema and offers every alarm the code has."""
    blueprint = Blueprint(
        load(BLUEPRINT),
        path=BLUEPRINT_PATH,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.validate() is None  # runs on this Home Assistant version
    assert set(blueprint.inputs) == {
        "alarm_entity",
        "alarm_types",
        "ignition_entity",
        "notify_actions",
    }
    options = blueprint.inputs["alarm_types"]["selector"]["select"]["options"]
    assert [option["value"] for option in options] == EVENT_TYPES
    assert set(blueprint.inputs["alarm_types"]["default"]) <= set(EVENT_TYPES)


async def test_blueprint_instance_is_valid(hass: HomeAssistant, tmp_path: Path) -> None:
    """An automation using the blueprint validates and sets up, with and without options."""
    install_blueprint(hass, tmp_path)
    minimal = blueprint_instance("Alarm minimal")
    full = blueprint_instance(
        "Alarm full",
        alarm_types=["sos", "power_cut"],
        ignition_entity="binary_sensor.motorbike_ignition",
        notify_actions=[
            {
                "action": "notify.mobile_app_phone",
                "data": {"title": "{{ title }}", "message": "{{ message }}"},
            }
        ],
    )
    for config in (minimal, full):
        validated = await async_validate_config_item(hass, "automation", config)
        assert validated is not None
        assert validated.validation_status == "ok"
    assert await async_setup_component(hass, "automation", {"automation": [minimal, full]})
    await hass.async_block_till_done()
    assert automation_states(hass) == {"Alarm minimal": STATE_ON, "Alarm full": STATE_ON}


@pytest.mark.usefixtures("socket_enabled")
async def test_alarm_automations_fire(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A simulated tracker's vibration notifies only while parked; the blueprint tells every one."""
    port = free_port()
    await setup_listener(hass, port, trackers=[(TRACKER_ID, "Motorbike")])
    notify = async_mock_service(hass, "notify", "notify")
    phone = async_mock_service(hass, "notify", "phone")
    install_blueprint(hass, tmp_path)
    blueprint = blueprint_instance(
        "Motorbike alarms",
        alarm_types=["vibration", "power_cut"],
        notify_actions=[
            {"action": "notify.phone", "data": {"title": "{{ title }}", "message": "{{ message }}"}}
        ],
    )
    automations = [example("vibration_while_parked.yaml"), blueprint]
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()
    assert set(automation_states(hass).values()) == {STATE_ON}

    # What a busy machine adds to the log (asyncio debug mode): no concern of this test.
    logging.getLogger("asyncio").warning("Executing <Task pending> took 0.129 seconds")
    tracker = await FakeTracker(port).connect()
    try:
        # Vibration while riding: the blueprint (no ignition filter) tells, the example does not.
        await tracker.send(h02_position_frame(TRACKER_ID, status=IGNITION_ON_VIBRATION))
        await wait_for(lambda: len(phone) == 1, what="the blueprint's notification")
        assert hass.states.get("binary_sensor.motorbike_ignition").state == "on"
        assert phone[0].data["title"] == "Motorbike: Vibration"

        # Parked, then shaken: both notify, with a map link.
        await tracker.send(h02_position_frame(TRACKER_ID, status=PARKED))
        await wait_for_state(hass, "binary_sensor.motorbike_ignition", lambda s: s.state == "off")
        await tracker.send(h02_position_frame(TRACKER_ID, status=PARKED_VIBRATION))
        await wait_for(lambda: notify and len(phone) == 2, what="both notifications")
    finally:
        await tracker.close()

    assert len(notify) == 1
    call: ServiceCall = notify[0]
    assert call.data["title"] == "Motorbike: vibration"
    assert "Vibration at" in call.data["message"]
    assert call.data["message"].endswith(
        "while parked. https://www.openstreetmap.org/?mlat=50.58855&mlon=4.53035#map=17/50.58855/4.53035"
    )
    message = phone[1].data["message"]
    assert message.startswith("Vibration alarm from Motorbike at ")
    assert message.endswith(
        ". https://www.openstreetmap.org/?mlat=50.58855&mlon=4.53035#map=17/50.58855/4.53035"
    )
    assert "delivered late" not in message
    # Templates that render with a warning (an undefined variable, a bad filter), a failing
    # action, or the integration itself would show here.
    assert warnings_from(caplog.records, INTEGRATION_LOGGER, *AUTOMATION_LOGGERS) == []
