"""Phase 3 of ``bench e2e``, the floor: the least any integration could cost for the same
flood, a bare asyncio server that only writes the anchor's states and the replies."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tools import devenv

from .harness import GcTime, loaded

if TYPE_CHECKING:
    from .anchor import AnchorWriter


@dataclasses.dataclass
class FloorLoad:
    """The flood of phase 1, for phase 3: load generator options (no port), seconds, warm-up."""

    loadgen_args: list[str]
    seconds: float
    warmup: float


async def run_floor(
    hass: Any, writer: AnchorWriter, load: FloorLoad, gc_time: GcTime
) -> dict[str, float]:
    """Phase 3: the least any integration could cost for the same flood.

    A bare asyncio server that, for each report, writes the anchor's precomputed state changes
    and sends the reply: sockets and state writes, no decoding, no hub, no entity logic. The
    same load generator, the same seconds.
    """
    loop = asyncio.get_running_loop()
    counts: dict[int, int] = {}
    buffer = memoryview(bytearray(8192))
    reply_tail = b",V4,V1," + datetime.now(UTC).strftime("%Y%m%d%H%M%S").encode() + b"#"

    class Floor(asyncio.BufferedProtocol):
        transport: Any = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def get_buffer(self, sizehint: int) -> memoryview:
            return buffer

        def buffer_updated(self, nbytes: int) -> None:
            replies = []
            for frame in bytes(buffer[:nbytes]).split(b"#")[:-1]:  # whole reports, one per write
                tid = frame[4:14]
                index = int(tid[1:])
                n = counts.get(index, 0)
                counts[index] = n + 1
                writer.write(index, n)
                replies.append(b"*HQ," + tid + reply_tail)
            self.transport.write(b"".join(replies))

    port = devenv.free_port()
    server = await loop.create_server(Floor, "127.0.0.1", port)
    try:
        async with loaded(hass, ["--port", str(port), *load.loadgen_args], load.warmup) as gen:
            done0, cpu0, wall0 = writer.done, time.thread_time(), time.monotonic()
            gc0 = gc_time.total
            await asyncio.sleep(load.seconds)
            done1, cpu1, wall1 = writer.done, time.thread_time(), time.monotonic()
            gc1 = gc_time.total
            await gen.stop()
    finally:
        server.close()
        await server.wait_closed()
    return {
        "reports": done1 - done0,
        "cpu_s": cpu1 - cpu0,
        "wall_s": wall1 - wall0,
        "gc_s": gc1 - gc0,
    }
