"""Load generator for the end-to-end benchmarks: many H02 trackers on TCP, in their own process.

Started by ``tools.bench.e2e`` / ``tools.bench.scale`` as ``python -m tools.bench.loadgen`` (not
meant to be run by hand, though it can be). Plain non-blocking sockets and one ``selectors``
loop: no asyncio, no Home Assistant, so the load costs the Home Assistant process nothing but
its own side of the sockets.

Modes:

- ``flood``: closed loop, as fast as the listener absorbs. Each connection keeps ``--window``
  reports in flight; every reply (``*HQ,<id>,V4,V1,…#``, one per report) lets it send the next.

What a report changes (``--changes``): every report moves the tracker (the report's sequence
number is encoded in the latitude's minutes). With ``all`` it also changes every
other value a V1 report carries, so every entity a report can reach updates: stop and go (speed
0 / 18.5 km/h, so ``moving`` flips), course, and a status word alternating ignition, external
power (a power-cut alarm on every other report) and the immobilizer flag. With ``position``
only the speed changes besides the position (18.5 / 20.4 km/h; the default): the lightest
report that still updates the map and a sensor. With ``parked`` nothing changes: the same fix,
speed 0, ignition off on every report (a car in its garage, 22 hours a day), so nothing is
written and the report's sequence number is not sent (``e2e`` cannot follow it).
- ``paced``: each connection sends one report right after connecting, then one every
  ``--interval`` seconds, the connections spread evenly over the interval (a real fleet).

Protocol on stdin/stdout: prints ``ready`` once every connection is up (and, in paced mode, has
sent its first report), then runs until stdin says ``stop`` or closes (the parent died), waits
up to a second for the replies still due, writes ``--out`` (JSON: per connection the monotonic
send time of every report and how many were acknowledged) and prints a JSON summary line.
``time.monotonic()`` is system-wide on Linux, so the parent can join these send times with the
times at which it saw each state.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import resource
import selectors
import socket
import sys
import time
from datetime import UTC, datetime

LAT_DEG = 50  # latitude 50°MM.MMMM' N: the minutes carry the sequence number (0 … 599,999)
SEQ_MODULO = 600_000


def tracker_id(index: int) -> str:
    return f"7{index:09d}"


def latitude_text(seq: int) -> str:
    """The latitude report ``seq`` carries (``DDMM.MMMM``): the minutes are the number."""
    minutes, fraction = divmod(seq % SEQ_MODULO, 10000)
    return f"{LAT_DEG:02d}{minutes:02d}.{fraction:04d}"


def _degrees(text: str) -> float:
    """``DDMM.MMMM`` (or ``DDDMM.MMMM``) in degrees, to the last bit as the H02 codec reads it."""
    degrees, minutes = divmod(float(text), 100.0)
    return degrees + minutes / 60.0


def latitude_of(seq: int) -> float:
    """The latitude the integration shows for report ``seq``."""
    return _degrees(latitude_text(seq))


def longitude_text(index: int) -> str:
    """The longitude tracker ``index`` reports (``DDDMM.MMMM``): each tracker its own."""
    return f"004{index % 60:02d}.{(index * 37) % 10000:04d}"


def longitude_of(index: int) -> float:
    """The longitude the integration shows for tracker ``index``."""
    return _degrees(longitude_text(index))


def seq_of(latitude: float) -> int:
    return round((latitude - LAT_DEG) * 60 * 10000)


def raise_nofile() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Clock:
    """``HHMMSS`` and ``DDMMYY`` of now (UTC), recomputed once per second."""

    def __init__(self) -> None:
        self._second = -1
        self.hms = self.dmy = ""

    def update(self) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            when = datetime.fromtimestamp(second, UTC)
            self.hms = when.strftime("%H%M%S")
            self.dmy = when.strftime("%d%m%y")


# Status words (active-low): all clear, ignition off / ignition on, external power cut
# (bit 19) and immobilizer engaged (bit 27).
STATUS_PARKED = "FFFFFBFF"
STATUS_CUT = f"{0xFFFFFFFF & ~(1 << 19) & ~(1 << 27):08X}"


class Conn:
    __slots__ = (
        "acked",
        "changes",
        "index",
        "lon",
        "next_due",
        "out",
        "sent_times",
        "seq",
        "sock",
        "tid",
    )

    def __init__(self, index: int, sock: socket.socket, changes: str = "position") -> None:
        self.index = index
        self.tid = tracker_id(index)
        self.sock = sock
        self.seq = 0
        self.acked = 0
        self.sent_times: list[float] = []
        self.out = b""  # bytes the kernel did not take yet
        self.next_due = 0.0
        self.changes = changes
        self.lon = longitude_text(index)

    def report(self, clock: Clock) -> bytes:
        seq = self.seq % SEQ_MODULO
        odd = self.seq & 1
        self.seq += 1
        if self.changes == "all":
            speed, course = 10 * odd, (seq * 7) % 360  # knots: 0 / 18.5 km/h
            status = STATUS_CUT if odd else STATUS_PARKED
        elif self.changes == "parked":
            seq, speed, course, status = 0, 0, 0, STATUS_PARKED
        else:
            speed, course, status = 10 + odd, 0, STATUS_PARKED  # 18.5 / 20.4 km/h
        return (
            f"*HQ,{self.tid},V1,{clock.hms},A,{latitude_text(seq)},N,"
            f"{self.lon},E,{speed:06.2f},{course:03d},{clock.dmy},{status}#"
        ).encode()


def connect_all(
    ports: list[int],
    per_port: int,
    count: int,
    sel: selectors.BaseSelector,
    changes: str = "position",
) -> list[Conn]:
    """Connection ``i`` goes to ``ports[i // per_port]`` (one listener entry per port)."""
    conns = []
    for index in range(count):
        port = ports[min(index // per_port, len(ports) - 1)]
        for attempt in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.connect(("127.0.0.1", port))
                break
            except OSError as err:
                sock.close()
                if err.errno not in (errno.ECONNREFUSED, errno.EAGAIN, errno.ECONNRESET):
                    raise
                time.sleep(0.02 * (attempt + 1))
        else:
            raise SystemExit(f"loadgen: cannot connect connection {index}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = Conn(index, sock, changes)
        sel.register(sock, selectors.EVENT_READ, conn)
        conns.append(conn)
    return conns


def send(conn: Conn, data: bytes) -> None:
    data = conn.out + data if conn.out else data
    try:
        sent = conn.sock.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:  # closed by the server: drop what it would not take
        sent = len(data)
    conn.out = data[sent:]


def run(args: argparse.Namespace) -> int:
    raise_nofile()
    sel = selectors.DefaultSelector()
    ports = [int(p) for p in str(args.port).split(",")]
    conns = connect_all(
        ports, args.per_port or args.connections, args.connections, sel, args.changes
    )
    clock = Clock()
    clock.update()
    stdin = sys.stdin.buffer
    os.set_blocking(stdin.fileno(), False)
    sel.register(stdin, selectors.EVENT_READ, None)
    flood = args.mode == "flood"
    window = args.window
    interval = args.interval
    now = time.monotonic()
    if flood:
        for conn in conns:
            sent = conn.sent_times
            for _ in range(window):
                sent.append(time.monotonic())
                send(conn, conn.report(clock))
    else:
        for i, conn in enumerate(conns):
            conn.sent_times.append(time.monotonic())
            send(conn, conn.report(clock))
            conn.next_due = now + interval * (i + 1) / len(conns)
    print("ready", flush=True)

    stopping_at: float | None = None
    closed = 0
    due = 0  # paced: the connections report round robin, in index order
    while True:
        clock.update()
        now = time.monotonic()
        if stopping_at is not None and (now > stopping_at or all(c.acked >= c.seq for c in conns)):
            break
        timeout = 0.05
        if not flood and stopping_at is None:
            timeout = min(timeout, max(0.0, conns[due].next_due - now))
        for key, _ in sel.select(timeout):
            conn = key.data
            if conn is None:  # stdin: "stop" or EOF
                try:
                    line = stdin.read()
                except BlockingIOError:
                    continue
                if not line or b"stop" in line:
                    sel.unregister(stdin)
                    stopping_at = time.monotonic() + 1.0
                continue
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionError:
                data = b""
            if not data:
                sel.unregister(conn.sock)
                conn.sock.close()
                closed += 1
                continue
            acks = data.count(b"#")
            conn.acked += acks
            if flood and stopping_at is None:
                burst = []
                sent = conn.sent_times
                for _ in range(min(acks, window - (conn.seq - conn.acked))):
                    sent.append(time.monotonic())
                    burst.append(conn.report(clock))
                if burst:
                    send(conn, b"".join(burst))
            elif conn.out:
                send(conn, b"")
        if not flood and stopping_at is None:
            now = time.monotonic()
            while conns[due].next_due <= now:
                conn = conns[due]
                conn.sent_times.append(now)
                send(conn, conn.report(clock))
                conn.next_due += interval
                due = (due + 1) % len(conns)

    for conn in conns:
        with contextlib.suppress(OSError):
            conn.sock.close()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            json.dump(
                [
                    {"tracker_id": c.tid, "acked": c.acked, "sent": c.sent_times}
                    for c in sorted(conns, key=lambda c: c.index)
                ],
                out,
            )
    sent_total = sum(c.seq for c in conns)
    acked_total = sum(c.acked for c in conns)
    print(
        json.dumps(
            {"sent": sent_total, "acked": acked_total, "closed_by_server": closed},
        ),
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", required=True, help="port, or ports separated by commas")
    parser.add_argument("--per-port", type=int, default=0, help="connections per port")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--mode", choices=("flood", "paced"), default="flood")
    parser.add_argument("--window", type=int, default=4, help="flood: reports in flight")
    parser.add_argument("--interval", type=float, default=30.0, help="paced: seconds")
    parser.add_argument(
        "--changes",
        choices=("position", "all", "parked"),
        default="position",
        help="what each report changes (see the module docstring)",
    )
    parser.add_argument("--out", help="where to write the per-report send times (JSON)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
