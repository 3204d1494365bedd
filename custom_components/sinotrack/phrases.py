"""The sentences Python writes for the user, in the user's language.

Logbook lines, the entry title, a new tracker's default name and the command labels inside them
come from the integration's translations like every other string: sentences with placeholders from
the ``exceptions`` category (the one hassfest accepts for messages with placeholders; the logbook
has no category of its own), the command labels from ``selector.command`` (a list of options).
Home Assistant loads them with the integration and again when the language changes; English
fills any key a language lacks.
"""

from __future__ import annotations

from contextlib import suppress

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)

from .const import DOMAIN

_PREFIX = f"component.{DOMAIN}."


async def async_load_phrases(hass: HomeAssistant) -> None:
    """Make sure the phrases of the configured language are cached (a flow can run before the
    integration is set up)."""
    for category in ("exceptions", "selector"):
        await async_get_translations(hass, hass.config.language, category, {DOMAIN})


@callback
def phrase(hass: HomeAssistant, key: str, **placeholders: object) -> str:
    """The sentence ``exceptions.<key>`` with its placeholders filled in."""
    return _render(hass, "exceptions", f"exceptions.{key}.message", key, placeholders)


@callback
def command_label(hass: HomeAssistant, kind: str) -> str:
    """The name of a command kind ("engine cut") as it appears inside sentences."""
    return _render(hass, "selector", f"selector.command.options.{kind}", kind, {})


def _render(
    hass: HomeAssistant,
    category: str,
    key: str,
    fallback: str,
    placeholders: dict[str, object],
) -> str:
    cached = async_get_cached_translations(hass, hass.config.language, category, DOMAIN)
    template = cached.get(_PREFIX + key)
    if template is None:
        # Not loaded (cannot happen once set up): the key, as Home Assistant's own exception
        # messages do, rather than an English string kept a second time in the code.
        return fallback
    with suppress(KeyError, IndexError, ValueError):
        return template.format(**placeholders)
    return template
