"""Fixtures for the Home Assistant tests (tests/protocol needs none of them)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _load_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant tests load custom_components/sinotrack; protocol tests stay HA-free."""
    if "hass" in request.fixturenames:
        if "recorder_mock" in request.fixturenames:
            request.getfixturevalue("recorder_mock")  # the recorder's database before hass
        request.getfixturevalue("enable_custom_integrations")
