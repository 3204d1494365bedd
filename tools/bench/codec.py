"""Codec throughput: framing + decoding of text, binary and mixed H02 streams (one core).

Run through ``scripts/bench codec`` (``python -m tools.bench.codec``). The baseline is the bare
cost of reading the same messages: ``bytes.split(b",")`` and converting their numeric fields
(text), ``bytes.hex()`` and converting the BCD fields (binary). ``ratio`` = baseline / mixed
throughput (lower is better).
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from custom_components.sinotrack.protocol.h02 import H02Codec
from custom_components.sinotrack.protocol.h02.values import CLASSIC, StatusInfo
from custom_components.sinotrack.protocol.model import Decoded, Position

# Realistic reports: SinoTrack V1 with cell extras, plain V1, V1 with an odd coordinate shape,
# an NBR cell report, binary frames of 32, 45 and 42 bytes.
TEXT = [
    b"*HQ,4106012736,V1,224434,A,1827.3855,N,06705.7577,W,000.00,000,100117,FFFFFBFF,"
    b"310,260,49101,1753,5#",
    b"*HQ,2705171109,V1,213324,A,5002.5849,N,01433.7822,E,0.00,000,140613,FFFFFFFF#\r\n",
    b"*HQ,8161289587,V1,181933,A,5444.3994,N,02516.3844,E,000.05,000,090317,FFFFBBFF,"
    b"246,03,00002,41565#",
    b"*HQ,353588020068342,V1,084436,A,3257.01525,N,00655.03865,W,57.78,40,011216,FFFBFFFF,"
    b"25c,a, 154,b04c#",
    b"*HQ,9001000002,V8,213945,A,3542.2043,N,38.6508,W,0.00,170,221025,FBFFF9FF,"
    b"0,0,0,0,22,31,126,0#",
    b"*HQ,5905101893,V1,105759,A,37573392,S,145037022,E,000.00,173,280122,FF7FFBFF,"
    b",,9059e2c,8232,4#",
]
BINARY = [
    bytes.fromhex(h)
    for h in (
        "2441060116601245431311165035313006004318210e000000fffffbffff0024",
        "24410600082621532131081504419390060740418306000000fffffbfdff0015060000002c02dc0c000000001f",
        "2435248308419329301047591808172627335900074412294e024138feffffffff01120064ba73005ecc",
        "2427051711092133391406135002584900014337822e000000ffffffffff0000",
    )
]
FRAMES_PER_CHUNK = 8  # a busy listener reads several reports per recv()


def _chunks(frames: list[bytes], total: int) -> list[bytes]:
    stream = [frames[k % len(frames)] for k in range(total)]
    return [b"".join(stream[k : k + FRAMES_PER_CHUNK]) for k in range(0, total, FRAMES_PER_CHUNK)]


def _rate(run: Callable[[], int], seconds: float) -> float:
    """Messages per second of the best of several runs (least disturbed by other work)."""
    best = 0.0
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        count = run()
        rate = count / (time.perf_counter() - start)
        best = max(best, rate)
        if time.perf_counter() > deadline:
            return best


def _codec_run(chunks: list[bytes], expected: int) -> Callable[[], int]:
    clock = datetime(2024, 1, 1, tzinfo=UTC)

    def run() -> int:
        codec = H02Codec(clock=lambda: clock)
        feed = codec.feed
        count = 0
        for chunk in chunks:
            count += len(feed(chunk))
        count += len(codec.flush())
        if count != expected:
            raise SystemExit(f"decoded {count} of {expected} messages")
        return count

    return run


def _baseline_run(frames: list[bytes]) -> Callable[[], int]:
    """Split and convert the numeric fields, nothing else: no framing, no objects, no checks."""

    def run() -> int:
        for frame in frames:
            if frame[0] == 0x2A:
                f = frame.split(b",")
                int(f[3])
                float(f[5])
                float(f[7])
                float(f[9])
                float(f[10])
                int(f[11])
                int(f[12], 16)
            else:
                h = frame.hex()
                x = 6 if len(frame) == 42 else 0
                int(h[12 + x : 18 + x])
                int(h[18 + x : 24 + x])
                int(h[24 + x : 32 + x])
                int(h[34 + x : 43 + x])
                int(h[44 + x : 50 + x])
                int(h[50 + x : 58 + x], 16)
        return len(frames)

    return run


def _cached[T](cache: dict[str, T], key: str, make: Callable[[str], T]) -> T:
    value = cache[key] = make(key)
    return value


def _unchecked_decode(chunk: bytes, out: list[Decoded]) -> None:
    """The least any pure-Python H02 codec with our output does for this stream, checking nothing.

    Frames on ``#`` and on the next lead byte 32 bytes on, splits, converts (what the baseline
    does), and builds what every decoded report is: a UTC datetime (the date part cached), signed
    and rounded degrees, the named status flags (cached), a plain ``Position(...)`` and
    ``Decoded(...)`` as the codec builds them, and the reply. No framing checks, no
    resynchronisation, no range or digit checks, no extras, no counters: a lower bound, not a
    codec (it would take garbage for a report).
    """
    n = len(chunk)
    pos = 0
    append = out.append
    fromiso = datetime.fromisoformat
    days, statuses = _DAYS, _STATUSES
    while pos < n:
        if chunk[pos] == 0x2A:
            end = chunk.find(b"#", pos)
            frame = chunk[pos : end + 1]
            pos = end + 1
            while pos < n and chunk[pos] in b"\r\n":
                pos += 1
            f = frame[1:-1].decode("ascii").split(",")
            ddmmyy, word, lat_text, lon_text = f[11], f[12], f[5], f[7]
            day = days.get(ddmmyy) or _cached(days, ddmmyy, _iso_day)
            status, flags, alarms = statuses.get(word) or _cached(statuses, word, _status)
            lat_deg, lat_min = divmod(
                float(lat_text) if "." in lat_text else float(lat_text) / 1e4, 100.0
            )
            lon_deg, lon_min = divmod(
                float(lon_text) if "." in lon_text else float(lon_text) / 1e4, 100.0
            )
            lat, lon = round(lat_deg + lat_min / 60, 6), round(lon_deg + lon_min / 60, 6)
            position = Position(
                protocol="h02",
                device_id=f[1],
                message_type=f[2],
                fix_time=fromiso(f"{day}{f[3]}Z"),
                valid=f[4] == "A",
                latitude=lat if f[6] == "N" else -lat,
                longitude=lon if f[8] == "E" else -lon,
                speed_kmh=float(f[9]) * 1.852,
                course=float(f[10]),
                status=status,
                flags=flags,
                alarms=alarms,
            )
            if f[2] == "V1":
                reply = f"*HQ,{f[1]},V4,V1,20240101000000#".encode()
            else:
                reply = f"*HQ,{f[1]},R12,000000#".encode()
        else:
            end = pos + 32
            if end < n and chunk[end] not in b"*$":
                star, dollar = chunk.find(b"*", end), chunk.find(b"$", end)
                end = star if dollar < 0 or 0 <= star < dollar else dollar
                if end < 0:
                    end = n
            frame = chunk[pos:end]
            pos = end
            h = frame.hex()
            x = 6 if len(frame) == 42 else 0
            device_id = h[2:17] if x else h[2:12]
            ddmmyy, word = h[18 + x : 24 + x], h[50 + x : 58 + x]
            day = days.get(ddmmyy) or _cached(days, ddmmyy, _iso_day)
            status, flags, alarms = statuses.get(word) or _cached(statuses, word, _status)
            lat_deg, lat_min = divmod(int(h[24 + x : 32 + x]), 1000000)
            lon_deg, lon_min = divmod(int(h[34 + x : 43 + x]), 1000000)
            knots, course = divmod(int(h[44 + x : 50 + x]), 1000)
            nibble = frame[21 + x // 2] & 0x0F  # hemispheres and validity
            lat = round(lat_deg + lat_min / 600000.0, 6)
            lon = round(lon_deg + lon_min / 600000.0, 6)
            position = Position(
                protocol="h02",
                device_id=device_id,
                message_type="binary",
                fix_time=fromiso(f"{day}{h[12 + x : 18 + x]}Z"),
                valid=bool(nibble & 0x2),
                latitude=lat if nibble & 0x4 else -lat,
                longitude=lon if nibble & 0x8 else -lon,
                speed_kmh=knots * 1.852,
                course=float(course),
                status=status,
                flags=flags,
                alarms=alarms,
                battery_percent=frame[16],
            )
            reply = f"*HQ,{device_id},R12,000000#".encode()
        append(Decoded(position, reply, frame))


_DAYS: dict[str, str] = {}
_STATUSES: dict[str, StatusInfo] = {}


def _iso_day(ddmmyy: str) -> str:
    return f"20{ddmmyy[4:]}{ddmmyy[2:4]}{ddmmyy[:2]}T"


def _status(word: str) -> StatusInfo:
    info = CLASSIC.text(word)
    if info is None:
        raise SystemExit(f"unchecked: status word {word!r}")
    return info


def _unchecked_run(chunks: list[bytes], expected: int) -> Callable[[], int]:
    def run() -> int:
        out: list[Decoded] = []
        count = 0
        for chunk in chunks:
            _unchecked_decode(chunk, out)
            count += len(out)
            out.clear()
        if count != expected:
            raise SystemExit(f"unchecked: {count} of {expected} messages")
        return count

    return run


def _same_reports(chunks: list[bytes]) -> None:
    """The lower bound reads the stream as the codec does (IDs, times, coordinates, flags)."""
    ours: list[Decoded] = []
    for chunk in chunks:
        _unchecked_decode(chunk, ours)
    codec = [d for d in H02Codec().feed(b"".join(chunks)) if isinstance(d, Decoded)]
    for mine, theirs in zip(ours, codec, strict=True):
        a, b = mine.message, theirs.message
        assert isinstance(a, Position), a
        assert isinstance(b, Position), b
        assert (a.device_id, a.fix_time, a.valid, a.flags) == (
            b.device_id,
            b.fix_time,
            b.valid,
            b.flags,
        ), (a, b)
        # (The codec keeps a seventh decimal for five-decimal minutes; the bound rounds to six.)
        assert abs(a.latitude - b.latitude) + abs(a.longitude - b.longitude) < 1e-6, (a, b)
        assert (mine.reply is None) == (theirs.reply is None), (mine, theirs)


def _jt808_rate(seconds: float) -> int:
    """The JT/T 808 codec's throughput (``tools.bench.jt808``), for the same JSON line."""
    from .jt808 import rate

    return round(rate(seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40_000, help="messages per run")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    total = args.messages - args.messages % FRAMES_PER_CHUNK

    mixed_frames = [f for pair in zip(TEXT, BINARY * 2, strict=False) for f in pair] + TEXT[4:]
    results: dict[str, float | None] = {}
    for name, frames in (("text", TEXT), ("binary", BINARY), ("mixed", mixed_frames)):
        chunks = _chunks(frames, total)
        check = H02Codec().feed(b"".join(chunks[:2]))
        assert all(isinstance(item, Decoded) for item in check), check
        results[name] = _rate(_codec_run(chunks, total), args.seconds)
        print(f"{name:>8}: {results[name]:>10,.0f} msg/s", file=sys.stderr)
    stream = [mixed_frames[k % len(mixed_frames)].rstrip(b"#\r\n") for k in range(total)]
    baseline = _rate(_baseline_run(stream), args.seconds)
    print(f"baseline: {baseline:>10,.0f} msg/s", file=sys.stderr)
    mixed_chunks = _chunks(mixed_frames, total)
    _same_reports(mixed_chunks[:4])
    unchecked = _rate(_unchecked_run(mixed_chunks, total), args.seconds)
    print(
        f"unchecked: {unchecked:>9,.0f} msg/s   (mixed, no checks at all: a lower bound, "
        f"ratio {baseline / unchecked:.2f})",
        file=sys.stderr,
    )
    mixed = results["mixed"] or 1.0
    summary = {
        "text_msgs_per_s": round(results["text"] or 0),
        "binary_msgs_per_s": round(results["binary"] or 0),
        "mixed_msgs_per_s": round(mixed),
        "baseline_msgs_per_s": round(baseline),
        "ratio": round(baseline / mixed, 2),
        "unchecked_msgs_per_s": round(unchecked),
        "unchecked_ratio": round(baseline / unchecked, 2),
        # Issue 16's target (<= 4): the one decoder against the lower bound that checks nothing.
        "vs_unchecked": round(unchecked / mixed, 2),
        "jt808_msgs_per_s": _jt808_rate(args.seconds),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
