"""A loopback sink for ``scripts/bench e2e --relay``: the relay's upstream, in its own process.

Listens on 127.0.0.1 (TCP, a free port), reads and discards everything, prints the port once
ready and, when its standard input closes (or after ``--max-seconds``), the bytes it received as
one JSON line. Its CPU is not the event loop's under measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys


class _Discard(asyncio.Protocol):
    received = 0
    connections = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        _Discard.connections += 1

    def data_received(self, data: bytes) -> None:
        _Discard.received += len(data)


async def _main(max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Discard, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(reader.read(), max_seconds)
    server.close()
    print(json.dumps({"bytes": _Discard.received, "connections": _Discard.connections}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-seconds", type=float, default=600.0)
    asyncio.run(_main(parser.parse_args().max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
