"""JT/T 808 codec throughput: framing, decoding and replying to 0x0200 location reports.

``tools.bench.codec`` calls ``rate(seconds)`` for its ``"jt808_msgs_per_s"`` figure; run alone
(``python -m tools.bench.jt808``), this prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from custom_components.sinotrack.protocol.jt808 import Jt808Codec, build_frame, unescape

PHONE = bytes.fromhex("013912345678")


def _as_one_device(frame: bytes) -> bytes:
    """The report re-framed as if one tracker sent it (a session is one device)."""
    content = unescape(frame[1:-1])
    assert content is not None
    serial = int.from_bytes(content[10:12])
    return build_frame(0x0200, content[12:-1], PHONE, None, serial)


# Real 0x0200 bodies (Traccar test captures): mileage/RSSI/satellites items, vendor battery and
# power items, an 0xEB block, bytes that need escaping.
FRAMES = [
    _as_one_device(bytes.fromhex(h))
    for h in (
        "7e0200002c00160128561400030000000000040007005de13c065c6cdb00160000000017011710054201"
        "040000a9002a02000030011b310104e47e",
        "7e02000032000000000000022500000000000c0002000000000000000000710000014626061510572501"
        "040000006430011f31010ce10200722b04ab560000487e",
        "7e020000530095900689830016000000000000000b00a2394803a925f8000000000000251124115147010400"
        "00003e300115310113eb29000c00b28988228066613427450900060089ffffffff000600c5ffffffef0004"
        "002d0fa5000300a85c657e",
        "7e02000033017051564189000c00000000000c00020158ff7206cd1f4c000000000123201122115639010400"
        "000000300143310114930100e3060064019a0000557e",
        "7e020000344eb6fb4ad6280001000000000000000301587d010106cbff660000000000002601011200000104"
        "0000007b30011831010ae80a2003070105019f030190657e",
    )
]
assert any(b"\x7d" in frame for frame in FRAMES)
FRAMES_PER_CHUNK = 8  # a busy listener reads several reports per recv()
CLOCK = datetime(2024, 1, 1, tzinfo=UTC)


def _chunks(total: int) -> list[bytes]:
    stream = [FRAMES[k % len(FRAMES)] for k in range(total)]
    return [b"".join(stream[k : k + FRAMES_PER_CHUNK]) for k in range(0, total, FRAMES_PER_CHUNK)]


def _run(chunks: list[bytes], expected: int) -> int:
    codec = Jt808Codec(clock=lambda: CLOCK)
    feed = codec.feed
    count = 0
    for chunk in chunks:
        count += len(feed(chunk))
    if count != expected or codec.stats.errors:
        raise SystemExit(f"decoded {count} of {expected} messages, {codec.stats.errors} errors")
    return count


def rate(seconds: float = 2.0, messages: int = 40_000) -> float:
    """Messages per second, best of the runs that fit in ``seconds`` (least disturbed)."""
    total = messages - messages % FRAMES_PER_CHUNK
    chunks = _chunks(total)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        count = _run(chunks, total)
        best = max(best, count / (time.perf_counter() - start))
        if time.perf_counter() > deadline:
            return best


def bench_jt808(seconds: float = 2.0) -> float:
    """Alias of ``rate``: JT/T 808 0x0200 messages per second."""
    return rate(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40_000, help="messages per run")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    print(json.dumps({"jt808_msgs_per_s": round(rate(args.seconds, args.messages))}))


if __name__ == "__main__":
    main()
