"""Fixtures for the Home Assistant tests (tests/protocol needs none of them).

The shapes follow Home Assistant core's tests: a ``listener_entry`` (a configured, not yet set-up
MockConfigEntry on a free port, with the ``trackers`` a test asks for), ``init_integration`` (that
entry set up, only the ``platforms`` a module asks for), ``fake_tracker`` (real TCP connections
to the bound port, closed at teardown) and, for snapshots, ``tracker_reported`` (the Bike after
a realistic report at a ``frozen_time``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from unittest.mock import PropertyMock, patch

import freezegun.api
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from .helpers import FakeTracker, free_port, h02_position_frame
from .helpers import listener_entry as make_listener_entry
from .portable_snapshot import PortableSnapshotExtension

TRACKER_ID = "4106011660"
TRACKER_NAME = "Bike"
# A fixed entry ID (and so fixed subentry IDs): what a snapshot shows must not change between runs.
ENTRY_ID = "01JSINOTRACKLISTENERENTRY0"
FROZEN_NOW = "2026-11-23 12:00:00+00:00"
# What a SinoTrack sends before its first fix: its model and firmware (the answer to CXZT),
# then how it is (LINK: signal 20, 8 satellites, battery 75 %); neither gets a reply.
FIRST_WORDS = (
    f"*HQ,{TRACKER_ID},SMS,ST906(70SACD)_TQ_V_2.0 2024/06/07\nID:{TRACKER_ID}#"
    f"*HQ,{TRACKER_ID},LINK,120000,20,8,75,0,0,231126,FFFFFFFF#"
)


@pytest.fixture(autouse=True)
def _load_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant tests load custom_components/sinotrack; protocol tests stay HA-free."""
    if "hass" in request.fixturenames:
        if "recorder_mock" in request.fixturenames:
            request.getfixturevalue("recorder_mock")  # the recorder's database before hass
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Syrupy with Home Assistant's serializer (registry entries, states; IDs and times as ANY),
    into tests/snapshots/ as in core, one snapshot for both versions (``portable_snapshot``).
    The plugin's own override of this fixture loses to syrupy's, so conftest sets it."""
    return snapshot.use_extension(PortableSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Every entity enabled, the ones off by default too (Home Assistant core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def platforms() -> list[Platform] | None:
    """The platforms ``init_integration`` sets up; None: all of them. A platform's test module
    overrides this with its own platform (``snapshot_platform`` wants one at a time)."""
    return None


@pytest.fixture
def trackers(request: pytest.FixtureRequest) -> list[tuple[str, str]]:
    """The trackers ``listener_entry`` is configured with, ``(tracker_id, name)``: the Bike, or
    what a test gives with ``@pytest.mark.parametrize("trackers", [[…]], indirect=True)``."""
    return list(getattr(request, "param", [(TRACKER_ID, TRACKER_NAME)]))


@pytest.fixture
def listener_entry(socket_enabled: None, trackers: list[tuple[str, str]]) -> MockConfigEntry:
    """A listener entry on a free port with ``trackers`` (the Bike), not added to hass yet."""
    return make_listener_entry(free_port(), trackers=trackers, entry_id=ENTRY_ID)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    socket_enabled: None,
    listener_entry: MockConfigEntry,
    platforms: list[Platform] | None,
) -> AsyncIterator[MockConfigEntry]:
    """``listener_entry`` set up (its port bound); unloaded at teardown."""
    import custom_components.sinotrack as integration

    # PLATFORMS lives where async_setup_entry does (its module, not the package, may move).
    setup_module = sys.modules[integration.async_setup_entry.__module__]
    listener_entry.add_to_hass(hass)
    with patch.object(setup_module, "PLATFORMS", platforms or setup_module.PLATFORMS):
        assert await hass.config_entries.async_setup(listener_entry.entry_id)
        await hass.async_block_till_done()
        assert listener_entry.state is ConfigEntryState.LOADED
        yield listener_entry
        if listener_entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(listener_entry.entry_id)


type TrackerFactory = Callable[..., Awaitable[FakeTracker]]


@pytest.fixture
async def fake_tracker(
    socket_enabled: None, listener_entry: MockConfigEntry
) -> AsyncIterator[TrackerFactory]:
    """Connect a tracker over real TCP: ``await fake_tracker()`` to ``listener_entry``'s port,
    ``await fake_tracker(port)`` to another. Every connection is closed at teardown."""
    connected: list[FakeTracker] = []

    async def connect(port: int | None = None) -> FakeTracker:
        tracker = await FakeTracker(port or int(listener_entry.data["port"])).connect()
        connected.append(tracker)
        return tracker

    yield connect
    for tracker in connected:
        await tracker.close()


@pytest.fixture
async def bike(
    init_integration: MockConfigEntry, fake_tracker: TrackerFactory
) -> tuple[MockConfigEntry, FakeTracker]:
    """The running integration and the Bike connected to it (not reported yet)."""
    return init_integration, await fake_tracker()


@pytest.fixture
def frozen_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> FrozenDateTimeFactory:
    """Home Assistant's clock stopped at ``FROZEN_NOW``; the event loop's clock runs on, so a
    timeout still fails a test instead of hanging it (with freezegun's ``real_asyncio`` the
    test loop's clock stood still here too)."""
    freezer.move_to(FROZEN_NOW)
    # Through freezegun.api: freezegun replaces the real function under every other name.
    monkeypatch.setattr(hass.loop, "time", freezegun.api.real_monotonic)
    return freezer


@pytest.fixture
def move_time(
    hass: HomeAssistant, frozen_time: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> Callable[[timedelta], None]:
    """``move_time(delta)``: Home Assistant's clock and the event loop's move on together, and
    the timers that came due run (``async_fire_time_changed``). The loop's clock is the real one
    plus every move, so a timeout still fails a test instead of hanging it."""
    moved = [0.0]
    monkeypatch.setattr(hass.loop, "time", lambda: freezegun.api.real_monotonic() + moved[0])

    def move(delta: timedelta) -> None:
        frozen_time.tick(delta)
        moved[0] += delta.total_seconds()
        async_fire_time_changed(hass)

    return move


@pytest.fixture
async def tracker_reported(
    hass: HomeAssistant,
    frozen_time: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    fake_tracker: TrackerFactory,
) -> FakeTracker:
    """The Bike's first report at a frozen time: ``FIRST_WORDS``, then a fix (ignition on,
    50 km/h, heading east). Returns its connection once the fix is acknowledged."""
    tracker = await fake_tracker()
    await tracker.send(FIRST_WORDS)
    await tracker.send(
        h02_position_frame(TRACKER_ID, speed_knots=27.0, course=90, status="FFFFFFFF")
    )
    assert (await tracker.read_frame()).startswith(f"*HQ,{TRACKER_ID},V4,V1,".encode())
    await hass.async_block_till_done()
    return tracker
