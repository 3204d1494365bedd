"""Property tests: chunking never changes the result; no input makes the codec raise or hoard."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jt808_helpers import accepted, codec, frame_vectors, wire

from custom_components.sinotrack.protocol.model import Decoded, DecodeError

# Valid frames only (a refused frame is an error, which is fine but dull here).
FRAMES = [wire(v) for v in frame_vectors() if accepted(v)]
CAP = 512

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _feed_chunks(stream: bytes, cuts: list[int]) -> list[Decoded | DecodeError]:
    c = codec()
    out: list[Decoded | DecodeError] = []
    last = 0
    for cut in [*sorted(cuts), len(stream)]:
        out += c.feed(stream[last:cut])
        last = cut
    return out + c.flush()


def _key(items: list[Decoded | DecodeError]) -> list[object]:
    return [
        (item.message, item.reply, item.raw) if isinstance(item, Decoded) else item
        for item in items
    ]


@SETTINGS
@given(
    picks=st.lists(st.sampled_from(FRAMES), min_size=1, max_size=6),
    noise=st.lists(st.binary(max_size=6).filter(lambda b: b"\x7e" not in b), max_size=6),
    data=st.data(),
)
def test_any_chunking_gives_the_same_messages(
    picks: list[bytes], noise: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(
        frame + (noise[k] if k < len(noise) else b"") for k, frame in enumerate(picks)
    )
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    whole = codec()
    expected = whole.feed(stream) + whole.flush()
    assert all(isinstance(item, Decoded) for item in expected)
    assert _key(_feed_chunks(stream, cuts)) == _key(expected)
    assert _key(_feed_chunks(stream, list(range(len(stream))))) == _key(expected)


def _check_bounded(chunks: list[bytes], *, datagram: bool = False) -> None:
    c = codec(max_buffer=CAP)
    for chunk in chunks:
        out = c.feed_datagram(chunk) if datagram else c.feed(chunk)
        assert all(isinstance(item, Decoded | DecodeError) for item in out)
        assert c.buffered <= CAP
    for item in c.flush():
        assert isinstance(item, Decoded | DecodeError)
    assert c.buffered == 0


@SETTINGS
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_random_bytes(chunks: list[bytes]) -> None:
    _check_bounded(chunks)
    _check_bounded(chunks, datagram=True)


@SETTINGS
@given(
    st.lists(
        st.lists(st.sampled_from([0x7E, 0x7D, 0x01, 0x02, 0x00, 0x40, 0x20, 0xFF]), max_size=80),
        max_size=8,
    )
)
def test_random_bytes_near_the_syntax(chunks: list[list[int]]) -> None:
    """Flags, escapes and header bits in every order."""
    _check_bounded([bytes(chunk) for chunk in chunks])
    _check_bounded([bytes(chunk) for chunk in chunks], datagram=True)


@SETTINGS
@given(
    frame=st.sampled_from(FRAMES),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["set", "insert", "delete"]),
            st.integers(0, 10_000),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=6,
    ),
    cut=st.integers(0, 10_000),
)
def test_mutated_frames(frame: bytes, edits: list[tuple[str, int, int]], cut: int) -> None:
    data = bytearray(frame * 2)
    for op, where, value in edits:
        pos = where % (len(data) + 1)
        if op == "insert":
            data.insert(pos, value)
        elif pos < len(data):
            if op == "set":
                data[pos] = value
            else:
                del data[pos]
    mutated = bytes(data)
    cut %= len(mutated) + 1
    _check_bounded([mutated[:cut], mutated[cut:]])
    _check_bounded([mutated], datagram=True)


@SETTINGS
@given(st.integers(1, 8), st.binary(min_size=1, max_size=64))
def test_overflow_without_a_closing_flag(count: int, filler: bytes) -> None:
    body = filler.replace(b"\x7e", b"")
    c = codec(max_buffer=CAP)
    c.feed(b"\x7e")
    for _ in range(count * 20):
        c.feed(body or b"\x00")
        assert c.buffered <= CAP
