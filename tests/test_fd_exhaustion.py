"""Running out of file descriptors: the listener refuses, logs once and recovers.

asyncio's own accept loop hands EMFILE to the loop's exception handler, which Home Assistant
(2025.x and later) treats as fatal: it stops the event loop. The listener accepts itself.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.sinotrack import server as server_module

from .helpers import HOST, FakeTracker, free_port, h02_position_frame, setup_listener, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

TID = "4106011660"


@contextlib.contextmanager
def descriptors_exhausted() -> Iterator[None]:
    """Lower the open-file limit near what is open and fill the rest; restore both after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fillers: list[int] = []
    try:
        in_use = len(os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, in_use + 32), hard))
        while True:
            try:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        yield
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
async def test_out_of_descriptors_refuses_logs_once_and_recovers(
    hass: HomeAssistant, caplog: Any
) -> None:
    port = free_port()
    entry = await setup_listener(hass, port, udp=False, trackers=[(TID, "Car")])
    server = entry.runtime_data.server
    # Client sockets made while descriptors are still free: connecting needs none.
    clients = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(3)]
    try:
        with descriptors_exhausted():
            for client in clients:
                client.setblocking(False)
                client.connect_ex((HOST, port))
            await wait_for(lambda: server.stats.connections_refused >= 1, what="a refusal")
        assert caplog.text.count("out of file descriptors") == 1
        assert "out of system resource" not in caplog.text  # asyncio's path never ran
        assert hass.loop.is_running()

        # Descriptors are back: the listener resumes by itself and serves trackers again.
        tracker = await FakeTracker(port).connect()
        await tracker.send(h02_position_frame(TID))
        assert (await tracker.read_frame(timeout=server_module.ACCEPT_RETRY_S + 5)).startswith(
            f"*HQ,{TID},V4,V1,".encode()
        )
        assert "Accepting tracker connections again" in caplog.text
        await tracker.close()
    finally:
        for client in clients:
            client.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_near_the_open_file_limit_connections_are_refused(
    hass: HomeAssistant, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trackers never take the last descriptors the rest of Home Assistant needs."""
    port = free_port()
    entry = await setup_listener(hass, port, udp=False)
    server = entry.runtime_data.server
    monkeypatch.setattr(server_module.TrackerServer, "_fd_ceiling", staticmethod(lambda: 0))
    tracker = await FakeTracker(port).connect()
    assert await tracker.closed_by_server()
    await tracker.close()
    assert server.stats.connections_refused == 1
    assert server.stats.connections_open == 0
    assert caplog.text.count("open-file limit is near") == 1
    monkeypatch.undo()
    served = await FakeTracker(port).connect()
    await wait_for(lambda: server.stats.connections_open == 1, what="the connection")
    await served.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
