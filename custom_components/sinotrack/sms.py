"""SMS to a tracker through a Home Assistant notify service that takes a phone ``target``
(the ``sms`` integration's GSM modem, Twilio …): the SinoTrack SMS forms, in one table, and
their sending. The text carries the tracker's SMS password: it is never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
from .protocol import Command, CommandKind

if TYPE_CHECKING:
    from .tracker import TrackerState

NOTIFY: Final = "notify"
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True, slots=True)
class SmsForm:
    """One SMS the SinoTrack family understands (h02.md §8); ``{pw}`` is the password."""

    template: str
    verified: bool = True  # False: one source only, never seen working


# The SinoTrack SMS forms (h02.md §8), the one table of them.
SMS_FORMS: Final[dict[str, SmsForm]] = {
    "engine_stop": SmsForm("940{pw}", verified=False),
    "engine_resume": SmsForm("941{pw}", verified=False),
    "interval": SmsForm("805{pw} {seconds}"),  # with ACC on
    "parked_interval": SmsForm("809{pw} {seconds}"),  # with ACC off
    "overspeed": SmsForm("122{pw} {kmh}"),  # 0 = off
    "location": SmsForm("669{pw}"),  # the tracker answers with its position by SMS
    "apn": SmsForm("803{pw} {apn}"),
    "apn_login": SmsForm("803{pw} {apn} {user} {apn_password}"),
    "server": SmsForm("804{pw} {host} {port}"),
    "gprs": SmsForm("710{pw}"),
    "utc": SmsForm("896{pw}E00"),
}

# Which form a command takes by SMS (a command missing here has none: arm/disarm, raw …).
COMMAND_FORMS: Final[dict[CommandKind, str]] = {
    CommandKind.ENGINE_STOP: "engine_stop",
    CommandKind.ENGINE_RESUME: "engine_resume",
    CommandKind.SET_INTERVAL: "interval",
    CommandKind.SET_OVERSPEED: "overspeed",
    CommandKind.REQUEST_POSITION: "location",
}


def valid_phone(number: str) -> bool:
    """An E.164 number: ``+``, country code, 7 to 15 digits in all."""
    return _E164.fullmatch(number) is not None


def sms_text(form: str, password: str, **values: object) -> str:
    return SMS_FORMS[form].template.format(pw=password, **values)


def command_text(tracker: TrackerState, command: Command) -> str:
    """The SMS of a command, or a translated error when it has none."""
    form = COMMAND_FORMS.get(command.kind)
    if form is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sms_no_form",
            translation_placeholders={"name": tracker.name, "command": command.kind.value},
        )
    return sms_text(form, tracker.sms_password, seconds=command.interval_s, kmh=command.speed_kmh)


def notify_service(hass: HomeAssistant, service: str | None) -> str:
    """The notify service's name (``notify.sms`` or ``sms``), checked to exist."""
    name = (service or "").removeprefix(f"{NOTIFY}.")
    if not name:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="sms_no_service")
    if not hass.services.has_service(NOTIFY, name):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sms_unknown_service",
            translation_placeholders={"service": f"{NOTIFY}.{name}"},
        )
    return name


async def async_send(
    hass: HomeAssistant, service: str | None, tracker: TrackerState, text: str
) -> None:
    """Send ``text`` to the tracker's phone number through the notify service."""
    name = notify_service(hass, service)
    phone = tracker.phone_number
    if not phone or not valid_phone(phone):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sms_no_phone",
            translation_placeholders={"name": tracker.name},
        )
    await hass.services.async_call(
        NOTIFY, name, {"message": text, "target": [phone]}, blocking=True
    )


# --- set-up by SMS (803 APN, 804 server, 710 GPRS on, 805/809 intervals, 896 UTC) ------------

SETUP_PAUSE_S: Final = 10.0  # between two set-up SMS: at most this, never waiting for answers
EVENT_INCOMING_SMS: Final = "sms.incoming_sms"  # the sms integration's: phone, text
MAX_ANSWER_LENGTH: Final = 160
DEFAULT_INTERVAL_S: Final = 30  # configure_by_sms: reporting with ACC on (805) …
DEFAULT_PARKED_INTERVAL_S: Final = 300  # … and parked (809)


@dataclass(frozen=True, slots=True)
class SetupValues:
    """What ``configure_by_sms`` was called with (the button sends them again)."""

    apn: str
    apn_user: str = ""
    apn_password: str = ""
    interval: int = DEFAULT_INTERVAL_S
    parked_interval: int = DEFAULT_PARKED_INTERVAL_S


def _sms_word(value: str) -> bool:
    """A space is the SMS's separator (h02.md §8): one printable ASCII word, bounded."""
    return 0 < len(value) <= 64 and value.isascii() and value.isprintable() and " " not in value


def setup_sequence(
    password: str, values: SetupValues, host: str, port: int
) -> list[tuple[str, str]]:
    """(step, SMS) of the set-up, in order; a translated error for an APN an SMS cannot carry."""
    words = [values.apn, *([values.apn_user, values.apn_password] if values.apn_user else [])]
    if not all(_sms_word(w) for w in (*words, host)):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="sms_bad_setup")
    if values.apn_user:
        apn = sms_text(
            "apn_login",
            password,
            apn=values.apn,
            user=values.apn_user,
            apn_password=values.apn_password,
        )
    else:
        apn = sms_text("apn", password, apn=values.apn)
    return [
        ("apn", apn),
        ("server", sms_text("server", password, host=host, port=port)),
        ("gprs", sms_text("gprs", password)),
        ("interval", sms_text("interval", password, seconds=values.interval)),
        ("parked_interval", sms_text("parked_interval", password, seconds=values.parked_interval)),
        ("utc", sms_text("utc", password)),
    ]


def answer_text(text: object) -> str | None:
    """An incoming SMS's text as the logbook may show it: printable, bounded; else None."""
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.split())[:MAX_ANSWER_LENGTH]
    return cleaned if cleaned and cleaned.isprintable() else None
