"""Onboarding a fresh config folder: the owner and the steps after it, through the API.

Home Assistant's onboarding API (``/api/onboarding/*``) does the work: ``users`` creates the
owner (with credentials, person and areas) and hands out an authorization code, then the
``analytics`` and ``integration`` steps are finished as the frontend finishes them. One step is
marked done in ``.storage/onboarding`` before the first start instead (``mark_location_done``):
finishing the location step through the API sets up integrations that want the internet (met,
radio_browser, google_translate, shopping_list); configuration.yaml sets the location anyway.
"""

from __future__ import annotations

from pathlib import Path

from .auth import Tokens, client_id_for, exchange_code, redirect_uri_for
from .client import request
from .defaults import DEV_NAME, DEV_PASSWORD, DEV_USERNAME
from .readiness import wait_ready
from .storage import write_store

LOCATION_STEP = "core_config"


def mark_location_done(config_dir: Path) -> None:
    """Mark the location step done in a folder Home Assistant has not onboarded yet.

    Runs with the Home Assistant that will use the folder (its storage format); leaves an
    existing file alone. Home Assistant must not be running on the folder.
    """
    from homeassistant.components import onboarding

    path = Path(config_dir) / ".storage" / onboarding.STORAGE_KEY
    if not path.exists():
        data = {"done": [LOCATION_STEP]}
        write_store(path, onboarding.STORAGE_KEY, onboarding.STORAGE_VERSION, 1, data)


def onboard(
    base_url: str,
    *,
    name: str = DEV_NAME,
    username: str = DEV_USERNAME,
    password: str = DEV_PASSWORD,
    language: str = "en",
) -> Tokens | None:
    """Create the owner and finish onboarding, if the owner step is still open.

    Returns tokens for the new owner, or None if the folder had one already.
    """
    steps = wait_ready(base_url, timeout=5)
    if steps is None or any(s["step"] == "user" and s["done"] for s in steps):
        return None
    url = base_url.rstrip("/") + "/api/onboarding"
    result = request(
        "POST",
        f"{url}/users",
        json_body={
            "client_id": client_id_for(base_url),
            "name": name,
            "username": username,
            "password": password,
            "language": language,
        },
    )
    tokens = exchange_code(base_url, result["auth_code"])
    done = {s["step"] for s in steps if s["done"]}
    token = tokens.access_token
    if "analytics" not in done:  # analytics stay off: nothing is sent anywhere
        request("POST", f"{url}/analytics", token=token)
    if "integration" not in done:  # the frontend's last step; its authorization code is unused
        body = {"client_id": client_id_for(base_url), "redirect_uri": redirect_uri_for(base_url)}
        request("POST", f"{url}/integration", json_body=body, token=token)
    return tokens
