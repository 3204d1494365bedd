"""Shared helpers for the JT/T 808 tests: the reference vectors, frames, a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from codec_helpers import decoding_helpers

from custom_components.sinotrack.protocol.jt808 import Jt808Codec, build_frame, escape

# The reference vectors of the protocol note (real captures and library tests), then this
# project's own vectors for the rules of docs/protocol/jt808.md (entries with a "rule").
VECTORS_PATH = Path(__file__).parent / "data" / "jt808_vectors.json"
REFERENCE_VECTORS = 125
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PHONE = bytes.fromhex("012345678900")


def wire(vector: dict[str, Any]) -> bytes:
    """The bytes as they travel: ``wire_hex`` when given, else ``raw_hex`` with any literal
    0x7E inside escaped (Traccar's decoder tests feed some frames already un-escaped)."""
    if "wire_hex" in vector:
        return bytes.fromhex(vector["wire_hex"])
    raw = bytes.fromhex(vector["raw_hex"])
    if raw[:1] == b"\x7e" and b"\x7e" in raw[1:-1]:
        return b"\x7e" + escape(raw[1:-1]) + b"\x7e"
    return raw


def load_vectors() -> list[dict[str, Any]]:
    """Every vector of jt808_vectors.json, with its index."""
    vectors: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    for index, vector in enumerate(vectors):
        vector["index"] = index
    return vectors


def frame_vectors() -> list[dict[str, Any]]:
    """The reference vectors that are whole 0x7E frames."""
    return [
        v
        for v in load_vectors()[:REFERENCE_VECTORS]
        if not v.get("body_only") and "text" not in v and "msg_id" in v["expect"]
    ]


def rule_vectors() -> list[dict[str, Any]]:
    """This project's vectors, one per decoding rule."""
    rules = load_vectors()[REFERENCE_VECTORS:]
    assert all("rule" in v for v in rules)
    return rules


def length_fits(data: bytes) -> bool:
    """Whether a frame's body-length field matches its body under one header edition: the
    12-byte 2013 header, or the 17-byte 2019 one when attribute bit 14 is set (+4 bytes of
    sub-package fields when bit 13 is)."""
    content = data[1:-1].replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    attr = int.from_bytes(content[2:4])
    extra = 4 if attr & 0x2000 else 0
    heads = [12 + extra] + ([17 + extra] if attr & 0x4000 else [])
    return attr & 0x3FF in {len(content) - 1 - head for head in heads}


def accepted(vector: dict[str, Any]) -> bool:
    """Whether a reference frame passes the integrity checks (checksum and length field)."""
    return bool(vector["expect"]["checksum_valid"]) and length_fits(wire(vector))


class Clock:
    """A settable clock for the codec."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def codec(**kwargs: Any) -> Jt808Codec:
    kwargs.setdefault("clock", lambda: NOW)
    return Jt808Codec(**kwargs)


decode_all, messages, one = decoding_helpers(codec)


def frame(
    message_id: int,
    body: bytes,
    *,
    phone: bytes = PHONE,
    version: int | None = None,
    serial: int = 1,
) -> bytes:
    """A terminal frame built with the codec's own encoder."""
    return build_frame(message_id, body, phone, version, serial)


def location_body(
    *,
    alarm: int = 0,
    status: int = 0b11,
    lat: int = 22_641_605,
    lon: int = 114_032_486,
    altitude: int = 12,
    speed: int = 456,
    course: int = 90,
    time: str = "240506150809",
    items: bytes = b"",
) -> bytes:
    """A 0x0200 body (defaults: fix, ignition on, 45.6 km/h, 2024-05-06 15:08:09 GMT+8)."""
    return (
        alarm.to_bytes(4)
        + status.to_bytes(4)
        + lat.to_bytes(4)
        + lon.to_bytes(4)
        + altitude.to_bytes(2, signed=True)
        + speed.to_bytes(2)
        + course.to_bytes(2)
        + bytes.fromhex(time)
        + items
    )


def parse_reply(reply: bytes) -> dict[str, Any]:
    """A platform frame taken apart (un-escaped, checksum verified)."""
    assert reply[0] == 0x7E, reply.hex()
    assert reply[-1] == 0x7E, reply.hex()
    content = reply[1:-1].replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    check = 0
    for byte in content[:-1]:
        check ^= byte
    assert check == content[-1], reply.hex()
    attr = int.from_bytes(content[2:4])
    head = 17 if attr & 0x4000 else 12
    body = content[head:-1]
    assert attr & 0x3FF == len(body)
    return {
        "id": int.from_bytes(content[:2]),
        "version": content[4] if attr & 0x4000 else None,
        "phone": content[5:15] if attr & 0x4000 else content[4:10],
        "serial": int.from_bytes(content[head - 2 : head]),
        "body": body,
    }
