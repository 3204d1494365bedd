"""Home Assistant really stopped and started again on the same storage (not an entry reload).

``restarted(hass, entry)`` stops ``hass`` the way Home Assistant stops (``async_stop``: the stop
event, where the integration closes its port, then the final write, where every Store's delayed
save is written), then starts a second Home Assistant on the same config directory and the same
``hass_storage`` (pytest-homeassistant-custom-component's ``async_test_home_assistant``, both
versions), adds the same listener entry (same entry and subentry IDs, as ``core.config_entries``
would hold it) and sets it up. The second instance is stopped when the block ends; the first one
stays stopped (the ``hass`` fixture's teardown copes with a stopped instance).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame, restore_state
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)


def _same_entry(entry: MockConfigEntry) -> MockConfigEntry:
    """The entry as the next start reads it back: same IDs, data, options and subentries."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        entry_id=entry.entry_id,
        data=dict(entry.data),
        options=dict(entry.options),
        subentries_data=[
            {
                "data": dict(sub.data),
                "subentry_id": sub.subentry_id,
                "subentry_type": sub.subentry_type,
                "title": sub.title,
                "unique_id": sub.unique_id,
            }
            for sub in entry.subentries.values()
        ],
    )


async def stop(hass: HomeAssistant) -> None:
    """Stop ``hass`` as Home Assistant stops, states saved for ``RestoreEntity``.

    The test harness patches out the restore-state listener that writes the states at the final
    write; this is what it would do.
    """
    await restore_state.async_get(hass).async_dump_states()
    await hass.async_stop()


@asynccontextmanager
async def restarted(
    hass: HomeAssistant, entry: MockConfigEntry
) -> AsyncIterator[tuple[HomeAssistant, MockConfigEntry]]:
    """``hass`` stopped; a new Home Assistant on the same storage, with ``entry`` set up
    there (the new instance and its entry)."""
    await stop(hass)
    kwargs: dict[str, str] = {}
    if "config_dir" in inspect.signature(async_test_home_assistant).parameters:
        kwargs["config_dir"] = hass.config.config_dir
    async with async_test_home_assistant(**kwargs) as new:
        new.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # enable_custom_integrations
        if hasattr(frame, "async_setup"):
            frame.async_setup(new)
        again = _same_entry(entry)
        again.add_to_hass(new)
        assert await new.config_entries.async_setup(again.entry_id)
        await new.async_block_till_done()
        try:
            yield new, again
        finally:
            if again.state is ConfigEntryState.LOADED:
                assert await new.config_entries.async_unload(again.entry_id)
            await new.async_stop(force=True)
