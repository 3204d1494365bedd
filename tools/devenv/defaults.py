"""What a development Home Assistant gets unless told otherwise: ports, the owner, the listener."""

from __future__ import annotations

from typing import Any, Final

from tools import REPO

DOMAIN: Final = "sinotrack"
INTEGRATION_DIR: Final = REPO / "custom_components" / DOMAIN
CONFIG_TEMPLATE: Final = REPO / "config" / "configuration.yaml"

DEFAULT_HTTP_PORT: Final = 8123
DEFAULT_LISTENER_PORT: Final = 8888
DEV_NAME: Final = "Developer"
DEV_USERNAME: Final = "dev"
DEV_PASSWORD: Final = "dev"  # the documented local development login
DEFAULT_OPTIONS: Final[dict[str, Any]] = {"new_trackers": "add"}  # new trackers added at once
