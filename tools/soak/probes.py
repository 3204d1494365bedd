"""What the soak test measures from outside: Home Assistant's memory and a last, checked report
of every tracker (an H02 V1 built by the simulator, acknowledged before it counts)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from tools.simulator import Fix
from tools.simulator import h02_frames as h02

FIRST_ID = 4206000000


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def final_round(listener_port: int, ids: list[str]) -> dict[str, tuple[float, float]]:
    """Each tracker's last report, acknowledged: what Home Assistant must show afterwards."""
    sent: dict[str, tuple[float, float]] = {}
    parked = h02.status_word(ignition=False)
    for n, tracker_id in enumerate(ids):
        lat, lon = 52.0 + n / 10_000, 4.0 + n / 10_000
        report = h02.position(tracker_id, Fix(datetime.now(UTC), lat, lon), parked)
        with socket.create_connection(("127.0.0.1", listener_port), timeout=10) as sock:
            sock.sendall(report)
            reply = b""
            while not reply.endswith(b"#"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
            if reply.startswith(f"*HQ,{tracker_id},V4,V1,".encode()):
                sent[tracker_id] = (lat, lon)
    return sent
