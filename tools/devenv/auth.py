"""Logging in the way Home Assistant's frontend does, and the tokens that come of it."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass

from .client import request, websocket
from .defaults import DEV_PASSWORD, DEV_USERNAME


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens from ``/auth/token``. The access token is valid for ``expires_in`` seconds."""

    access_token: str
    refresh_token: str | None
    expires_in: int


def client_id_for(base_url: str) -> str:
    """The IndieAuth client id Home Assistant's own frontend would use for ``base_url``."""
    parts = urllib.parse.urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


def redirect_uri_for(base_url: str) -> str:
    """Where the frontend of ``base_url`` is sent back to after a login."""
    return client_id_for(base_url) + "?auth_callback=1"


def exchange_code(base_url: str, code: str) -> Tokens:
    """The tokens for an authorization code (of a login flow, or of onboarding)."""
    result = request(
        "POST",
        base_url.rstrip("/") + "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id_for(base_url),
        },
    )
    return Tokens(result["access_token"], result.get("refresh_token"), int(result["expires_in"]))


def login(base_url: str, username: str = DEV_USERNAME, password: str = DEV_PASSWORD) -> Tokens:
    """Log in like the frontend does: login flow, then the authorization code for tokens."""
    client_id = client_id_for(base_url)
    flow = request(
        "POST",
        base_url.rstrip("/") + "/auth/login_flow",
        json_body={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": redirect_uri_for(base_url),
        },
    )
    result = request(
        "POST",
        base_url.rstrip("/") + f"/auth/login_flow/{flow['flow_id']}",
        json_body={"username": username, "password": password, "client_id": client_id},
    )
    if result.get("type") != "create_entry":
        raise RuntimeError(f"login failed: {result.get('errors') or result}")
    return exchange_code(base_url, result["result"])


def revoke(base_url: str, tokens: Tokens) -> None:
    """Revoke the refresh token of a ``login`` / ``onboard`` (the session ends)."""
    if tokens.refresh_token:
        request("POST", base_url.rstrip("/") + "/auth/revoke", form={"token": tokens.refresh_token})


def create_long_lived_token(
    base_url: str, access_token: str, *, client_name: str = "scripts", lifespan_days: int = 30
) -> str:
    """A long-lived access token (the websocket API; needs ``aiohttp``)."""
    (token,) = websocket(
        base_url,
        access_token,
        {
            "type": "auth/long_lived_access_token",
            "client_name": f"{client_name} {time.strftime('%Y%m%d-%H%M%S')}",
            "lifespan": lifespan_days,
        },
    )
    return str(token)
