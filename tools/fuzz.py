"""Throw random and mutated inputs at the H02 codec; report anything that goes wrong.

    scripts/fuzz [-n 1000000] [--seed N]          (python -m tools.fuzz)

Inputs: pure random bytes, valid frames from the reference vectors with random byte edits,
insertions, deletions and truncations, and splices of several frames. Each goes through
``feed`` in random chunks (now and then ``settle``, then ``flush``), through ``feed_datagram``,
and, waiting for what follows a binary frame (``eager_binary=False``), through ``feed`` whole
and in random chunks. A failure is any exception (the codec reports bad input as
``DecodeError`` values, it never raises), anything returned that is not a ``Decoded`` or a
``DecodeError``, a buffer above the cap, or messages that differ between the whole and the
chunked stream. Prints a summary; exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from datetime import UTC, datetime

from custom_components.sinotrack.protocol.h02 import H02Codec
from custom_components.sinotrack.protocol.model import Decoded, DecodeError
from tools import REPO

CAP = 1024
SPECIAL = b"*$X#,;.-0123456789ABCDEFVNSEW \r\n\x00\xff"


def _corpus() -> list[bytes]:
    path = REPO / "tests" / "protocol" / "data" / "h02_vectors.json"
    out = []
    for vector in json.loads(path.read_text(encoding="utf-8")):
        raw = vector.get("raw")
        out.append(raw.encode("latin-1") if raw is not None else bytes.fromhex(vector["raw_hex"]))
    return out


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        where = rng.randrange(len(buf) + 1)
        if op < 0.4 and buf:
            buf[min(where, len(buf) - 1)] = (
                rng.choice(SPECIAL) if rng.random() < 0.5 else rng.randrange(256)
            )
        elif op < 0.6:
            buf[where:where] = bytes([rng.choice(SPECIAL)])
        elif op < 0.8 and buf:
            del buf[min(where, len(buf) - 1)]
        else:
            buf = buf[:where]
    return bytes(buf)


def _input(rng: random.Random, corpus: list[bytes]) -> bytes:
    kind = rng.random()
    if kind < 0.25:
        return rng.randbytes(rng.randrange(0, 200))
    if kind < 0.7:
        return _mutate(rng, rng.choice(corpus))
    return b"".join(
        _mutate(rng, f) if rng.random() < 0.3 else f
        for f in rng.choices(corpus, k=rng.randint(2, 6))
    )


CLOCK = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def _codec(eager: bool) -> H02Codec:
    return H02Codec(max_buffer=CAP, eager_binary=eager, clock=lambda: CLOCK)


def _checked(out: list[Decoded | DecodeError], what: str) -> list[Decoded | DecodeError]:
    for item in out:
        if not isinstance(item, Decoded | DecodeError):
            raise TypeError(f"{what} returned {item!r}")
    return out


def _messages(out: list[Decoded | DecodeError]) -> list[Decoded]:
    return [item for item in out if isinstance(item, Decoded)]


def _chunks(rng: random.Random, data: bytes) -> list[bytes]:
    chunks, pos = [], 0
    while pos < len(data):
        step = rng.randint(1, 64)
        chunks.append(data[pos : pos + step])
        pos += step
    return chunks


def _run_one(rng: random.Random, data: bytes) -> None:
    # Any chunking, eager or not, with quiet moments: only Decoded/DecodeError, bounded buffer.
    codec = _codec(rng.random() < 0.5)
    for chunk in _chunks(rng, data):
        _checked(codec.feed(chunk), "feed")
        if codec.buffered > CAP:
            raise AssertionError(f"buffered {codec.buffered} > {CAP}")
        if rng.random() < 0.1:  # the line goes quiet here
            _checked(codec.settle(), "settle")
    _checked(codec.flush(), "flush")
    if codec.buffered:
        raise AssertionError("flush left bytes buffered")
    _checked(codec.feed_datagram(data), "feed_datagram")
    # Waiting for what follows a binary frame, the chunking never changes the messages.
    whole = _codec(eager=False)
    expected = _messages(whole.feed(data) + whole.flush())
    chunked = _codec(eager=False)
    got: list[Decoded | DecodeError] = []
    for chunk in _chunks(rng, data):
        got += chunked.feed(chunk)
    if _messages(got + chunked.flush()) != expected:
        raise AssertionError("the chunked stream gave other messages than the whole one")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="number of inputs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-reports", type=int, default=5, help="crashes printed in full")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    corpus = _corpus()
    failures: dict[str, int] = {}
    started = time.perf_counter()
    for k in range(args.n):
        data = _input(rng, corpus)
        try:
            _run_one(rng, data)
        except Exception as err:
            key = f"{type(err).__name__}: {err}"[:200]
            failures[key] = failures.get(key, 0) + 1
            if sum(failures.values()) <= args.max_reports:
                print(f"input {k}: {data!r}", file=sys.stderr)
                traceback.print_exc()
        if k and k % 100_000 == 0:
            print(f"{k:,} inputs, {sum(failures.values())} failures", file=sys.stderr)
    elapsed = time.perf_counter() - started
    summary = {
        "inputs": args.n,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "failures": sum(failures.values()),
        "distinct_failures": failures,
    }
    print(json.dumps(summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
