"""SinoTrack GPS trackers reporting straight to Home Assistant (H02, JT/T 808; TCP and UDP).

The entry points live in ``integration.py``. They are imported only where Home Assistant is
installed, so the sans-I/O codecs (``protocol/``) and their decode CLI
(``python -m custom_components.sinotrack.protocol decode``) work in a plain Python too.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("homeassistant") is not None:
    from .integration import (
        CONFIG_SCHEMA,
        PLATFORMS,
        SinoTrackConfigEntry,
        SinoTrackRuntime,
        async_remove_config_entry_device,
        async_remove_entry,
        async_setup,
        async_setup_entry,
        async_unload_entry,
    )

    __all__ = [
        "CONFIG_SCHEMA",
        "PLATFORMS",
        "SinoTrackConfigEntry",
        "SinoTrackRuntime",
        "async_remove_config_entry_device",
        "async_remove_entry",
        "async_setup",
        "async_setup_entry",
        "async_unload_entry",
    ]
