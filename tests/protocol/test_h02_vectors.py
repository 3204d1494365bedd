"""Every vector of h02_vectors.json: decoder, framing and encoder.

The file is the shared reference set (h02.md §11) followed by the SinoTrack 4G note's examples
(§13.3: its acknowledgements and commands as the note writes them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from h02_helpers import NOW, codec, decode_all, load_vectors, messages

from custom_components.sinotrack.protocol.model import (
    Alarm,
    CellReport,
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    DecodeError,
    DeviceIdentity,
    Heartbeat,
    Message,
    Position,
)

VECTORS = load_vectors()
DECODER = [v for v in VECTORS if "decoded" in v["expect"]]
FRAMING = [v for v in VECTORS if v["transport"] == "tcp"]
ENCODER = [v for v in VECTORS if v["expect"].get("direction") == "server_to_device"]

TRACCAR_ALARMS = {"sos": Alarm.SOS, "powerCut": Alarm.POWER_CUT, "vibration": Alarm.VIBRATION}


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [f"{v['index']}-{v['raw' if 'raw' in v else 'raw_hex'][:40]}" for v in vectors]


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _corrections(vector: dict[str, Any]) -> dict[str, Any]:
    """Where we deliberately differ from the Traccar-derived expectations (h02.md §3.1)."""
    expect = dict(vector["expect"])
    raw = vector.get("raw", "")
    device_id = expect.get("device_id")
    if device_id is not None and not (device_id.isdigit() and len(device_id) <= 20):
        # Traccar takes an empty ID (and answers it); we refuse it: no message, no reply.
        return {"decoded": False, "refused": True}
    if expect.get("message_type") == "V19":
        # Traccar loses date and status of every V19; the status is the field after the SIM block.
        f = raw.rstrip("#").split(",")
        time, date, status = f[3], f[11], f[15]
        expect["fix_time"] = (
            f"20{date[4:6]}-{date[2:4]}-{date[0:2]}T{time[0:2]}:{time[2:4]}:{time[4:6]}Z"
        )
        expect["status_hex"] = status
    if expect.get("device_time", "").endswith(":69Z"):  # NBR with second 69: no valid time
        expect["device_time"] = None
    return expect


def _position_of(message: Message) -> Position | None:
    if isinstance(message, Position):
        return message
    if isinstance(message, CommandAck):
        return message.position
    return None


@pytest.mark.parametrize("vector", DECODER, ids=_ids(DECODER))
def test_decoder_vector(vector: dict[str, Any]) -> None:
    expect = _corrections(vector)
    out = decode_all(vector["bytes"])
    decoded = [item for item in out if isinstance(item, Decoded)]
    if expect.get("refused"):
        assert len(out) == 1
        assert isinstance(out[0], DecodeError)
        return
    hms, full = NOW.strftime("%H%M%S"), NOW.strftime("%Y%m%d%H%M%S")
    for key in ("server_response", "server_response_if_ack"):
        if key in expect:
            reply = expect[key].replace("<yyyyMMddHHmmss UTC>", full).replace("<HHmmss UTC>", hms)
            assert decoded, out
            assert decoded[0].reply == reply.encode()
    if not expect["decoded"]:
        assert not any(_position_of(d.message) for d in decoded)
        return
    assert len(decoded) == 1, out
    message = decoded[0].message
    assert message.device_id == expect["device_id"]
    assert message.protocol == "h02"
    mtype = expect["message_type"]
    if mtype == "V4":
        assert isinstance(message, CommandAck)
        result = ",".join((message.command, *message.params, message.tag or ""))
        assert result == expect["result"]
        if "success" in expect:
            assert message.success is expect["success"]
    elif mtype == "SMS":
        assert isinstance(message, DeviceIdentity)
        assert message.text == expect["result"]
        return
    elif mtype in ("V3", "NBR"):
        assert isinstance(message, CellReport)
        assert message.message_type == mtype
        assert (message.mcc, message.mnc) == (expect["mcc"], expect["mnc"])
        assert [(c.lac, c.cid) for c in message.cells] == [tuple(c[:2]) for c in expect["cells"]]
        if mtype == "NBR":
            assert [c.rssi for c in message.cells] == [c[2] for c in expect["cells"]]
        assert _iso(message.device_time) == expect["device_time"]
        assert message.status == int(expect["status_hex"], 16)
        assert message.flags.ignition == expect["ignition"]
        return
    elif mtype in ("LINK", "HTBT"):
        assert isinstance(message, Heartbeat)
        assert message.message_type == mtype
        assert message.battery_percent == expect["battery_level_pct"]
        if mtype == "LINK":
            assert (message.signal, message.satellites) == (expect["rssi"], expect["satellites"])
            assert _iso(message.device_time) == expect["device_time"]
            assert message.status == int(expect["status_hex"], 16)
        return
    position = _position_of(message)
    assert position is not None
    assert position.message_type == mtype
    assert position.valid is expect["valid"]
    assert position.latitude == pytest.approx(expect["latitude"], abs=1e-5)
    assert position.longitude == pytest.approx(expect["longitude"], abs=1e-5)
    assert _iso(position.fix_time) == expect["fix_time"]
    assert position.speed_kmh == pytest.approx(expect["speed_knots"] * 1.852, abs=1e-6)
    assert position.course == pytest.approx(expect["course_deg"])
    if "status_hex" in expect:
        assert position.status == int(expect["status_hex"], 16)
    if "ignition" in expect:
        assert position.flags.ignition is expect["ignition"]
    if "immobilizer" in expect:
        assert position.flags.immobilizer_engaged is expect["immobilizer"]
    if "armed" in expect:
        assert position.flags.armed is expect["armed"]
    if expect.get("alarm"):
        assert TRACCAR_ALARMS[expect["alarm"]] in position.alarms
    if "battery_level_pct" in expect:
        assert position.battery_percent == expect["battery_level_pct"]
    elif mtype == "binary":
        assert position.battery_percent is None
    if "io" in expect:
        assert list(position.extras) == expect["io"]
    if "unparsed_trailer_hex" in expect:
        assert position.extras == (expect["unparsed_trailer_hex"],)
        assert len(decoded[0].raw) == expect["frame_length"]


@pytest.mark.parametrize("vector", FRAMING, ids=_ids(FRAMING))
def test_framing_vector(vector: dict[str, Any]) -> None:
    first = bytes.fromhex(vector["expect"]["first_frame_hex"])
    c = codec()
    out = c.feed(vector["bytes"]) + c.flush()
    if first[:1] == b"X":  # X frames are framed and counted, not reported (h02.md §5.5)
        assert c.x_frames == 1
        assert c.stats.frames == 1
        assert out == []
    else:
        assert out
        assert isinstance(out[0], Decoded)
        assert out[0].raw == first
    assert c.buffered == 0
    assert c.stats.errors == 0


@pytest.mark.parametrize("vector", ENCODER, ids=_ids(ENCODER))
def test_encoder_vector(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    traccar = {
        "alarmArm": Command(CommandKind.ARM),
        "alarmDisarm": Command(CommandKind.DISARM),
        "engineStop": Command(CommandKind.ENGINE_STOP),
        "engineResume": Command(CommandKind.ENGINE_RESUME),
        "positionPeriodic": Command(
            CommandKind.SET_INTERVAL, interval_s=expect.get("frequency"), text="S71"
        ),
    }
    if "traccar_command" in expect:  # Traccar's tests: the classic dialect, tag 01:02:03
        command, tag = traccar[expect["traccar_command"]], "010203"
    else:  # the 4G note's examples: its kind, variant, dialect and time tag
        command = Command(CommandKind(expect["command"]), text=expect.get("variant"))
        tag = expect["command_time_field"]
    c = codec()
    c.dialect = expect.get("dialect")
    when = datetime(2024, 1, 1, int(tag[:2]), int(tag[2:4]), int(tag[4:]), tzinfo=UTC)
    encoded = c.encode(expect["device_unique_id"], command, when)
    assert encoded.data == vector["bytes"]
    assert encoded.tag == tag
    assert encoded.name == vector["raw"].split(",")[2]


def test_every_vector_is_covered() -> None:
    assert len(DECODER) + len(FRAMING) + len(ENCODER) == len(VECTORS) == 97


def test_messages_helper_sees_binary_and_text_in_one_segment() -> None:
    stream = b"".join(v["bytes"] for v in FRAMING[1:3])
    assert [m.message.device_id for m in messages(stream)] == ["4106011660"] * 3
