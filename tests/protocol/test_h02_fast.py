"""The fast paths (``h02_fast``, ``H02Codec._fast_frames``) give exactly what the general ones do.

Each fast path may decline (None, or stop framing) but never decide differently: same messages,
replies, raw frames, errors, counters and buffered rest, on the reference vectors, on the
benchmark's frames and on random streams and mutated fields.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from h02_helpers import NOW, load_vectors
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from custom_components.sinotrack.protocol import h02, h02_fast
from custom_components.sinotrack.protocol.h02 import H02Codec, _bin_head
from custom_components.sinotrack.protocol.h02_decode import decode_binary, fix_block
from custom_components.sinotrack.protocol.model import Decoded, DecodeError, ProtocolError

VECTORS = load_vectors()
FRAMES = [v["bytes"] for v in VECTORS if v["transport"] == "any"]

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from bench_codec import BINARY, TEXT  # noqa: E402

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(chunks: list[bytes], *, fast: bool, final: str = "flush", **kwargs: object) -> tuple:
    codec = H02Codec(clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    codec.fast_path = fast
    out: list[Decoded | DecodeError] = []
    if final == "datagram":
        for chunk in chunks:
            out += codec.feed_datagram(chunk)
    else:
        for chunk in chunks:
            out += codec.feed(chunk)
            out.append(DecodeError("-- chunk --", b"%d" % codec.buffered))
        out += codec.flush()
    return out, asdict(codec.stats), codec.x_frames


def _same(chunks: list[bytes], **kwargs: object) -> list[Decoded | DecodeError]:
    for final in ("flush", "datagram"):
        fast = _run(chunks, fast=True, final=final, **kwargs)
        general = _run(chunks, fast=False, final=final, **kwargs)
        assert fast == general
    return fast[0]


def _warm() -> None:
    """Fill the date and status caches, as the general path does for a first sighting."""
    H02Codec(clock=lambda: NOW).feed_datagram(b"".join(FRAMES + TEXT + BINARY))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: str(v["index"]))
def test_vectors_same_with_and_without_the_fast_path(vector: dict) -> None:
    _warm()
    _same([vector["bytes"]])
    _same([vector["bytes"]], eager_binary=False, ack_binary=False, ack_positions=True)


def test_benchmark_streams_take_the_fast_path_and_give_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _warm()
    mixed = [f for pair in zip(TEXT, BINARY * 2, strict=False) for f in pair] + TEXT[4:]
    for frames in (TEXT, BINARY, mixed):
        stream = b"".join(frames * 3)
        out = _same([stream])
        assert all(isinstance(item, Decoded) for item in out[:-1])
        chunks = [stream[k : k + 300] for k in range(0, len(stream), 300)]
        _same(chunks)
    # The usual frames never reach the general framing loop nor the general decoders.
    monkeypatch.setattr(H02Codec, "_split_frames", _unexpected)
    monkeypatch.setattr(h02, "fix_block", _unexpected)
    monkeypatch.setattr(h02, "decode_binary", _unexpected)
    codec = H02Codec(clock=lambda: NOW)
    v1 = [f for f in TEXT if b",V1," in f]
    stream = b"".join([*v1, *BINARY, *v1, BINARY[0], BINARY[0], BINARY[1]])
    assert len(codec.feed(stream)) == 2 * len(v1) + len(BINARY) + 3


def _unexpected(*args: object, **kwargs: object) -> None:
    raise AssertionError("the general path ran")


@SETTINGS
@given(
    st.lists(st.sampled_from(FRAMES + TEXT + BINARY), min_size=1, max_size=10),
    st.lists(st.sampled_from([b"", b"\r\n", b" ", b"\x00", b"junk", b"*", b"$", b"#", b"X"])),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=6),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_random_streams_same_with_and_without_the_fast_path(
    frames: list[bytes], fillers: list[bytes], cuts: list[int], rng, eager: bool
) -> None:
    _warm()
    pieces = list(frames)
    for filler in fillers:
        pieces.insert(rng.randrange(len(pieces) + 1), filler)
    data = b"".join(pieces)
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]
    _same(chunks, eager_binary=eager)


# --- the fast decoders against the general ones -------------------------------------------

_V1_HEAD = "HQ,4106012736,V1"


def _coordinate(digits: int) -> st.SearchStrategy[str]:
    """Mostly valid shapes (so the fast path often accepts), some odd and some invalid ones."""
    plain = st.integers(min_value=0, max_value=10**digits - 1).map(lambda v: str(v).zfill(digits))
    dotted = st.builds(lambda a, b: f"{a}.{b}", plain, st.from_regex(r"[0-9]{0,6}", fullmatch=True))
    return st.one_of(
        dotted,
        dotted,
        st.from_regex(r"[0-9]{6,9}", fullmatch=True),  # the no-dot shape
        st.text("0123456789.-+_e :", max_size=12),
        st.sampled_from(["9999.9999", "nan", "inf", "1_000.5", " 1827.3855", "-18-27.3855", ""]),
    )


_TIME = st.from_regex(r"[0-2][0-9][0-5][0-9][0-6][0-9]", fullmatch=True)


@SETTINGS
@given(
    st.one_of(_TIME, _TIME, st.text(max_size=7)),
    st.sampled_from(["A", "V", "B", "1", ""]),
    _coordinate(4),
    st.sampled_from(["N", "S", "N", "S", "E", "n", ""]),
    _coordinate(5),
    st.sampled_from(["E", "W", "E", "W", "N", ""]),
    st.one_of(
        st.floats(0, 2100).map(str),
        st.floats(allow_nan=True).map(str),
        st.sampled_from(["000.00", " 1.5", "1e3", "1_0"]),
    ),
    st.one_of(st.integers(-5, 400).map(str), st.sampled_from(["", "000", "nan"])),
    st.sampled_from(["100117", "290224", "310417", "100117", "000000", "1001", ""]),
    st.sampled_from(["FFFFFBFF", "fffffbff", "FFFFFBFF", "FFFFFFF", "XYZ", ""]),
    st.lists(st.sampled_from(["310", " 260", "5", "\t1", ""]), max_size=4),
)
def test_fix_fast_agrees_with_fix_block(  # noqa: PLR0917
    time_text: str,
    flag: str,
    lat: str,
    ns: str,
    lon: str,
    ew: str,
    speed: str,
    course: str,
    date: str,
    status: str,
    extras: list[str],
) -> None:
    _warm()
    body = ",".join([_V1_HEAD, time_text, flag, lat, ns, lon, ew, speed, course, date, status])
    body = ",".join([body, *extras])
    assume("#" not in body and "*" not in body)
    f = body.split(",")
    fast = h02_fast.fix_fast(f, "V1", body)
    try:
        general = fix_block(f, 3, "V1", f[1], " " in body)
    except ProtocolError:
        general = None
    if fast is not None:
        assert fast == general
        assert fast.fix_time is None or fast.fix_time.tzinfo is UTC
    # Through the codec: whatever path it takes, the same message.
    frame = f"*{body}#".encode()
    if frame.isascii():
        _same([frame])


def test_fix_fast_times_are_the_general_ones() -> None:
    _warm()
    for hhmmss in ("000000", "235959", "120000", "240000", "236000", "235960", "999999"):
        body = f"{_V1_HEAD},{hhmmss},A,1827.3855,N,06705.7577,W,0,0,100117,FFFFFBFF"
        f = body.split(",")
        fast = h02_fast.fix_fast(f, "V1", body)
        general = fix_block(f, 3, "V1", f[1], False)
        assert fast is None or fast == general
        if fast is not None:
            h, m, s = int(hhmmss[:2]), int(hhmmss[2:4]), int(hhmmss[4:])
            assert fast.fix_time == datetime(2017, 1, 10, h, m, s, tzinfo=UTC)
    assert h02_fast.fix_fast(body.replace(",000000,", ",240000,").split(","), "V1", body) is None


@st.composite
def _binary_frames(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from([*BINARY, *(f for f in FRAMES if f[:1] == b"$")])))
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.integers(1, len(frame) - 1))  # the framing checks the lead byte
        frame[where] = draw(
            st.one_of(st.integers(0, 255), st.sampled_from([0x24, 0x59, 0x60, 0x99]))
        )
    return bytes(frame)


@SETTINGS
@given(_binary_frames())
def test_binary_fast_agrees_with_decode_binary(frame: bytes) -> None:
    _warm()
    fast = h02_fast.binary_fast(frame)
    if fast is None:
        return
    assert fast == decode_binary(frame)
    assert _bin_head(frame, 0, len(frame)) is True  # the framing's header check holds too
    _same([frame])
