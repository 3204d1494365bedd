"""JT/T 808 codec rules: framing, sessions, identity, sub-packages, replies, commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from jt808_helpers import (
    NOW,
    PHONE,
    Clock,
    codec,
    frame,
    location_body,
    messages,
    one,
    parse_reply,
)

from custom_components.sinotrack.protocol.detect import codec_for, detect
from custom_components.sinotrack.protocol.jt808 import (
    MAX_PARTS,
    MAX_PENDING,
    MAX_REASSEMBLY,
    Jt808Codec,
    build_frame,
)
from custom_components.sinotrack.protocol.jt808 import decode as dec
from custom_components.sinotrack.protocol.jt808.identity import luhn, terminal_id
from custom_components.sinotrack.protocol.model import (
    Alarm,
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    DecodeError,
    DeviceIdentity,
    Heartbeat,
    Position,
    ProtocolError,
)

HEARTBEAT = frame(0x0002, b"", serial=5)
LOCATION = frame(0x0200, location_body(), serial=7)


def _position(item: Decoded | DecodeError) -> Position:
    assert isinstance(item, Decoded), item
    assert isinstance(item.message, Position), item.message
    return item.message


# --- framing ---------------------------------------------------------------------------------


def test_location_fields() -> None:
    body = location_body(
        alarm=(1 << 0) | (1 << 8) | (1 << 28),
        status=0b1111 | (1 << 10),
        altitude=-5,
        items=bytes.fromhex("01040000007b") + bytes.fromhex("300117") + bytes.fromhex("310109"),
    )
    item = one(frame(0x0200, body, serial=7))
    position = _position(item)
    assert position.device_id == "12345678900"
    assert position.message_type == "0x0200"
    assert position.fix_time == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert (position.latitude, position.longitude) == (-22.641605, -114.032486)
    assert (position.speed_kmh, position.course, position.altitude_m) == (45.6, 90.0, -5.0)
    assert position.valid is True
    assert position.flags.ignition is True
    assert position.flags.immobilizer_engaged is True
    assert position.flags.external_power_cut is True
    assert position.alarms == {Alarm.SOS, Alarm.POWER_CUT, Alarm.MOVEMENT}
    assert (position.odometer_km, position.signal, position.satellites) == (12.3, 23, 9)
    assert position.extras == ()
    reply = parse_reply(item.reply or b"")
    assert reply["id"] == 0x8001
    assert reply["body"] == bytes.fromhex("0007020000")
    assert reply["phone"] == PHONE


def test_time_zone_offset_and_bad_time() -> None:
    utc = _position(one(LOCATION, tz_offset_hours=0))
    assert utc.fix_time == datetime(2024, 5, 6, 15, 8, 9, tzinfo=UTC)
    assert utc.warnings == ()
    for bcd in ("000000000000", "24023012ff00", "240506240000"):
        position = _position(one(frame(0x0200, location_body(time=bcd))))
        assert position.fix_time is None
        assert position.warnings == (f"impossible fix time {bcd}",)
        assert position.latitude == pytest.approx(22.641605)  # the rest of the report stays
    with pytest.raises(ValueError, match="offset"):
        Jt808Codec(tz_offset_hours=15)


def test_unknown_and_vendor_items() -> None:
    items = (
        bytes.fromhex("2a020000")
        + bytes.fromhex("e3060064019a0000")
        + bytes.fromhex("f10400002ee0")
    )
    position = _position(one(frame(0x0200, location_body(items=items))))
    assert position.extras == ("0x2A=0000",)
    assert (position.battery_percent, position.battery_voltage) == (100, 4.1)
    assert position.power_voltage == 12.0


@pytest.mark.parametrize("items", ["300117" + "3109aabb", "30011731", "01040000"])
def test_items_overrunning_the_body_are_refused(items: str) -> None:
    """An item claiming more bytes than the body has (or a stray byte): never a position."""
    c = codec()
    out = c.feed(frame(0x0200, location_body(items=bytes.fromhex(items))) + HEARTBEAT)
    assert [type(item) for item in out] == [DecodeError, Decoded]  # the next frame stays
    assert isinstance(out[0], DecodeError)
    assert "run past the body" in out[0].reason
    assert c.stats.errors == 1


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [
        (90_000_000, 180_000_000, True),
        (90_000_001, 0, False),
        (0, 180_000_001, False),
        (0xFFFFFFFF, 0xFFFFFFFF, False),
    ],
)
def test_coordinates_off_the_globe_are_refused(lat: int, lon: int, ok: bool) -> None:
    out = codec().feed(frame(0x0200, location_body(status=0b1111, lat=lat, lon=lon)))
    if ok:
        position = _position(out[0])
        assert (position.latitude, position.longitude) == (-90.0, -180.0)
    else:
        assert [type(item) for item in out] == [DecodeError]
        assert "impossible coordinates" in out[0].reason  # type: ignore[union-attr]


def test_coordinates_rounded_at_decode() -> None:
    """Whatever the raw value, a coordinate carries no more than the protocol's 1e-6 degree."""
    for raw in range(1, 90_000_000, 999_983):
        position = _position(one(frame(0x0200, location_body(lat=raw, lon=2 * raw))))
        assert position.latitude == round(raw / 1e6, 6)
        assert repr(position.latitude) == repr(round(position.latitude, 6))
        assert position.longitude == round(2 * raw / 1e6, 6)


@pytest.mark.parametrize(
    ("item", "battery", "extras"),
    [("e4020164", 100, ()), ("e4020032", 50, ()), ("e403016455", None, ("0xE4=016455",))],
)
def test_vendor_battery_item_e4_needs_two_bytes(
    item: str, battery: int | None, extras: tuple[str, ...]
) -> None:
    position = _position(one(frame(0x0200, location_body(items=bytes.fromhex(item)))))
    assert position.battery_percent == battery
    assert position.extras == extras


def test_escaping_round_trip() -> None:
    """0x7E and 0x7D inside header, body and checksum travel escaped and come back intact."""
    body = location_body(lat=0x007E7D7E, items=bytes.fromhex("f6027e7d"))
    data = build_frame(0x0200, body, bytes.fromhex("007e7d7e7d00"), None, 0x7D7E)  # binary ID
    assert data.count(0x7E) == 2
    c = codec()
    (item,) = c.feed(data)
    assert isinstance(item, Decoded)
    position = _position(item)
    assert position.latitude == 8.289662  # 0x007E7D7E
    assert position.extras == ("0xF6=7e7d",)
    assert parse_reply(item.reply or b"")["body"][:2] == b"\x7d\x7e"
    assert c.stats.checksum_errors == 0


def test_escaped_checksum() -> None:
    data = bytes.fromhex("7e00020000040021679287002b7d027e")  # checksum 0x7E itself escaped
    c = codec()
    assert isinstance(one(data).message, Heartbeat)
    c.feed(data)
    assert c.stats.checksum_errors == 0


@pytest.mark.parametrize("bad", ["7d03", "7d7d", "7d00"])
def test_bad_escape_costs_only_that_frame(bad: str) -> None:
    broken = bytes.fromhex("7e0002000001234567890000" + bad + "0a7e")
    c = codec()
    out = c.feed(LOCATION + broken + HEARTBEAT)
    assert [type(item) for item in out] == [Decoded, DecodeError, Decoded]
    assert isinstance(out[1], DecodeError)
    assert "escape" in out[1].reason
    assert c.stats.errors == 1
    assert c.stats.messages == 2


def test_escape_at_frame_end() -> None:
    out = codec().feed(bytes.fromhex("7e00020000012345678900000a7d7e") + HEARTBEAT)
    assert [type(item) for item in out] == [DecodeError, Decoded]


def _bad_checksum(data: bytes) -> bytes:
    broken = bytearray(data)
    broken[-2] ^= 0x01
    return bytes(broken)


@pytest.mark.parametrize("message_id", [0x0200, 0x0002, 0x0100, 0x0001, 0x4321])
def test_bad_checksum_refused_by_default(message_id: int) -> None:
    body = location_body() if message_id == 0x0200 else bytes(40)
    c = codec()
    out = c.feed(_bad_checksum(frame(message_id, body)) + HEARTBEAT)
    assert [type(item) for item in out] == [DecodeError, Decoded]  # the next frame stays
    assert isinstance(out[0], DecodeError)
    assert out[0].reason == f"bad checksum (message 0x{message_id:04X})"
    assert (c.stats.errors, c.stats.checksum_errors, c.stats.messages) == (1, 1, 1)


def test_bad_checksum_tolerated_is_counted_and_flagged() -> None:
    c = codec(tolerate_bad_checksum=True)
    (item,) = c.feed(_bad_checksum(LOCATION))
    assert isinstance(item, Decoded)
    position = _position(item)
    assert position.latitude == pytest.approx(22.641605)
    assert position.warnings == ("bad checksum (accepted: tolerate_bad_checksum)",)
    assert item.reply is not None
    assert (c.stats.checksum_errors, c.stats.errors) == (1, 0)
    (clean,) = c.feed(LOCATION)
    assert _position(clean).warnings == ()
    assert c.stats.checksum_errors == 1


def test_bad_checksum_on_unknown_id_is_refused_even_when_tolerated() -> None:
    c = codec(tolerate_bad_checksum=True)
    (item,) = c.feed(_bad_checksum(frame(0x4321, b"abc")))
    assert isinstance(item, DecodeError)
    assert c.device_id is None  # junk does not name a device


def _with_attr(data: bytes, change: Callable[[int], int]) -> bytes:
    """An unescaped frame with its attribute word changed (checksum recomputed)."""
    content = bytearray(data[1:-2])
    content[2:4] = change(int.from_bytes(content[2:4])).to_bytes(2)
    check = 0
    for byte in content:
        check ^= byte
    return b"\x7e" + bytes(content) + bytes((check,)) + b"\x7e"


def _with_length_field(data: bytes, length: int) -> bytes:
    """A frame whose body-length field says ``length``."""
    return _with_attr(data, lambda attr: (attr & ~0x3FF) | length)


@pytest.mark.parametrize("tolerate", [False, True])
@pytest.mark.parametrize("length", [0x03FF, 30, 32])
def test_length_field_mismatch_is_refused(length: int, tolerate: bool) -> None:
    good = frame(0x0200, location_body(items=bytes.fromhex("300117")))  # a 31-byte body
    c = codec(tolerate_bad_checksum=tolerate)
    out = c.feed(_with_length_field(good, length) + HEARTBEAT)
    assert [type(item) for item in out] == [DecodeError, Decoded]
    assert isinstance(out[0], DecodeError)
    assert out[0].reason == f"body-length field {length}, body 31 bytes (message 0x0200)"
    assert (c.stats.errors, c.stats.length_errors, c.stats.checksum_errors) == (1, 1, 0)
    assert isinstance(one(_with_length_field(good, 31)).message, Position)


def test_2019_bit_on_a_2013_header() -> None:
    """Bit 14 set, but the length fits only the 2013 header: a 2013 frame, answered as one."""
    flagged = _with_attr(frame(0x0200, location_body(), serial=3), lambda attr: attr | 0x4000)
    c = codec()
    (item,) = c.feed(flagged)
    assert _position(item).latitude == pytest.approx(22.641605)
    assert c.edition == "2013"
    assert c.device_id == "12345678900"
    reply = parse_reply(item.reply or b"")
    assert (reply["version"], reply["phone"]) == (None, PHONE)
    # A real 2019 frame (its length fits the 17-byte header) stays 2019.
    c.feed(frame(0x0002, b"", phone=bytes.fromhex("00000000012345678900"), version=1))
    assert c.edition == "2019"


def test_unknown_message_is_harmless() -> None:
    item = one(frame(0x0F0F, b"\x01\x02"))
    assert item.message == Heartbeat("jt808", "12345678900", "0x0F0F")
    assert item.reply is None


@pytest.mark.parametrize("message_id", [0x0210, 0x1007, 0x0900, 0x0107])
def test_general_reply_for_vendor_and_data_messages(message_id: int) -> None:
    body = b"\x41hello" if message_id == 0x0900 else bytes(80)
    item = one(frame(message_id, body, serial=9))
    assert (
        parse_reply(item.reply or b"")["body"]
        == bytes.fromhex("0009") + message_id.to_bytes(2) + b"\x00"
    )


def test_time_request_gets_utc() -> None:
    item = one(frame(0x0109, b""))
    reply = parse_reply(item.reply or b"")
    assert reply["id"] == 0x8109
    assert reply["body"] == bytes.fromhex("07e8050607080900")


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    c = codec()
    out = c.feed(b"hello" + LOCATION + b"\r\n\x00" + HEARTBEAT + b"xx")
    assert [type(item.message) for item in out if isinstance(item, Decoded)] == [
        Position,
        Heartbeat,
    ]
    assert c.stats.bytes_skipped == 10
    assert c.buffered == 0


def test_joined_mid_frame_resynchronises() -> None:
    """A connection picked up inside a frame: its tail and closing flag are skipped."""
    c = codec()
    out = c.feed(LOCATION[20:] + HEARTBEAT)
    assert [type(item) for item in out] == [Decoded]
    assert isinstance(out[0], Decoded)
    assert isinstance(out[0].message, Heartbeat)


def test_junk_with_a_flag_does_not_eat_the_next_frame() -> None:
    out = codec().feed(b"\x7ejunk" + HEARTBEAT)
    assert [type(item) for item in out] == [DecodeError, Decoded]


def test_split_anywhere() -> None:
    stream = LOCATION + HEARTBEAT
    for cut in range(len(stream) + 1):
        c = codec()
        out = c.feed(stream[:cut]) + c.feed(stream[cut:])
        assert [type(item) for item in out] == [Decoded, Decoded], cut
        assert c.buffered == 0


def test_buffer_cap() -> None:
    c = codec(max_buffer=64)
    out = c.feed(b"\x7e" + bytes(100))
    assert [type(item) for item in out] == [DecodeError]
    assert c.stats.overflows == 1
    assert c.buffered == 0
    assert len(c.feed(HEARTBEAT)) == 1
    big = codec(max_buffer=64)
    assert big.feed(b"\x7e" + bytes(40)) == []
    assert big.buffered == 41


def test_datagram_with_several_frames() -> None:
    c = codec()
    out = c.feed_datagram(LOCATION + HEARTBEAT + HEARTBEAT[:5])
    assert [type(item) for item in out] == [Decoded, Decoded, DecodeError]
    assert c.buffered == 0


def test_flush() -> None:
    c = codec()
    assert c.feed(HEARTBEAT[:-1]) == []
    assert c.buffered == len(HEARTBEAT) - 1
    (error,) = c.flush()
    assert isinstance(error, DecodeError)
    assert c.flush() == []


# --- sessions and identity -------------------------------------------------------------------


def test_platform_serial_increments_per_session() -> None:
    c = codec()
    out = c.feed(LOCATION + HEARTBEAT + LOCATION)
    serials = [
        parse_reply(item.reply or b"")["serial"] for item in out if isinstance(item, Decoded)
    ]
    assert serials == [0, 1, 2]
    command = c.encode("12345678900", Command(CommandKind.REBOOT), NOW)
    assert command.tag == "3"
    assert parse_reply(command.data)["serial"] == 3
    assert parse_reply(codec().feed(HEARTBEAT)[0].reply or b"")["serial"] == 0  # type: ignore[union-attr]


def test_register_then_authenticate() -> None:
    register = frame(0x0100, bytes(4) + b"SINO\0" + b"ST-901A".ljust(20, b"\0") + b"1234567\0")
    c = codec()
    (item,) = c.feed(register)
    assert isinstance(item, Decoded)
    assert item.message == DeviceIdentity(
        "jt808", "12345678900", "0x0100", text="maker=SINO, terminal_id=1234567", model="ST-901A"
    )
    reply = parse_reply(item.reply or b"")
    assert reply["id"] == 0x8100
    assert reply["body"] == b"\x00\x01\x00" + b"012345678900"
    (auth,) = c.feed(frame(0x0102, b"012345678900", serial=2))
    assert isinstance(auth, Decoded)
    assert auth.message == DeviceIdentity(
        "jt808", "12345678900", "0x0102", text="auth code 012345678900"
    )
    assert parse_reply(auth.reply or b"")["body"] == bytes.fromhex("0002010200")


def test_2019_header_and_authentication() -> None:
    phone = bytes.fromhex("00000868628074866293")
    body = b"\x03abc" + b"868628074866293" + b"V1.2.3".ljust(20, b"\0")
    c = codec()
    (item,) = c.feed(frame(0x0102, body, phone=phone, version=1, serial=3))
    assert isinstance(item, Decoded)
    assert item.message == DeviceIdentity(
        "jt808",
        "868628074866293",
        "0x0102",
        text="auth code abc",
        firmware="V1.2.3",
        imei="868628074866293",
    )
    reply = parse_reply(item.reply or b"")
    assert (reply["id"], reply["version"], reply["phone"]) == (0x8001, 1, phone)
    assert c.edition == "2019"
    command = c.encode("868628074866293", Command(CommandKind.REQUEST_POSITION), NOW)
    parsed = parse_reply(command.data)
    assert (parsed["id"], parsed["version"], parsed["phone"]) == (0x8201, 1, phone)


def test_one_identity_across_editions() -> None:
    a = one(frame(0x0002, b"", phone=bytes.fromhex("013912345678")))
    b = one(frame(0x0002, b"", phone=bytes.fromhex("00000000013912345678"), version=1))
    assert a.message.device_id == b.message.device_id == "13912345678"


def test_binary_terminal_id_is_an_imei() -> None:
    assert terminal_id(bytes.fromhex("4f07788ef676")) == ("868935060005020", "868935060005020")
    assert terminal_id(bytes.fromhex("0b3a73ce2ff2")) == ("123456789012347", "123456789012347")
    assert terminal_id(bytes.fromhex("00000000000a")) == ("000000000000109", "109")
    assert terminal_id(bytes.fromhex("013912345678")) == ("013912345678", "13912345678")
    assert luhn("86893506000502") == 0
    assert luhn("12345678901234") == 7


@pytest.mark.parametrize(
    ("id_bytes", "reason"),
    [
        ("5af3107a4000", "more than 14 digits"),  # 10**14
        ("ffffffffffff", "more than 14 digits"),
        ("0000000008664960775a", "10 bytes is not BCD"),
        ("ffffffffffffffffffff", "10 bytes is not BCD"),
    ],
)
def test_terminal_id_that_names_nothing(id_bytes: str, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        terminal_id(bytes.fromhex(id_bytes))
    version = 1 if len(id_bytes) == 20 else None
    c = codec()
    bad = frame(0x0200, location_body(), phone=bytes.fromhex(id_bytes), version=version)
    (error,) = c.feed(bad)
    assert isinstance(error, DecodeError)
    assert reason in error.reason
    assert c.device_id is None
    assert c.stats.errors == 1
    # The session keeps the identity it had: a bad frame does not rename it.
    c.feed(HEARTBEAT)
    c.feed(bad)
    assert c.device_id == "12345678900"


def test_2019_authentication_imei_must_be_digits() -> None:
    phone = bytes(10)
    imei = b"8686280748662\xa3\xb1"  # 15 bytes: GBK text ending in a fullwidth "1"
    body = b"\x03abc" + imei + b"V1".ljust(20, b"\0")
    c = codec()
    (item,) = c.feed(frame(0x0102, body, phone=phone, version=1))
    assert isinstance(item, Decoded)
    assert item.message.device_id == "0"
    assert isinstance(item.message, DeviceIdentity)
    assert item.message.imei is None
    assert c.imei is None


def test_all_zero_id_takes_the_imei_item() -> None:
    zero = bytes(6)
    c = codec()
    (before,) = c.feed(frame(0x0002, b"", phone=zero))
    assert before.message.device_id == "0"  # type: ignore[union-attr]
    imei_item = bytes.fromhex("f6080865413057160185")
    (item,) = c.feed(frame(0x0200, location_body(items=imei_item), phone=zero))
    assert isinstance(item, Decoded)
    position = _position(item)
    assert position.device_id == "865413057160185"
    assert "imei=865413057160185" in position.extras
    assert parse_reply(item.reply or b"")["phone"] == zero
    (after,) = c.feed(frame(0x0002, b"", phone=zero))
    assert after.message.device_id == "865413057160185"  # type: ignore[union-attr]
    assert c.device_id == c.imei == "865413057160185"
    command = c.encode("865413057160185", Command(CommandKind.ENGINE_STOP), NOW)
    assert parse_reply(command.data)["phone"] == zero


def test_imei_item_does_not_rename_a_numbered_device() -> None:
    imei_item = bytes.fromhex("f6080865413057160185")
    position = _position(one(frame(0x0200, location_body(items=imei_item))))
    assert position.device_id == "12345678900"


def test_heartbeat_vendor_bytes() -> None:
    message = one(frame(0x0002, b"\x55\x14")).message
    assert isinstance(message, Heartbeat)
    assert (message.battery_percent, message.signal) == (85, 20)


def test_logout() -> None:
    item = one(frame(0x0003, b""))
    assert item.message == Heartbeat("jt808", "12345678900", "0x0003")
    assert parse_reply(item.reply or b"")["body"] == bytes.fromhex("0001000300")


def test_stored_batch() -> None:
    body = location_body()
    batch = (2).to_bytes(2) + b"\x01" + (len(body).to_bytes(2) + body) * 2
    out = messages(frame(0x0704, batch))
    assert [_position(item).stored for item in out] == [True, True]
    assert [item.reply is not None for item in out] == [True, False]


def test_truncated_batch_is_refused_whole() -> None:
    body = location_body()
    batch = (3).to_bytes(2) + b"\x00" + len(body).to_bytes(2) + body + (99).to_bytes(2) + b"x"
    c = codec()
    out = c.feed(frame(0x0704, batch))
    assert [type(item) for item in out] == [DecodeError]
    assert "runs past the body" in out[0].reason  # type: ignore[union-attr]
    assert c.stats.messages == 0


def test_batch_item_with_impossible_values_costs_only_that_item() -> None:
    good, bad = location_body(), location_body(lon=200_000_000)
    batch = (3).to_bytes(2) + b"\x01"
    for body in (good, bad, good):
        batch += len(body).to_bytes(2) + body
    c = codec()
    out = c.feed(frame(0x0704, batch, serial=4))
    assert [type(item) for item in out] == [Decoded, DecodeError, Decoded]
    assert "0x0704 item 2: impossible coordinates" in out[1].reason  # type: ignore[union-attr]
    assert [item.reply is not None for item in out if isinstance(item, Decoded)] == [True, False]
    assert all(_position(item).stored for item in out if isinstance(item, Decoded))


def test_empty_batch_is_answered() -> None:
    item = one(frame(0x0704, bytes(3), serial=6))
    assert item.message == Heartbeat("jt808", "12345678900", "0x0704")
    assert parse_reply(item.reply or b"")["body"] == bytes.fromhex("0006070400")


def test_short_location_is_an_error() -> None:
    (error,) = codec().feed(frame(0x0200, bytes(20)))
    assert isinstance(error, DecodeError)
    assert "28" in error.reason


# --- sub-packages ----------------------------------------------------------------------------


def _packet(message_id: int, chunk: bytes, serial: int, total: int, index: int) -> bytes:
    """One sub-package (header bit13 with total and index), built by hand."""
    content = (
        message_id.to_bytes(2)
        + (len(chunk) | 0x2000).to_bytes(2)
        + PHONE
        + serial.to_bytes(2)
        + total.to_bytes(2)
        + index.to_bytes(2)
        + chunk
    )
    check = 0
    for byte in content:
        check ^= byte
    data = content + bytes((check,))
    return b"\x7e" + data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02") + b"\x7e"


def _parts(message_id: int, body: bytes, sizes: list[int], first: int = 40) -> list[bytes]:
    frames, pos = [], 0
    for index, size in enumerate(sizes, start=1):
        frames.append(
            _packet(message_id, body[pos : pos + size], first + index - 1, len(sizes), index)
        )
        pos += size
    return frames


def test_sub_packages_reassembled_in_any_order() -> None:
    body = location_body(items=bytes.fromhex("300117"))
    parts = _parts(0x0200, body, [10, 10, len(body) - 20])
    c = codec()
    out = c.feed(parts[2] + parts[0])
    assert [type(item.message) for item in out if isinstance(item, Decoded)] == [Heartbeat] * 2
    replies = [parse_reply(item.reply or b"")["body"] for item in out if isinstance(item, Decoded)]
    assert replies == [bytes.fromhex("002a020000"), bytes.fromhex("0028020000")]
    (item,) = c.feed(parts[1])
    assert isinstance(item, Decoded)
    position = _position(item)
    assert position.signal == 23
    assert parse_reply(item.reply or b"")["body"] == bytes.fromhex("0029020000")
    assert c.feed(parts[1]) != []  # a repeat starts afresh, it does not re-emit


@pytest.mark.parametrize(("total", "index"), [(2, 3), (2, 0), (0, 0), (MAX_PARTS + 1, 1)])
def test_sub_package_bounds(total: int, index: int) -> None:
    c = codec()
    (error,) = c.feed(_packet(0x0200, bytes(10), 5, total, index))
    assert isinstance(error, DecodeError)
    assert "sub-package" in error.reason


def test_sub_package_size_limit() -> None:
    c = codec()
    chunk = bytes(1000)
    out: list[Decoded | DecodeError] = []
    for index in range(1, MAX_REASSEMBLY // 1000 + 2):
        out += c.feed(_packet(0x0200, chunk, index, MAX_PARTS, index))
    assert isinstance(out[-1], DecodeError)
    assert "too large" in out[-1].reason
    assert sum(isinstance(item, DecodeError) for item in out) == 1


def test_sub_package_pending_limits_and_age() -> None:
    clock = Clock()
    c = codec(clock=clock)
    body = location_body()
    groups = [_parts(0x0200, body, [14, 14], first=100 * k) for k in range(MAX_PENDING + 1)]
    for parts in groups:
        c.feed(parts[0])
    # The oldest gave way: its second half completes nothing.
    assert [type(item.message) for item in c.feed(groups[0][1])] == [Heartbeat]  # type: ignore[union-attr]
    assert isinstance(c.feed(groups[-1][1])[0].message, Position)  # type: ignore[union-attr]
    late = _parts(0x0200, body, [14, 14], first=900)
    c.feed(late[0])
    clock.advance(600)
    assert isinstance(c.feed(late[1])[0].message, Heartbeat)  # type: ignore[union-attr]


def test_single_packet_sub_package() -> None:
    (frame_,) = _parts(0x0200, location_body(), [28])
    assert isinstance(one(frame_).message, Position)


# --- commands --------------------------------------------------------------------------------


SERIAL_1 = [
    (
        Command(CommandKind.SET_INTERVAL, interval_s=30),
        "7e8103000a01234567890000010100000029040000001e327e",
    ),
    (Command(CommandKind.REQUEST_POSITION), "7e8201000001234567890000010b7e"),
    (Command(CommandKind.REBOOT), "7e81050001012345678900000104097e"),
    (Command(CommandKind.RAW, text="8104"), "7e8104000001234567890000010d7e"),
    (
        Command(CommandKind.RAW, text="8202:000a 0000012c"),
        "7e820200060123456789000001000a0000012c297e",
    ),
    (Command(CommandKind.RAW, text="8202:0000"), "7e82020002012345678900000100000a7e"),
    (Command(CommandKind.RAW, text="8500:01"), "7e850000010123456789000001010d7e"),
    (Command(CommandKind.RAW, text="8500:00"), "7e850000010123456789000001000c7e"),
    (
        Command(CommandKind.RAW, text="8300:0848454c4c4f"),
        "7e8300000601234567890000010848454c4c4f477e",
    ),
    (
        Command(CommandKind.RAW, text="8103:02 00000029 04 0000001e 00000027 04 00000258"),
        "7e8103001301234567890000010200000029040000001e000000270400000258517e",
    ),
]


@pytest.mark.parametrize(("command", "expected"), SERIAL_1)
def test_derived_command_vectors(command: Command, expected: str) -> None:
    """§7.2: phone 012345678900, platform serial 1."""
    c = codec()
    c.encode("12345678900", Command(CommandKind.REQUEST_POSITION), NOW)  # serial 0
    encoded = c.encode("12345678900", command, NOW)
    assert encoded.data.hex() == expected
    assert encoded.name == "0x" + expected[2:6].upper()
    assert encoded.tag == "1"


def test_derived_reply_vectors() -> None:
    c = codec()
    c.encode("12345678900", Command(CommandKind.REQUEST_POSITION), NOW)  # serial 0
    (item,) = c.feed(LOCATION)
    assert item.reply == bytes.fromhex("7e8001000501234567890000010007020000097e")  # type: ignore[union-attr]
    c = codec()
    c.encode("12345678900", Command(CommandKind.REQUEST_POSITION), NOW)
    (item,) = c.feed(frame(0x0100, bytes(33), serial=1))
    assert item.reply == bytes.fromhex(  # type: ignore[union-attr]
        "7e8100000f0123456789000001000100303132333435363738393030067e"
    )
    phone = bytes.fromhex("00000000012345678900")
    c = codec()
    c.encode("12345678900", Command(CommandKind.REQUEST_POSITION), NOW)
    (item,) = c.feed(frame(0x0200, location_body(), phone=phone, version=1, serial=7))
    assert item.reply == bytes.fromhex(  # type: ignore[union-attr]
        "7e80014005010000000001234567890000010007020000487e"
    )
    c = codec()
    c.feed(frame(0x0002, b"", phone=phone, version=1))  # the reply takes serial 0
    raw = c.encode("12345678900", Command(CommandKind.RAW, text="8500:0001 0001 01"), NOW)
    assert raw.data.hex() == "7e85004005010000000001234567890000010001000101487e"


def test_immobilizer_variants() -> None:
    c = codec()
    stop = c.encode("12345678900", Command(CommandKind.ENGINE_STOP, text="A006"), NOW)
    parsed = parse_reply(stop.data)
    assert parsed["id"] == 0xA006
    assert parsed["body"] == bytes.fromhex("01240506150809")  # device time, GMT+8
    assert stop.name == "0xA006"
    resume = c.encode("12345678900", Command(CommandKind.ENGINE_RESUME, text="ascii"), NOW)
    assert parse_reply(resume.data)["body"] == b"#0;0"
    w15l = c.encode("12345678900", Command(CommandKind.ENGINE_STOP, text="W15L"), NOW)
    assert parse_reply(w15l.data)["body"] == b"\x64"
    with pytest.raises(ProtocolError):
        c.encode("12345678900", Command(CommandKind.ENGINE_STOP, text="0x8500"), NOW)


@pytest.mark.parametrize(
    "command",
    [
        Command(CommandKind.ARM),
        Command(CommandKind.DISARM),
        Command(CommandKind.SET_INTERVAL),
        Command(CommandKind.SET_INTERVAL, interval_s=0),
        Command(CommandKind.RAW, text="81:05"),
        Command(CommandKind.RAW, text="8105:F"),
        Command(CommandKind.RAW, text=""),
        Command(CommandKind.RAW, text="7e 00 7e"),
        Command(CommandKind.RAW, text="7ezz7e"),
        Command(CommandKind.RAW, text="8300:" + "00" * 1024),
    ],
)
def test_command_errors(command: Command) -> None:
    with pytest.raises(ProtocolError):
        codec().encode("12345678900", command, NOW)


@pytest.mark.parametrize("device_id", ["", "12a", "1" * 21, "١٢٣"])
def test_bad_device_id(device_id: str) -> None:
    with pytest.raises(ProtocolError):
        codec().encode(device_id, Command(CommandKind.REBOOT), NOW)


def test_encode_for_a_long_id_before_any_frame() -> None:
    parsed = parse_reply(codec().encode("1234567890123456", Command(CommandKind.REBOOT), NOW).data)
    assert (parsed["version"], parsed["phone"]) == (1, bytes.fromhex("00001234567890123456"))


def test_ack_matching() -> None:
    c = codec()
    c.feed(HEARTBEAT)
    stop = c.encode("12345678900", Command(CommandKind.ENGINE_STOP), NOW)
    assert stop.tag == "1"
    ack_body = int(stop.tag).to_bytes(2) + (0x8105).to_bytes(2) + b"\x00"
    (item,) = c.feed(frame(0x0001, ack_body, serial=6))
    assert isinstance(item, Decoded)
    ack = item.message
    assert isinstance(ack, CommandAck)
    assert ack == CommandAck("jt808", "12345678900", "0x8105", "1", "0", True)
    assert item.reply is None
    assert c.matches(stop, ack)
    query = c.encode("12345678900", Command(CommandKind.REQUEST_POSITION), NOW)
    assert not c.matches(query, ack)
    answer_body = int(query.tag or "0").to_bytes(2) + location_body()
    (answer,) = c.feed(frame(0x0201, answer_body, serial=7))
    message = answer.message  # type: ignore[union-attr]
    assert isinstance(message, CommandAck)
    assert message.position is not None
    assert message.position.message_type == "0x0201"
    assert c.matches(query, message)
    assert not c.matches(stop, message)
    failed = frame(0x0001, int(stop.tag).to_bytes(2) + (0x8105).to_bytes(2) + b"\x03")
    (nack,) = c.feed(failed)
    assert nack.message.success is False  # type: ignore[union-attr]
    assert nack.message.result == "3"  # type: ignore[union-attr]
    other_serial = CommandAck("jt808", "12345678900", "0x8105", "99", "0", True)
    assert not c.matches(stop, other_serial)
    assert not c.matches(stop, CommandAck("h02", "12345678900", "0x8105", "1"))


# --- detection and the CLI -------------------------------------------------------------------


def test_detection() -> None:
    assert detect(b"\x7e\x02\x00") is Jt808Codec
    fresh = codec_for(b"\x7e", max_buffer=1000)
    assert isinstance(fresh, Jt808Codec)
    assert fresh.max_buffer == 1000


def test_cli_line() -> None:
    from custom_components.sinotrack.protocol.cli import decode_line

    (line,) = decode_line(1, LOCATION.hex().encode(), hex_input=True)
    assert json.loads(json.dumps(line))["protocol"] == "jt808"
    assert line["type"] == "0x0200"
    assert line["device_id"] == "12345678900"
    assert line["fix_time"] == "2024-05-06T07:08:09Z"
    assert line["reply_hex"] == one(LOCATION).reply.hex()  # type: ignore[union-attr]


def test_all_zero_id_register_with_imei() -> None:
    body = bytes(4) + bytes(11) + b"MD300".ljust(30, b"\0") + b"866496077582164".ljust(30, b"\0")
    c = codec()
    (item,) = c.feed(frame(0x0100, body + b"\x00", phone=bytes(10), version=1))
    assert isinstance(item, Decoded)
    assert item.message.device_id == "866496077582164"
    assert c.device_id == "866496077582164"
    assert parse_reply(item.reply or b"")["body"] == b"\x00\x01\x00" + b"0" * 20


def test_time_zone_can_be_set_per_device() -> None:
    c = codec()
    assert c.tz_offset_hours == 8.0
    c.tz_offset_hours = -4.5
    (item,) = c.feed(LOCATION)
    assert _position(item).fix_time == datetime(2024, 5, 6, 19, 38, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        c.tz_offset_hours = -20


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (frame(0x0704, b"\x00\x01"), "0x0704 body of 2 bytes"),
        (frame(0x0201, b"\x00"), "0x0201 body of 1 bytes"),
        (_with_attr(LOCATION, lambda attr: attr | 0x0400), "encrypted body"),  # bit 10: RSA
    ],
)
def test_short_and_encrypted_bodies_are_refused(data: bytes, reason: str) -> None:
    c = codec()
    (error,) = c.feed(data)
    assert isinstance(error, DecodeError)
    assert reason in error.reason
    assert c.stats.errors == 1


def test_command_to_another_device_keeps_the_session_edition() -> None:
    c = codec()
    c.feed(frame(0x0002, b"", phone=bytes.fromhex("00000000012345678900"), version=1))
    parsed = parse_reply(c.encode("42", Command(CommandKind.REBOOT), NOW).data)
    assert (parsed["version"], parsed["phone"]) == (1, bytes.fromhex("00000000000000000042"))


# --- refused session bodies, rarer layouts and vendor items --------------------------------


@pytest.mark.parametrize(
    ("message_id", "body", "reason"),
    [
        (0x0001, b"\x00\x07\x02", "0x0001 body of 3 bytes, need 5"),
        (0x0104, b"\x00\x07", "0x0104 body of 2 bytes, need 3"),
        (0x0100, bytes(23), "0x0100 body of 23 bytes, need 24"),  # 2013, short model field
        (0x0107, bytes(43), "0x0107 body of 43 bytes, need 44"),
        (0x0900, b"", "empty 0x0900 body"),
    ],
)
def test_short_session_bodies_are_refused_and_the_next_frame_kept(
    message_id: int, body: bytes, reason: str
) -> None:
    c = codec()
    out = c.feed(frame(message_id, body, serial=3) + HEARTBEAT)
    assert [type(item) for item in out] == [DecodeError, Decoded]
    assert isinstance(out[0], DecodeError)
    assert out[0].reason == reason
    assert out[1].message == Heartbeat("jt808", "12345678900", "0x0002")
    assert (c.stats.errors, c.stats.messages) == (1, 1)


def test_parameter_answer_counting_more_than_it_carries() -> None:
    """0x0104 claiming 3 parameters with room for one: the one, and no read past the body."""
    param = (0x0029).to_bytes(4) + b"\x04" + (30).to_bytes(4)
    message = one(frame(0x0104, (9).to_bytes(2) + b"\x03" + param + b"\x00\x01")).message
    assert message == CommandAck(
        "jt808", "12345678900", "0x8104", "9", "0", True, params=("0x0029=0000001e",)
    )


def test_register_text_that_is_not_gbk_is_shown_as_hex() -> None:
    maker = b"\xff\xfe\x00\x00\x00"  # 0xFF starts no GBK character
    plate = "粤B12345".encode("gbk")
    body = bytes(4) + maker + b"ST-901A".ljust(20, b"\0") + b"1234567" + b"\x01" + plate
    message = one(frame(0x0100, body)).message
    assert message == DeviceIdentity(
        "jt808",
        "12345678900",
        "0x0100",
        text="maker=hex:fffe000000, terminal_id=1234567, plate=粤B12345",
        model="ST-901A",
    )


@pytest.mark.parametrize(
    ("tail", "text", "firmware"),
    [
        (b"", "maker=SINO", None),  # neither hardware nor firmware version
        (b"\x04HW01", "maker=SINO, hardware=HW01", None),  # hardware only
        (b"\x04HW01\x06V2.0.1", "maker=SINO, hardware=HW01", "V2.0.1"),
    ],
)
def test_attributes_with_optional_versions_missing(
    tail: bytes, text: str, firmware: str | None
) -> None:
    iccid = "89860012345678901234"
    body = b"\x00\x01" + b"SINO\0" + b"ST-901A".ljust(20, b"\0") + b"1234567" + bytes.fromhex(iccid)
    message = one(frame(0x0107, body + tail)).message
    assert message == DeviceIdentity(
        "jt808",
        "12345678900",
        "0x0107",
        text=text,
        model="ST-901A",
        firmware=firmware,
        iccid=iccid,
    )


@pytest.mark.parametrize(
    ("item", "voltage", "percent"),
    [
        ("68021f40", None, 80),  # 0x68: battery in 1/100 %
        ("f70400000fa0", 4.0, None),  # 0xF7 without its percent byte
        ("f70600000fa0005a", 4.0, 90),
    ],
)
def test_vendor_battery_items(item: str, voltage: float | None, percent: int | None) -> None:
    position = _position(one(frame(0x0200, location_body(items=bytes.fromhex(item)))))
    assert (position.battery_voltage, position.battery_percent) == (voltage, percent)
    assert position.extras == ()  # fully taken: not kept raw


def test_identity_items_that_are_not_digits_name_nothing() -> None:
    """0xF8 with a non-BCD IMEI keeps its ICCID; 0xEB's IMEI sub-item must be text."""
    zero = bytes(6)
    iccid = "8986001234567890123f"
    f8 = "f813" + "01" + "08654130571601a5" + iccid
    eb_sub = "0006008900000000" + "000400d50102"  # status bits all low, IMEI not text
    eb = f"eb{len(eb_sub) // 2:02x}" + eb_sub
    c = codec()
    (item,) = c.feed(frame(0x0200, location_body(items=bytes.fromhex(f8 + eb)), phone=zero))
    position = _position(item)
    assert position.device_id == "0"  # no IMEI named the all-zero-ID device
    assert c.imei is None
    assert position.iccid == iccid.rstrip("f")
    assert position.alarms == {Alarm.POWER_CUT, Alarm.TAMPER}  # 0x0089 bits 0 and 12 low
    assert position.extras == ("0xF8=" + f8[4:], "0xEB=" + eb_sub)


def test_alarm_words_stay_right_past_the_alarm_cache_bound() -> None:
    """More distinct alarm words than the cache holds: bounded, and each decodes the same."""
    single = (  # one bit -> one alarm (§5)
        (0, Alarm.SOS),
        (1, Alarm.OVERSPEED),
        (2, Alarm.FATIGUE),
        (4, Alarm.FAULT),
        (7, Alarm.LOW_BATTERY),
        (8, Alarm.POWER_CUT),
        (15, Alarm.VIBRATION),
        (20, Alarm.GEOFENCE),
        (27, Alarm.ILLEGAL_IGNITION),
        (28, Alarm.MOVEMENT),
        (31, Alarm.DOOR),
    )
    c = codec()
    for _ in range(2):  # the second round after the cache was cleared at least once
        for combo in range(1, dec._CACHE_MAX + 100):
            word = sum(1 << bit for k, (bit, _) in enumerate(single) if combo >> k & 1)
            expected = {alarm for k, (_, alarm) in enumerate(single) if combo >> k & 1}
            (item,) = c.feed(frame(0x0200, location_body(alarm=word)))
            assert _position(item).alarms == expected, hex(word)
            assert len(dec._alarm_cache) <= dec._CACHE_MAX
    assert _position(one(LOCATION)).alarms == frozenset()
