"""SMS (issue 21, items 2 and 3) through a notify service registered here that records its calls:
the exact texts and targets of each command, the engine cut's interlock by SMS, the fallback of
an offline tracker, the refusals (no/wrong service, no phone number, no SMS form, bad numbers),
and the password never in the log or the diagnostics."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import Context, HomeAssistant, ServiceCall, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er

from custom_components.sinotrack.const import DOMAIN, SUBENTRY_TYPE_TRACKER
from custom_components.sinotrack.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from custom_components.sinotrack.sms import (
    SMS_FORMS,
    SetupValues,
    answer_text,
    setup_sequence,
    valid_phone,
)

from .helpers import (
    FakeTracker,
    entity_id,
    free_port,
    h02_position_frame,
    listener_entry,
    logbook_lines,
    tracker_device,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"
PHONE = "+32470123456"
PASSWORD = "Zq42"  # not the default: found nowhere else in a log or a dump by chance


def record_notify(hass: HomeAssistant, name: str = "gateway") -> list[dict[str, Any]]:
    """A notify service that takes a ``target``, as the sms integration's does."""
    calls: list[dict[str, Any]] = []

    @callback
    def handle(call: ServiceCall) -> None:
        calls.append(dict(call.data))

    hass.services.async_register("notify", name, handle)
    return calls


async def setup(
    hass: HomeAssistant,
    *,
    service: str | None = "notify.gateway",
    fallback: bool = False,
    phone: str | None = PHONE,
) -> Any:
    port = free_port()
    entry = listener_entry(
        port,
        trackers=[(TID, "Car")],
        tracker_data={"phone_number": phone, "sms_password": PASSWORD, "sms_fallback": fallback},
        options={"sms_service": service} if service else {},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, port, tracker_device(hass, entry.entry_id, TID)


async def report_then_leave(hass: HomeAssistant, entry: Any, port: int, **kwargs: Any) -> None:
    """The tracker reports once (its speed is known) and its connection ends."""
    tracker = await FakeTracker(port).connect()
    await tracker.send(h02_position_frame(TID, **kwargs))
    await tracker.read_frame()
    await tracker.close()
    await wait_for(lambda: TID not in entry.runtime_data.hub.peers)


async def call(hass: HomeAssistant, service: str, data: dict[str, Any], **kw: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True, **kw
    )


async def test_every_command_by_sms_has_its_exact_text(hass: HomeAssistant) -> None:
    sent = record_notify(hass)
    entry, port, device = await setup(hass)
    await report_then_leave(hass, entry, port, status="FFFFFBFF")  # stopped, ignition off
    target = {"device_id": device.id, "via": "sms"}
    response = await call(hass, "release", target)
    assert response == {"trackers": [{"device_id": device.id, "queued": False, "via": "sms"}]}
    await call(hass, "immobilize", target)
    await call(hass, "set_interval", {**target, "seconds": 30})
    await call(hass, "set_overspeed", {**target, "kmh": 90})
    await call(hass, "request_position", target)
    assert sent == [
        {"message": f"941{PASSWORD}", "target": [PHONE]},
        {"message": f"940{PASSWORD}", "target": [PHONE]},
        {"message": f"805{PASSWORD} 30", "target": [PHONE]},
        {"message": f"122{PASSWORD} 90", "target": [PHONE]},
        {"message": f"669{PASSWORD}", "target": [PHONE]},
    ]
    assert entry.runtime_data.hub.commands.pending_for(TID) == []  # nothing queued for GPRS
    # Arm and disarm have no SMS form in the SinoTrack table.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "arm", target)
    assert err.value.translation_key == "sms_no_form"
    assert len(sent) == 5
    assert not SMS_FORMS["engine_stop"].verified  # the UI text says so too
    await hass.config_entries.async_unload(entry.entry_id)


async def test_sms_engine_cut_meets_the_interlock(
    hass: HomeAssistant, hass_admin_user: Any, hass_read_only_user: Any
) -> None:
    sent = record_notify(hass)
    entry, port, device = await setup(hass)
    target = {"device_id": device.id, "via": "sms"}
    with pytest.raises(ServiceValidationError) as err:  # no report yet: speed unknown
        await call(hass, "immobilize", target)
    assert err.value.translation_key == "interlock_no_report"
    await report_then_leave(hass, entry, port, speed_knots=60 / 1.852, status="FFFFFFFF")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "immobilize", target)
    assert err.value.translation_key == "interlock_speed"
    assert err.value.translation_placeholders == {"name": "Car", "speed": "60", "limit": "20"}
    with pytest.raises(Unauthorized):  # forcing is for administrators
        await call(
            hass,
            "immobilize",
            {**target, "force": True},
            context=Context(user_id=hass_read_only_user.id),
        )
    assert sent == []
    await call(
        hass, "immobilize", {**target, "force": True}, context=Context(user_id=hass_admin_user.id)
    )
    assert sent == [{"message": f"940{PASSWORD}", "target": [PHONE]}]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_offline_tracker_falls_back_to_sms(hass: HomeAssistant) -> None:
    sent = record_notify(hass)
    entry, port, device = await setup(hass, fallback=True)
    await report_then_leave(hass, entry, port)
    response = await call(hass, "release", {"device_id": device.id})
    assert response["trackers"][0] == {"device_id": device.id, "queued": False, "via": "sms"}
    assert sent == [{"message": f"941{PASSWORD}", "target": [PHONE]}]
    # Other commands are not immobilizer commands: they wait for the tracker as before.
    response = await call(hass, "request_position", {"device_id": device.id})
    assert response["trackers"][0]["queued"] is True
    assert len(sent) == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unanswered_gprs_restore_falls_back_to_sms(hass: HomeAssistant) -> None:
    sent = record_notify(hass)
    entry, port, device = await setup(hass, fallback=True)
    entry.runtime_data.hub.commands.ack_timeout = 0.2
    tracker = await FakeTracker(port).connect()
    try:
        await tracker.send(h02_position_frame(TID))
        await tracker.read_frame()
        await call(hass, "release", {"device_id": device.id})
        assert (await tracker.read_frame()).startswith(f"*HQ,{TID},S20,".encode())
    finally:
        await tracker.close()
    assert sent == [{"message": f"941{PASSWORD}", "target": [PHONE]}]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("service", "phone", "key"),
    [
        (None, PHONE, "sms_no_service"),
        ("notify.nope", PHONE, "sms_unknown_service"),
        ("notify.gateway", None, "sms_no_phone"),
    ],
)
async def test_sms_refused_without_service_or_number(
    hass: HomeAssistant, service: str | None, phone: str | None, key: str
) -> None:
    sent = record_notify(hass)
    entry, _, device = await setup(hass, service=service, phone=phone)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "release", {"device_id": device.id, "via": "sms"})
    assert err.value.translation_key == key
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_sms", {"device_id": device.id, "message": "RCONF"})
    assert err.value.translation_key == key
    assert sent == []
    await hass.config_entries.async_unload(entry.entry_id)


async def test_send_sms_is_for_administrators(
    hass: HomeAssistant, hass_admin_user: Any, hass_read_only_user: Any
) -> None:
    sent = record_notify(hass)
    entry, _, device = await setup(hass)
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "send_sms",
            {"device_id": device.id, "message": "RCONF"},
            context=Context(user_id=hass_read_only_user.id),
        )
    response = await call(
        hass,
        "send_sms",
        {"device_id": device.id, "message": "RCONF"},
        context=Context(user_id=hass_admin_user.id),
    )
    assert response == {"trackers": [{"device_id": device.id, "via": "sms"}]}
    assert sent == [{"message": "RCONF", "target": [PHONE]}]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_password_never_in_the_log_or_diagnostics(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.sinotrack")
    record_notify(hass)
    entry, port, device = await setup(hass)
    await report_then_leave(hass, entry, port)
    await call(hass, "release", {"device_id": device.id, "via": "sms"})
    await call(hass, "set_overspeed", {"device_id": device.id, "kmh": 80, "via": "sms"})
    dumps = json.dumps(
        [
            await async_get_config_entry_diagnostics(hass, entry),
            await async_get_device_diagnostics(hass, entry, device),
        ],
        default=str,
    )
    assert PASSWORD not in dumps
    assert PHONE.removeprefix("+") not in dumps
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("custom_components.sinotrack")
    )
    assert "by SMS" in logged  # the debug records were captured
    assert PASSWORD not in logged
    assert PASSWORD not in repr(entry.runtime_data.hub.trackers[TID])
    await hass.config_entries.async_unload(entry.entry_id)


def test_phone_numbers_are_e164() -> None:
    assert valid_phone("+32470123456")
    for bad in ("0470123456", "+0470123456", "+3247012345678901", "+32 470", "+32abc45678", ""):
        assert not valid_phone(bad), bad


def test_setup_sequence_with_an_apn_without_login() -> None:
    """No APN user: the short 803 form, and no user or password words at all."""
    values = SetupValues(apn="internet.be", apn_password="ignored", interval=20)
    assert setup_sequence(PASSWORD, values, "gps.example.org", 5013) == [
        ("apn", f"803{PASSWORD} internet.be"),
        ("server", f"804{PASSWORD} gps.example.org 5013"),
        ("gprs", f"710{PASSWORD}"),
        ("interval", f"805{PASSWORD} 20"),
        ("parked_interval", f"809{PASSWORD} 300"),
        ("utc", f"896{PASSWORD}E00"),
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("  SET\r\nAPN   OK ", "SET APN OK"),
        ("x" * 200, "x" * 160),
        ("\x07\x1b[2J", None),  # control characters: never into the logbook
        ("   ", None),
        (None, None),  # an event without a text, or with a foreign type
        (42, None),
        ([b"SET APN OK"], None),
    ],
)
def test_answer_text_is_printable_bounded_text_only(text: object, shown: str | None) -> None:
    assert answer_text(text) == shown


async def test_tracker_flow_refuses_a_bad_phone_number(hass: HomeAssistant) -> None:
    entry = listener_entry(free_port())
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    user = {"tracker_id": TID, "phone_number": "0470 12 34 56", "sms_password": "0000"}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], user)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"phone_number": "invalid_phone"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**user, "phone_number": "+32 470 12 34 56", "sms_fallback": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (sub,) = entry.subentries.values()
    assert sub.data["phone_number"] == PHONE
    assert sub.data["sms_password"] == "0000"
    assert sub.data["sms_fallback"] is True


async def test_options_choose_the_sms_service_among_the_notify_services(
    hass: HomeAssistant,
) -> None:
    record_notify(hass)
    entry, _, _ = await setup(hass, service=None)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    (key,) = [k for k in schema if k == "sms_service"]
    assert schema[key].config["options"] == ["notify.gateway"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "new_trackers": "ask",
            "offline_after": 10,
            "max_connections": 500,
            "sms_service": "notify.gateway",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.hub.sms_service == "notify.gateway"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_configure_by_sms_sends_the_exact_sequence(hass: HomeAssistant) -> None:
    sent = record_notify(hass)
    book = logbook_lines(hass)
    port = free_port()
    entry = listener_entry(
        port,
        trackers=[(TID, "Car")],
        tracker_data={"phone_number": PHONE, "sms_password": PASSWORD},
        options={"sms_service": "notify.gateway", "public_host": "gps.example.org"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    hub = entry.runtime_data.hub
    device = tracker_device(hass, entry.entry_id, TID)
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def pause(seconds: float) -> None:  # the pause between two SMS, injected
        pauses.append(seconds)
        await real_sleep(0)

    with patch("custom_components.sinotrack.hub.asyncio.sleep", pause):
        response = await call(
            hass,
            "configure_by_sms",
            {"device_id": device.id, "apn": "internet.be", "apn_user": "web", "apn_password": "pw"},
        )
    steps = ["apn", "server", "gprs", "interval", "parked_interval", "utc"]
    assert response == {"trackers": [{"device_id": device.id, "via": "sms", "steps": steps}]}
    assert [c["message"] for c in sent] == [
        f"803{PASSWORD} internet.be web pw",
        f"804{PASSWORD} gps.example.org {port}",
        f"710{PASSWORD}",
        f"805{PASSWORD} 30",
        f"809{PASSWORD} 300",
        f"896{PASSWORD}E00",
    ]
    assert all(c["target"] == [PHONE] for c in sent)
    assert pauses == [hub.sms_pause] * 5
    assert hub.sms_pause <= 10
    assert book[:2] == ["SMS set-up 1 of 6 sent: apn", "SMS set-up 2 of 6 sent: server"]
    # The tracker answers from its number (the sms integration's event): logbook, confirmed.
    hass.bus.async_fire("sms.incoming_sms", {"phone": PHONE, "text": "SET APN OK"})
    hass.bus.async_fire("sms.incoming_sms", {"phone": "+32470999999", "text": "spam"})
    await hass.async_block_till_done()
    assert book[-2:] == ["SMS answer: SET APN OK", "SMS set-up step confirmed: apn"]

    # The button sends the same values again.
    sent.clear()
    hub.sms_pause = 0
    button = entity_id(hass, "button", f"{TID}_configure_by_sms")
    er.async_get(hass).async_update_entity(button, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    entry.runtime_data.hub.sms_pause = 0
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert [c["message"] for c in sent][:2] == [
        f"803{PASSWORD} internet.be web pw",
        f"804{PASSWORD} gps.example.org {port}",
    ]
    assert len(sent) == 6
    # An APN an SMS cannot carry.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "configure_by_sms", {"device_id": device.id, "apn": "my apn"})
    assert err.value.translation_key == "sms_bad_setup"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_configure_by_sms_needs_a_public_host_and_a_first_call(hass: HomeAssistant) -> None:
    sent = record_notify(hass)
    entry, _, device = await setup(hass)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "configure_by_sms", {"device_id": device.id, "apn": "internet"})
    assert err.value.translation_key == "sms_no_public_host"
    with pytest.raises(ServiceValidationError) as err:
        await entry.runtime_data.hub.configure_by_sms(TID)
    assert err.value.translation_key == "sms_no_setup"
    assert sent == []
    await hass.config_entries.async_unload(entry.entry_id)
