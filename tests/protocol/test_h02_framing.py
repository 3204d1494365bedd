"""H02 TCP stream and UDP datagram framing (h02.md §1)."""

from __future__ import annotations

import pytest
from h02_helpers import codec

from custom_components.sinotrack.protocol.model import Decoded, DecodeError

TEXT = b"*HQ,4106012736,V1,224434,A,1827.3855,N,06705.7577,W,000.00,000,100117,FFFFFBFF#"
TEXT2 = b"*HQ,2705171109,V1,213324,A,5002.5849,N,01433.7822,E,0.00,000,140613,FFFFFFFF#"
B32 = bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
B45 = bytes.fromhex(
    "24410600082621532131081504419390060740418306000000fffffbfdff0015060000002c02dc0c000000001f"
)
B42 = bytes.fromhex(
    "2435248308419329301047591808172627335900074412294e024138feffffffff01120064ba73005ecc"
)
X32 = bytes.fromhex("5800009814991024031101175540227006012321670c000095fffffbffff0033")


def frames(out: list[Decoded | DecodeError]) -> list[bytes]:
    return [item.raw for item in out if isinstance(item, Decoded)]


def test_text_terminators_and_separators() -> None:
    c = codec()
    out = c.feed(TEXT + b"\r\n" + TEXT2 + b" \r\n" + TEXT + TEXT2)
    assert frames(out) == [TEXT, TEXT2, TEXT, TEXT2]
    assert c.stats.bytes_skipped == 0
    assert c.buffered == 0


def test_garbage_before_and_between_is_skipped_and_counted() -> None:
    c = codec()
    out = c.feed(b"hello" + TEXT + b"\x01\x02junk,V1#" + TEXT2 + b"zz" + B32)
    assert frames(out) == [TEXT, TEXT2, B32]
    assert c.stats.bytes_skipped == len(b"hello") + len(b"\x01\x02junk,V1#") + 2
    assert c.stats.frames == 3
    assert c.stats.messages == 3


def test_segment_starting_mid_message() -> None:
    c = codec()
    assert frames(c.feed(TEXT[20:] + b" \r\n" + TEXT2)) == [TEXT2]


@pytest.mark.parametrize("length", [32, 37, 42, 45, 46, 48, 51, 40, 60])
def test_binary_length_is_decided_by_what_follows(length: int) -> None:
    frame = B32[:29] + bytes(length - 29) if length != 42 else B42
    c = codec()
    out = c.feed(frame + TEXT + frame + B32 + frame + X32 + frame + TEXT2)
    assert frames(out) == [frame, TEXT, frame, B32, frame, frame, TEXT2]
    assert c.x_frames == 1
    assert c.stats.errors == 0


def test_traccar_locks_to_32_but_we_do_not() -> None:
    # A 45-byte frame glued to a 32-byte one: Traccar's one-shot heuristic picks 32 for both.
    c = codec()
    assert frames(c.feed(B45 + B32 + B45 + TEXT)) == [B45, B32, B45, TEXT]


def test_binary_frame_alone_in_a_segment_is_emitted_at_once() -> None:
    for frame in (B32, B45, B42):
        c = codec()
        assert frames(c.feed(frame)) == [frame]
        assert c.buffered == 0


def test_binary_cut_at_a_chunk_boundary_waits() -> None:
    c = codec()
    assert frames(c.feed(B45)) == [B45]  # learns 45
    assert c.feed(B45[:32]) == []  # 32 is a known length, but shorter than this device's
    assert frames(c.feed(B45[32:])) == [B45]
    assert c.feed(B45[:40]) == []
    assert frames(c.feed(B45[40:] + TEXT)) == [B45, TEXT]


def test_a_quiet_line_settles_a_held_frame_that_is_whole() -> None:
    c = codec()
    assert frames(c.feed(B45)) == [B45]
    assert c.feed(B32) == []  # could be the start of another 45-byte frame
    out = c.settle()
    assert frames(out) == [B32]
    assert isinstance(out[0], Decoded)
    assert out[0].reply is not None
    assert out[0].reply.startswith(b"*HQ,4106011660,R12,")
    assert c.buffered == 0
    assert c.settle() == []
    # The settled frame is the new length: a 32-byte frame alone in a segment goes at once.
    assert frames(c.feed(B32)) == [B32]
    # What is plainly cut short stays held for the rest, and the previous length still counts.
    assert frames(c.feed(B45)) == [B45]
    assert c.feed(B45[:40]) == c.settle() == []
    assert c.buffered == 40
    assert frames(c.feed(B45[40:])) == [B45]
    assert c.feed(TEXT[:30]) == c.settle() == []
    assert frames(c.feed(TEXT[30:])) == [TEXT]
    assert c.feed(B32) == []  # still 45 after settles that took nothing


def test_binary_followed_by_partial_next_frame() -> None:
    c = codec()
    assert frames(c.feed(B45 + b"*")) == [B45]
    assert frames(c.feed(TEXT[1:])) == [TEXT]


def test_not_eager_waits_for_what_follows_or_flush() -> None:
    c = codec()
    c.eager_binary = False
    assert c.eager_binary is False
    assert c.feed(B32) == []
    assert c.buffered == 32
    assert frames(c.feed(TEXT)) == [B32, TEXT]
    assert c.feed(B45) == []
    assert frames(c.flush()) == [B45]
    assert c.buffered == 0


def test_binary_followed_by_garbage_falls_back() -> None:
    c = codec()
    out = c.feed(B32 + bytes(range(0x61, 0x61 + 40)) + TEXT)
    assert frames(out) == [B32, TEXT]
    assert c.stats.bytes_skipped == 40


def test_dollar_without_a_bcd_header_is_garbage() -> None:
    c = codec()
    assert frames(c.feed(b"$GPRMC,123" + TEXT)) == [TEXT]
    assert c.stats.bytes_skipped == len(b"$GPRMC,123")


def test_x_frames_are_framed_counted_and_not_reported() -> None:
    c = codec()
    assert frames(c.feed(X32 + B32 + X32 + TEXT)) == [B32, TEXT]
    assert c.x_frames == 2
    assert c.stats.frames == 4


def test_truncated_text_followed_by_text() -> None:
    c = codec()
    out = c.feed(TEXT[:30] + TEXT2)
    assert isinstance(out[0], DecodeError)
    assert out[0].raw == TEXT[:30]
    assert frames(out) == [TEXT2]


def test_truncated_text_running_into_binary() -> None:
    c = codec()
    out = c.feed(TEXT[:30] + B32 + TEXT2)
    assert isinstance(out[0], DecodeError)
    assert frames(out) == [B32, TEXT2]


def test_overflow_discards_and_reports() -> None:
    c = codec(max_buffer=256)
    out = c.feed(b"*HQ," + b"1" * 300)
    assert len(out) == 1
    assert isinstance(out[0], DecodeError)
    assert c.stats.overflows == 1
    assert c.buffered == 0
    assert frames(c.feed(TEXT)) == [TEXT]


def test_buffer_never_exceeds_the_cap_while_trickling() -> None:
    c = codec(max_buffer=128)
    c.feed(b"*HQ,")
    for _ in range(1000):
        c.feed(b"1,")
        assert c.buffered <= 128
    assert c.stats.overflows > 0


def test_a_new_frame_start_ends_an_unterminated_one() -> None:
    c = codec(max_buffer=128)
    for _ in range(1000):
        c.feed(b"*HQ,1,")
        assert c.buffered <= 128
    assert c.stats.overflows == 0
    assert c.stats.errors == 999


def test_udp_datagram_yields_every_message() -> None:
    c = codec()
    out = c.feed_datagram(TEXT + b"\r\n" + TEXT2 + TEXT + b" \r\n")
    assert frames(out) == [TEXT, TEXT2, TEXT]
    assert c.buffered == 0


def test_udp_binary_datagram_of_any_length() -> None:
    c = codec()
    for frame in (B32, B42, B45, B32[:29] + bytes(21)):
        assert frames(c.feed_datagram(frame)) == [frame]


def test_udp_truncated_text_is_reported() -> None:
    c = codec()
    out = c.feed_datagram(TEXT[:-1])
    assert len(out) == 1
    assert isinstance(out[0], DecodeError)


def test_datagram_does_not_touch_the_stream_buffer() -> None:
    c = codec()
    c.feed(TEXT[:10])
    assert frames(c.feed_datagram(TEXT2)) == [TEXT2]
    assert frames(c.feed(TEXT[10:])) == [TEXT]


def test_bad_frame_does_not_cost_its_neighbours() -> None:
    c = codec()
    out = c.feed(TEXT + b"*HQ,1,V1,bad#" + TEXT2)
    assert [type(item) for item in out] == [Decoded, DecodeError, Decoded]
    assert c.stats.errors == 1
    assert c.stats.messages == 2
