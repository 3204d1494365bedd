"""Config flow: user step (and its recovery from each error), port checks, reconfigure,
options, tracker subentries, discovery."""

from __future__ import annotations

import errno
import socket
from unittest.mock import patch

import pytest
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.sinotrack.config_flow import probe_port
from custom_components.sinotrack.const import DOMAIN, SUBENTRY_TYPE_TRACKER

from .helpers import HOST, FakeTracker, free_port, h02_position_frame, setup_listener, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

# The relay options as the options form leaves them when nobody touches them: no relay.
RELAY_OFF = {"relay_host": "", "relay_port": 5013, "relay_commands": False}


async def test_user_creates_listener_and_binds(hass: HomeAssistant) -> None:
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"port": port, "tcp": True, "udp": True}
    assert result["options"] == {"new_trackers": "ask", "offline_after": 10, "max_connections": 500}
    assert result["result"].unique_id == str(port)
    await hass.async_block_till_done()
    # The listener is up: a TCP client connects.
    with socket.create_connection((HOST, port), timeout=2):
        pass
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_port_in_use_shows_error(hass: HomeAssistant) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("", port))
        busy.listen()
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": port, "tcp": True, "udp": False}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "port_in_use"}


async def test_user_udp_port_in_use(hass: HomeAssistant) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("", port))
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": port, "tcp": False, "udp": True}
        )
    assert result["errors"] == {"base": "port_in_use"}


def test_probe_port_other_errors() -> None:
    with patch("socket.socket.bind", side_effect=OSError(errno.EACCES, "denied")):
        assert probe_port(80, True, True) == "cannot_bind"


async def test_user_needs_a_protocol(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": free_port(), "tcp": False, "udp": False}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_protocol"}


async def test_second_entry_on_same_port_is_a_port_error(hass: HomeAssistant) -> None:
    """A port another hub uses: the form stays open with the error on the port field."""
    port = free_port()
    entry = await setup_listener(hass, port)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"port": "port_configured"}
    # The user corrects the port in the same dialog.
    other_port = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": other_port, "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == str(other_port)
    await hass.async_block_till_done()
    for e in (entry, result["result"]):
        await hass.config_entries.async_unload(e.entry_id)


async def test_reconfigure_rebinds(hass: HomeAssistant) -> None:
    old_port, new_port = free_port(), free_port()
    entry = await setup_listener(hass, old_port)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    # Same port, only UDP switched off: no probe of our own bound port.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": old_port, "tcp": True, "udp": False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["udp"] is False

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": new_port, "tcp": True, "udp": True}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.unique_id == str(new_port)
    assert entry.runtime_data.server.port == new_port
    with socket.create_connection((HOST, new_port), timeout=2):
        pass
    # The old port is free again.
    assert probe_port(old_port, True, True) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_errors(hass: HomeAssistant) -> None:
    port = free_port()
    entry = await setup_listener(hass, port)
    other = await setup_listener(hass, free_port())
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": False, "udp": False}
    )
    assert result["errors"] == {"base": "no_protocol"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": other.data["port"], "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"port": "port_configured"}
    for e in (entry, other):
        await hass.config_entries.async_unload(e.entry_id)


async def test_options_apply_live(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port())
    server = entry.runtime_data.server
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"new_trackers": "add", "offline_after": 3, "max_connections": 7}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        "new_trackers": "add",
        "offline_after": 3,
        "max_connections": 7,
        **RELAY_OFF,
    }
    # Same listener object: applied without rebinding.
    assert entry.runtime_data.server is server
    assert server.max_connections == 7
    assert entry.runtime_data.hub.policy == "add"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_subentry_flow_adds_tracker(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port())
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": "12ab", "name": "Bike"}
    )
    assert result["errors"] == {"tracker_id": "invalid_tracker_id"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": " 4106011660 ", "name": "Bike"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (sub,) = entry.subentries.values()
    assert sub.unique_id == "4106011660"
    assert sub.title == "Bike"
    assert "4106011660" in entry.runtime_data.hub.trackers

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": "4106011660"}
    )
    assert result["type"] is FlowResultType.FORM  # the ID can be corrected in the same form
    assert result["errors"] == {"tracker_id": "already_configured"}

    # No name: the default one.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": "123456789012345"}
    )
    assert result["title"] == "SinoTrack A 2345"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_discovery_confirm_adds_tracker(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port())
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "4106011660", "entry_id": entry.entry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm_tracker"
    assert result["description_placeholders"] == {"tracker_id": "4106011660"}
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flows[0]["context"]["title_placeholders"] == {"tracker_id": "4106011660"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": " "})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "tracker_added"
    await hass.async_block_till_done()
    (sub,) = entry.subentries.values()
    assert (sub.unique_id, sub.title) == ("4106011660", "SinoTrack A 1660")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_discovery_aborts(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port(), trackers=[("555", "Car")])
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "x1", "entry_id": entry.entry_id},
    )
    assert result["reason"] == "invalid_tracker_id"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "555", "entry_id": entry.entry_id},
    )
    assert result["reason"] == "already_configured"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "777", "entry_id": "gone"},
    )
    assert result["reason"] == "listener_removed"

    # A discovery left open while the tracker is added by hand is aborted, not left dangling.
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "888", "entry_id": entry.entry_id},
    )
    assert result["type"] is FlowResultType.FORM
    sub = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    await hass.config_entries.subentries.async_configure(sub["flow_id"], {"tracker_id": "888"})
    await hass.async_block_till_done()
    await wait_for(lambda: not hass.config_entries.flow.async_progress_by_handler(DOMAIN))
    await hass.config_entries.async_unload(entry.entry_id)


async def test_confirm_after_tracker_added_elsewhere(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port())
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "999", "entry_id": entry.entry_id},
    )
    flow_id = result["flow_id"]
    # Add it behind the flow's back, without the hub aborting flows.
    from custom_components.sinotrack.subentries import add_tracker_subentry

    with patch.object(entry.runtime_data.hub, "_abort_discovery"):
        add_tracker_subentry(hass.config_entries, entry, "999", "X")
        await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow_id, {"name": "Y"})
    assert result["reason"] == "already_configured"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_subentry_reconfigure_changes_name_and_limit(hass: HomeAssistant) -> None:
    entry = await setup_listener(hass, free_port(), trackers=[("4106011660", "Bike")])
    (sub,) = entry.subentries.values()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_TRACKER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": sub.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Scooter", "max_cut_speed": 10}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[sub.subentry_id].title == "Scooter"
    tracker = entry.runtime_data.hub.trackers["4106011660"]
    assert (tracker.name, tracker.max_cut_speed) == ("Scooter", 10.0)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_minimal_submissions_take_the_defaults(hass: HomeAssistant) -> None:
    """A REST client may send only what it changes: the other fields take their defaults."""
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"port": port})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"port": port, "tcp": True, "udp": True}
    entry = result["result"]
    await hass.async_block_till_done()
    options = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        options["flow_id"], {"new_trackers": "add"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "new_trackers": "add",
        "offline_after": 10,
        "max_connections": 500,
        **RELAY_OFF,
    }
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_tracker_id_belongs_to_one_hub(hass: HomeAssistant) -> None:
    """By hand, by discovery or automatically: an ID under one hub is refused by another."""
    home = await setup_listener(hass, free_port(), trackers=[("4106011660", "Bike")])
    other = await setup_listener(hass, free_port(), new_trackers="add")
    result = await hass.config_entries.subentries.async_init(
        (other.entry_id, SUBENTRY_TYPE_TRACKER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"tracker_id": "4106011660", "name": "Twin"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"tracker_id": "tracker_elsewhere"}
    assert result["description_placeholders"] == {"hub": home.title}
    assert not other.subentries

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"tracker_id": "4106011660", "entry_id": other.entry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "tracker_elsewhere"}
    assert result["description_placeholders"] == {"tracker_id": "4106011660", "hub": home.title}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"name": "Twin"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "tracker_elsewhere"}
    assert not other.subentries
    hass.config_entries.flow.async_abort(result["flow_id"])

    # The hub that adds new trackers by itself does not take it either.
    tracker = await FakeTracker(other.data["port"]).connect()
    await tracker.send(h02_position_frame("4106011660"))
    await tracker.read_frame()
    await tracker.close()
    await hass.async_block_till_done()
    assert not other.subentries
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["title_placeholders"] for f in flows] == [{"tracker_id": "4106011660"}]
    for e in (home, other):
        await hass.config_entries.async_unload(e.entry_id)


async def test_user_step_recovers_from_each_error(hass: HomeAssistant) -> None:
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": False, "udp": False}
    )
    assert result["errors"] == {"base": "no_protocol"}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("", port))
        busy.listen()
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"port": port, "tcp": True, "udp": True}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "port_in_use"}
    # The other program has let go of the port: the same form, submitted again, succeeds.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"port": port, "tcp": True, "udp": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"port": port, "tcp": True, "udp": True}
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.runtime_data.server.bound_port == port
    assert await hass.config_entries.async_unload(entry.entry_id)
