"""Every vector of jt808_vectors.json: decoder, replies, framing and encoder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jt808_helpers import (
    NOW,
    REFERENCE_VECTORS,
    accepted,
    codec,
    frame_vectors,
    length_fits,
    load_vectors,
    parse_reply,
    rule_vectors,
    wire,
)

from custom_components.sinotrack.protocol.detect import detect
from custom_components.sinotrack.protocol.jt808 import Jt808Codec, escape, unescape
from custom_components.sinotrack.protocol.jt808 import decode as dec
from custom_components.sinotrack.protocol.jt808.codec import BAD_CHECKSUM, KNOWN
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
)

VECTORS = load_vectors()
FRAMES = frame_vectors()
RULES = rule_vectors()
# Positions decodable at all: a wrong length field is refused even with tolerate_bad_checksum.
LOCATIONS = [v for v in FRAMES if "latitude" in v["expect"] and length_fits(wire(v))]
BAD_CHECKSUMS = [v for v in FRAMES if not v["expect"]["checksum_valid"]]

TRACCAR_ALARMS = {
    "sos": Alarm.SOS,
    "overspeed": Alarm.OVERSPEED,
    "fatigueDriving": Alarm.FATIGUE,
    "fault": Alarm.FAULT,
    "gpsAntennaCut": Alarm.GPS_ANTENNA,
    "lowBattery": Alarm.LOW_BATTERY,
    "powerOff": Alarm.POWER_CUT,
    "vibration": Alarm.VIBRATION,
    "tampering": Alarm.TAMPER,
    "removing": Alarm.TAMPER,
    "geofence": Alarm.GEOFENCE,
    "movement": Alarm.MOVEMENT,
    "accident": Alarm.ACCIDENT,
}
# traccar_asserted keys and the Position field they are checked against.
TRACCAR_FIELDS = {
    "batteryLevel": "battery_percent",
    "battery": "battery_voltage",
    "power": "power_voltage",
    "sat": "satellites",
}
# Traccar values from model-specific branches or vendor items this codec keeps raw.
NOT_DECODED = {
    (80, "battery"),  # JC371: 0xE8 dashcam block
    (81, "alarm"),  # JC371: 0xE8 dashcam alarm code
    (78, "alarm"),  # MV710G: door from status bit 16, for that model only
    (79, "alarm"),  # AL300: alarm bit 16 is movement for that model (tamper otherwise)
    (55, "battery"),  # vendor text item 0x33 ("*M00,…")
}
NO_REPLY_KINDS = ("0x4401",)  # Jointech e-lock acks: not for these trackers


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [f"{v['index']}-{v['expect'].get('msg_id')}" for v in vectors]


def _expected_id(expect: dict[str, Any]) -> str:
    full = expect.get("traccar_unique_id_v6_14_x") or expect["traccar_unique_id"]
    return full.lstrip("0") or "0"


def _utc(bcd: str) -> datetime:
    local = datetime.strptime(bcd, "%y%m%d%H%M%S").replace(tzinfo=UTC)
    return local - timedelta(hours=8)


def _decode(
    vector: dict[str, Any], **kwargs: Any
) -> tuple[Jt808Codec, list[Decoded | DecodeError]]:
    c = codec(**kwargs)
    out = c.feed(wire(vector))
    assert c.buffered == 0
    return c, out + c.flush()


def _tolerant(vector: dict[str, Any]) -> dict[str, Any]:
    """Codec options for a reference vector: its bad checksum (a real capture) tolerated."""
    return {"tolerate_bad_checksum": not vector["expect"]["checksum_valid"]}


def _check_position(position: Position, expect: dict[str, Any]) -> None:
    assert position.latitude == pytest.approx(expect["latitude"], abs=1e-5)
    assert position.longitude == pytest.approx(expect["longitude"], abs=1e-5)
    assert position.speed_kmh == pytest.approx(expect["speed_kmh"], abs=1e-6)
    assert position.valid is expect["gnss_fix"]
    if "time_bcd" in expect:
        assert position.fix_time == _utc(expect["time_bcd"])
    if "satellites" in expect:
        assert position.satellites == expect["satellites"]


@pytest.mark.parametrize("vector", FRAMES, ids=_ids(FRAMES))
def test_frame_vector(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    msg_id = int(expect["msg_id"], 16)
    c, out = _decode(vector)
    assert c.stats.frames == 1
    if not accepted(vector):
        # A wrong checksum or body-length field: refused by default, whatever the message.
        assert [type(item) for item in out] == [DecodeError]
        assert c.stats.errors == 1
        assert c.stats.checksum_errors == (0 if expect["checksum_valid"] else 1)
        assert c.stats.length_errors == (1 if expect["checksum_valid"] else 0)
        assert c.device_id is None  # a refused frame names no device
        return
    decoded = [item for item in out if isinstance(item, Decoded)]
    assert decoded, out
    assert all(isinstance(item, Decoded) for item in out), out
    assert (c.stats.checksum_errors, c.stats.length_errors, c.stats.errors) == (0, 0, 0)
    for item in decoded:
        assert item.message.protocol == "jt808"
        assert item.message.device_id == _expected_id(expect)
        assert item.raw == wire(vector)
    assert c.device_id == _expected_id(expect)
    assert c.edition == ("2019" if expect["version_flag_2019"] else "2013")

    # The reply: exactly what Traccar sends (its platform serial is 0, like our first).
    replies = [item.reply for item in decoded if item.reply is not None]
    kind = expect.get("traccar_response_kind", "")
    if "traccar_response_hex_derived" in expect and not kind.startswith(NO_REPLY_KINDS):
        assert len(replies) == 1
        reply = replies[0]
        assert reply.hex() == expect["traccar_response_hex_derived"]
        parsed = parse_reply(reply)
        assert parsed["serial"] == 0
        if kind.startswith("0x8001"):
            assert parsed["id"] == 0x8001
            assert parsed["body"] == expect["serial"].to_bytes(2) + msg_id.to_bytes(2) + b"\0"
        else:
            assert parsed["id"] == 0x8100
            assert parsed["body"][:3] == expect["serial"].to_bytes(2) + b"\0"
    else:
        assert replies == []


@pytest.mark.parametrize("vector", BAD_CHECKSUMS, ids=_ids(BAD_CHECKSUMS))
def test_bad_checksum_capture_decodes_when_tolerated(vector: dict[str, Any]) -> None:
    """Real captures with a wrong checksum: decoded with the option, counted and flagged."""
    c, out = _decode(vector, tolerate_bad_checksum=True)
    assert c.stats.checksum_errors == 1
    if int(vector["expect"]["msg_id"], 16) not in KNOWN or not length_fits(wire(vector)):
        assert [type(item) for item in out] == [DecodeError]  # a vendor message: still junk
        return
    (item,) = out
    assert isinstance(item, Decoded)
    assert isinstance(item.message, Position)
    assert item.message.warnings == (BAD_CHECKSUM,)
    assert item.reply is not None
    assert c.stats.errors == 0


@pytest.mark.parametrize("vector", LOCATIONS, ids=_ids(LOCATIONS))
def test_location_vector(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    _, out = _decode(vector, **_tolerant(vector))
    assert len(out) == 1
    assert isinstance(out[0], Decoded)
    message = out[0].message
    if expect["msg_id"] == "0x0201":
        assert isinstance(message, CommandAck)
        assert (message.command, message.tag) == ("0x8201", str(expect["reply_serial"]))
        assert message.success is True
        assert message.position is not None
        position = message.position
    else:
        assert isinstance(message, Position)
        position = message
    assert position.message_type == expect["msg_id"]
    _check_position(position, expect)
    # Rounded once, at decode, to the protocol's 1e-6 degree.
    assert (round(position.latitude, 6), round(position.longitude, 6)) == (
        position.latitude,
        position.longitude,
    )
    assert position.warnings == (() if expect["checksum_valid"] else (BAD_CHECKSUM,))
    assert position.fix_time is not None
    assert position.fix_time.strftime("%Y-%m-%dT%H:%M:%SZ") == expect["time_utc_assuming_gmt8"]
    assert position.course == expect["course_deg"]
    assert position.altitude_m == expect["altitude_m"]
    status = int(expect["status_flags"], 16)
    alarm = int(expect["alarm_flags"], 16)
    assert position.status == status
    assert position.flags.ignition is expect["acc_on"]
    assert position.flags.immobilizer_engaged is bool(
        expect["oil_circuit_cut"] or status & (1 << 11)
    )
    assert position.flags.external_power_cut is bool(alarm & (1 << 8))
    assert position.stored is False
    if "mileage_km" in expect:
        assert position.odometer_km == pytest.approx(expect["mileage_km"])
    if "rssi" in expect:
        assert position.signal == expect["rssi"]
    model = vector.get("traccar_model_override")
    if model is None:  # model branches map some bits differently (§4)
        wanted = {TRACCAR_ALARMS[name] for name in expect.get("traccar_alarms_from_alarm_word", [])}
        assert wanted <= dec.alarms_of(alarm) <= position.alarms
    for key, value in expect.get("traccar_asserted", {}).items():
        if (vector["index"], key) in NOT_DECODED:
            continue
        if key in TRACCAR_FIELDS:
            assert getattr(position, TRACCAR_FIELDS[key]) == pytest.approx(value), key
        elif key == "alarm":
            assert {TRACCAR_ALARMS[name] for name in value.split(",")} <= position.alarms
        elif key == "iccid":
            assert position.iccid == value


BATCHES = [v for v in FRAMES if v["expect"]["msg_id"] == "0x0704"]


@pytest.mark.parametrize("vector", BATCHES, ids=_ids(BATCHES))
def test_batch_vector(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    _, out = _decode(vector)
    positions = [item.message for item in out if isinstance(item, Decoded)]
    assert len(positions) == len(out) == expect["batch_count"]
    assert [item.reply is not None for item in out if isinstance(item, Decoded)] == [True] + [
        False
    ] * (len(out) - 1)
    for position, item in zip(positions, expect.get("items", []), strict=False):
        assert isinstance(position, Position)
        assert position.message_type == "0x0704"
        assert position.stored is (expect["batch_type"] == 1)
        _check_position(position, item)


SESSION = [
    v
    for v in FRAMES
    if accepted(v)
    and v["expect"]["msg_id"]
    in ("0x0001", "0x0002", "0x0003", "0x0100", "0x0102", "0x0104", "0x0107", "0x0900")
]


@pytest.mark.parametrize("vector", SESSION, ids=_ids(SESSION))
def test_session_vector(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    _, out = _decode(vector)
    assert len(out) == 1
    assert isinstance(out[0], Decoded)
    message = out[0].message
    msg_id = expect["msg_id"]
    if msg_id == "0x0001":
        assert isinstance(message, CommandAck)
        assert message.command == expect["reply_msg_id"]
        assert message.tag == str(expect["reply_serial"])
        assert message.result == str(expect["result"])
        assert message.success is (expect["result"] == 0)
    elif msg_id == "0x0104":
        assert isinstance(message, CommandAck)
        assert (message.command, message.tag) == ("0x8104", str(expect["reply_serial"]))
        assert message.params == tuple(f"{p['id']}={p['value_hex']}" for p in expect["params"])
    elif msg_id in ("0x0002", "0x0003"):
        assert isinstance(message, Heartbeat)
        assert message.message_type == msg_id
    elif msg_id == "0x0100":
        assert isinstance(message, DeviceIdentity)
        assert message.message_type == "0x0100"
        content = unescape(wire(vector)[1:-1])
        assert content is not None
        head = 17 if expect["version_flag_2019"] else 12
        fields = dec.register_fields(content[head:-1], expect["version_flag_2019"])
        for key, name in (
            ("province_id", "province"),
            ("city_id", "city"),
            ("manufacturer_id", "maker"),
            ("terminal_model", "model"),
            ("plate_color", "plate_colour"),
            ("plate", "plate"),
        ):
            assert fields[name] == expect[key], key
        if not expect["terminal_id"].startswith("hex:"):
            assert fields["terminal_id"] == expect["terminal_id"]
        assert message.model == (expect["terminal_model"] or None)
        if expect["terminal_id"] == "866496077582164":  # a 2019 register carrying the IMEI
            assert message.imei == "866496077582164"
    elif msg_id == "0x0102":
        assert isinstance(message, DeviceIdentity)
        assert message.text == f"auth code {expect['auth_code']}"
    elif msg_id == "0x0107":
        assert isinstance(message, DeviceIdentity)
        if "terminal_model" in expect:
            assert message.model == expect["terminal_model"]
            assert message.firmware == expect["fw_version"]
            assert message.iccid == expect["iccid"]
            assert message.text == (
                f"maker={expect['manufacturer_id']}, hardware={expect['hw_version']}"
            )
    elif msg_id == "0x0900":
        assert isinstance(message, DeviceIdentity)
        assert message.text is not None
        assert message.text.lower().startswith(f"type={expect['transparent_type'].lower()}, ")


def test_every_vector_is_covered() -> None:
    """Frames above; the rest (bodies, ASCII sentences, framing, encoder) below."""
    rest = [v for v in VECTORS if v not in FRAMES and v not in RULES]
    assert len(FRAMES) + len(rest) == REFERENCE_VECTORS == 125
    assert len(VECTORS) == REFERENCE_VECTORS + len(RULES)
    assert {v["index"] for v in rest} == {38, 51, 93, 114, 115, 116, 122, 123, 124}


# --- this project's vectors, one per rule of docs/protocol/jt808.md ---------------------------


def _message_position(message: object) -> Position | None:
    if isinstance(message, CommandAck):
        return message.position
    return message if isinstance(message, Position) else None


def _check_rule(c: Jt808Codec, out: list[Decoded | DecodeError], expect: dict[str, Any]) -> None:
    for counter in ("errors", "checksum_errors", "length_errors"):
        if counter in expect:
            assert getattr(c.stats, counter) == expect[counter], counter
    if "refused" in expect:
        assert [type(item) for item in out] == [DecodeError]
        assert isinstance(out[0], DecodeError)
        assert expect["refused"] in out[0].reason
        if "device_id" in expect:
            assert c.device_id == expect["device_id"]
        return
    if "items" in expect:
        kinds = ["error" if isinstance(item, DecodeError) else "position" for item in out]
        assert kinds == expect["items"]
    decoded = [item for item in out if isinstance(item, Decoded)]
    assert decoded, out
    first = decoded[0]
    message = first.message
    assert message.protocol == "jt808"
    assert message.device_id == expect["device_id"]
    assert c.device_id == expect["device_id"]
    if "edition" in expect:
        assert c.edition == expect["edition"]
    if "reply_hex" in expect:
        assert first.reply is not None
        assert first.reply.hex() == expect["reply_hex"]
    position = _message_position(message)
    for key in ("latitude", "longitude", "fix_time", "odometer_km", "battery_voltage"):
        if key in expect:
            assert position is not None
            assert getattr(position, key) == expect[key], key
    for key in ("signal", "battery_percent", "iccid"):
        if key in expect:
            assert position is not None
            assert getattr(position, key) == expect[key], key
    if "warnings" in expect:
        assert position is not None
        assert list(position.warnings) == expect["warnings"]
    if "extras" in expect:
        assert position is not None
        assert list(position.extras) == expect["extras"]


@pytest.mark.parametrize("vector", RULES, ids=[v["rule"][:60] for v in RULES])
def test_rule_vector(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["raw_hex"])
    c = codec()
    out = c.feed(data) + c.flush()
    assert c.stats.frames == 1
    assert c.buffered == 0
    _check_rule(c, out, vector["expect"])
    tolerated = vector["expect"].get("tolerated")
    if tolerated is not None:
        c = codec(tolerate_bad_checksum=True)
        _check_rule(c, c.feed(data), tolerated)


def test_body_vector_2019_authentication() -> None:
    (vector,) = [v for v in VECTORS if v["index"] == 93]
    code, imei, firmware = dec.auth_fields(bytes.fromhex(vector["raw_hex"]), edition_2019=True)
    expect = vector["expect"]
    assert (code, imei, firmware) == (expect["auth_code"], expect["imei"], expect["sw_version"])


@pytest.mark.parametrize("index", [114, 115, 116])
def test_body_vector_platform_bodies(index: int) -> None:
    """0x8202/0x8500 bodies: sent through a RAW command, framed unchanged."""
    (vector,) = [v for v in VECTORS if v["index"] == index]
    message_id = "8202" if index == 114 else "8500"
    c = codec()
    encoded = c.encode(
        "12345678900", Command(CommandKind.RAW, text=f"{message_id}:{vector['raw_hex']}"), NOW
    )
    parsed = parse_reply(encoded.data)
    assert parsed["id"] == int(message_id, 16)
    assert parsed["body"].hex() == vector["raw_hex"]


@pytest.mark.parametrize("index", [38, 51, 124])
def test_ascii_sentences_are_not_jt808(index: int) -> None:
    """Jointech ``(…)`` sentences: not a 0x7E protocol; skipped as noise on a JT/T 808 stream."""
    (vector,) = [v for v in VECTORS if v["index"] == index]
    data = bytes.fromhex(vector["raw_hex"])
    assert detect(data) is None
    c = codec()
    assert c.feed(data) == []
    assert c.stats.bytes_skipped == len(data)
    assert c.buffered == 0


@pytest.mark.parametrize("index", [122, 123])
def test_framing_vectors(index: int) -> None:
    (vector,) = [v for v in VECTORS if v["index"] == index]
    data = bytes.fromhex(vector["raw_hex"])
    start = data.index(0x7E)
    content = unescape(data[start + 1 : -1])
    assert content is not None
    assert (b"\x7e" + content + b"\x7e").hex() == vector["expect"]["unescaped_frame_hex"]
    assert (b"\x7e" + escape(content) + b"\x7e") == data[start:]
    c = codec()
    out = c.feed(data)
    assert [type(item) for item in out] == [DecodeError]  # 5 bytes: no header
    assert c.stats.bytes_skipped == start


ENCODER = [
    ("engine_stop", "123456789012345", 0, "7e810500010b3a73ce2ff20000f0247e"),
    ("engine_resume", "123456789012345", 0, "7e810500010b3a73ce2ff20000f1257e"),
    ("engine_stop", "80201000027", 31, "7e81050001080201000027001ff0467e"),
]


@pytest.mark.parametrize(("kind", "device_id", "serial", "expected"), ENCODER)
def test_encoder_vectors(kind: str, device_id: str, serial: int, expected: str) -> None:
    c = codec()
    for _ in range(serial):
        c.encode(device_id, Command(CommandKind.REQUEST_POSITION), NOW)
    encoded = c.encode(device_id, Command(CommandKind(kind)), NOW)
    assert encoded.data.hex() == expected
    assert (encoded.name, encoded.tag) == ("0x8105", str(serial))


@pytest.mark.parametrize("index", [119, 120])
def test_encoder_raw_frames(index: int) -> None:
    """Traccar's custom commands without a model: the hex frame is sent as given."""
    (vector,) = [v for v in VECTORS if v["index"] == index]
    hex_frame = vector["expect"]["encoded_frame_hex"]
    encoded = codec().encode(
        "123456789012345", Command(CommandKind.RAW, text=hex_frame.upper()), NOW
    )
    assert encoded.data.hex() == hex_frame
    assert encoded.name == vector["expect"]["msg_id"]
    assert encoded.tag == "0"
