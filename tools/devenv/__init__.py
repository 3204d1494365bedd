"""A real Home Assistant with this integration, for development, end-to-end tests and pictures.

``scripts/develop`` runs it in the foreground on ``config/``; the end-to-end test, the soak test
and the screenshots run one beside it on a temporary folder with their own ports::

    from tools import devenv

    python = devenv.ensure_venv()                    # the develop venv (created on first use)
    devenv.seed_config(tmp, http_port=18123, python=python)
    ha = devenv.Instance(tmp, str(python), http_port=18123)
    try:
        ha.start()                                   # creates the owner dev/dev on a fresh folder
        devenv.add_listener(ha.url, ha.token, port=18888)   # the config flow, as in the UI
        assert devenv.port_status(18888) == (True, True)
        token = devenv.create_long_lived_token(ha.url, ha.token)
        ha.states("device_tracker.")
    finally:
        ha.stop()
    assert not devenv.check_log(tmp)

Home Assistant is driven through its APIs wherever it has one: the owner and onboarding through
``/api/onboarding/*`` (``onboarding``), the listener entry and its options through the config
flow REST API (``entries``), the HTTP port of 2026.x through its websocket commands
(``http_port``). Before the first start only what Home Assistant reads before it can be asked
anything is written (``config_dir``): configuration.yaml, the symlink to the integration, the
HTTP port as YAML, and the location step of onboarding marked done (finishing it through the
API sets up integrations that want the internet).

The modules, by job: ``defaults``, ``venv`` (the develop environment), ``config_dir``,
``storage``, ``http_port``, ``process`` (``hass``, ports), ``client`` (REST, websocket),
``auth``, ``readiness``, ``onboarding``, ``entries``, ``instance`` (``bring_up``, ``Instance``),
``banner`` (``scripts/develop``'s), ``logcheck``, ``requirements`` (pinning), ``cli``.
Everything but ``seed_config`` (which runs in the Home Assistant venv given as ``python``),
``requirements`` and the websocket calls (aiohttp) needs only the standard library.
"""

from __future__ import annotations

from .auth import Tokens, client_id_for, create_long_lived_token, login, revoke
from .client import HttpError, WebSocketError, api, websocket
from .config_dir import link_integration, listener_ports, seed_config
from .defaults import (
    DEFAULT_HTTP_PORT,
    DEFAULT_LISTENER_PORT,
    DEFAULT_OPTIONS,
    DEV_PASSWORD,
    DEV_USERNAME,
    DOMAIN,
)
from .entries import FlowError, add_listener, listener_entries
from .http_port import confirm_http_port
from .instance import Instance, bring_up
from .logcheck import check_log, is_validation_error, validation_messages
from .onboarding import onboard
from .process import free_port, port_status, start_hass, stop_hass, until
from .readiness import wait_ready, wait_running
from .venv import develop_python, ensure_venv

__all__ = [
    "DEFAULT_HTTP_PORT",
    "DEFAULT_LISTENER_PORT",
    "DEFAULT_OPTIONS",
    "DEV_PASSWORD",
    "DEV_USERNAME",
    "DOMAIN",
    "FlowError",
    "HttpError",
    "Instance",
    "Tokens",
    "WebSocketError",
    "add_listener",
    "api",
    "bring_up",
    "check_log",
    "client_id_for",
    "confirm_http_port",
    "create_long_lived_token",
    "develop_python",
    "ensure_venv",
    "free_port",
    "is_validation_error",
    "link_integration",
    "listener_entries",
    "listener_ports",
    "login",
    "onboard",
    "port_status",
    "revoke",
    "seed_config",
    "start_hass",
    "stop_hass",
    "until",
    "validation_messages",
    "wait_ready",
    "wait_running",
    "websocket",
]
