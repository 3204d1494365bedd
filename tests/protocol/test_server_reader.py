"""What a server sends a device, read by the codec (``Codec.server_reader``): the relay's way
of telling an upstream's replies from its commands, with each protocol's own framing."""

from __future__ import annotations

import pytest

from custom_components.sinotrack.protocol import DecodeError, H02Codec, Jt808Codec, ServerMessage

TID = "4106011660"
H02_STREAM = (
    f"*HQ,{TID},V4,V1,20261123120000#"  # time sync: a reply
    f"*HQ,{TID},R12,120000#"  # R12: a reply
    f"*HQ,{TID},S20,120000,1,1#"  # engine cut
    f"*HQ,{TID},S20,120000,1,0#"  # restore (classic)
    f"*HQ,{TID},S20,120000,1,3,10,3,5#"  # an older cut form: still a cut
    f"*HQ,{TID},D1,120000,30#"
).encode()


def _messages(items: list[ServerMessage | DecodeError]) -> list[tuple[str, bool, bool]]:
    assert all(isinstance(i, ServerMessage) for i in items), items
    return [(i.name, i.reply, i.engine_stop) for i in items if isinstance(i, ServerMessage)]


@pytest.mark.parametrize("size", [1, 2, 5, 13, len(H02_STREAM)])
def test_h02_frames_in_any_chunking(size: int) -> None:
    reader = H02Codec().server_reader()
    items: list[ServerMessage | DecodeError] = []
    for k in range(0, len(H02_STREAM), size):
        items += reader.feed(H02_STREAM[k : k + size])
    assert _messages(items) == [
        ("V4", True, False),
        ("R12", True, False),
        ("S20", False, True),
        ("S20", False, False),
        ("S20", False, True),
        ("D1", False, False),
    ]
    assert b"".join(i.raw for i in items if isinstance(i, ServerMessage)) == H02_STREAM
    assert {i.device_id for i in items if isinstance(i, ServerMessage)} == {TID}


@pytest.mark.parametrize(
    "frame",
    [
        b"*HQ,41060x1660,D1,120000,30#",  # not a device ID
        b"*HQ,4106011660#",  # no command word
        b"*HQ,4106011660,D\x01,1#",  # not printable
        b"*HQ,4106011660,D1,\xff#",
        b"*HQ,4106011660,,120000#",  # an empty command word
        b"*HQ,4106011660,S-20,120000#",  # a command word is letters and digits
        b"*HQ,4106011660,D1," + b"1" * 600 + b"#",  # longer than a server's frame can be
    ],
)
def test_h02_refuses_what_is_not_a_server_frame(frame: bytes) -> None:
    items = H02Codec().server_reader().feed_datagram(frame)
    assert items
    assert all(isinstance(i, DecodeError) for i in items)


def test_h02_buffer_is_bounded() -> None:
    reader = H02Codec().server_reader()
    items = reader.feed(b"*HQ," + b"1" * 10_000)
    assert any(isinstance(i, DecodeError) for i in items)
    assert reader.stats.overflows == 1


def test_jt808_replies_commands_and_cuts() -> None:
    general = bytes.fromhex("7e8001000501234567890000000000010200007e")
    general = general[:-2] + bytes([_xor(general[1:-2])]) + b"\x7e"
    cut = bytes.fromhex("7e810500010b3a73ce2ff20000f0247e")
    resume = bytes.fromhex("7e810500010b3a73ce2ff20000f1257e")
    query = bytes.fromhex("7e8201000001234567890000010b7e")
    stream = general + cut + resume + query
    reader = Jt808Codec().server_reader()
    items: list[ServerMessage | DecodeError] = []
    for k in range(0, len(stream), 3):
        items += reader.feed(stream[k : k + 3])
    assert _messages(items) == [
        ("0x8001", True, False),
        ("0x8105", False, True),
        ("0x8105", False, False),
        ("0x8201", False, False),
    ]
    assert [i.raw for i in items if isinstance(i, ServerMessage)] == [general, cut, resume, query]


def test_jt808_refuses_terminal_messages_and_bad_checksums() -> None:
    position_from_a_terminal = bytes.fromhex("7e0002000001234567890000010b7e")
    position_from_a_terminal = (
        position_from_a_terminal[:-2] + bytes([_xor(position_from_a_terminal[1:-2])]) + b"\x7e"
    )
    bad = bytes.fromhex("7e8201000001234567890000010c7e")
    items = Jt808Codec().server_reader().feed_datagram(position_from_a_terminal + bad)
    assert len(items) == 2
    assert all(isinstance(i, DecodeError) for i in items)


def _xor(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value
