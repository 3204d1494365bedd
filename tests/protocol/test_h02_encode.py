"""H02 commands (h02.md §7), replies (§6) and the ack matcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from h02_helpers import NOW, codec, one

from custom_components.sinotrack.protocol.model import (
    Command,
    CommandAck,
    CommandKind,
    ProtocolError,
)

T = datetime(2024, 1, 1, 1, 2, 3, tzinfo=UTC)
ID = "123456789012345"


@pytest.mark.parametrize(
    ("command", "data", "name"),
    [
        (Command(CommandKind.ENGINE_STOP), "*HQ,{id},S20,010203,1,1#", "S20"),
        (Command(CommandKind.ENGINE_RESUME), "*HQ,{id},S20,010203,1,0#", "S20"),
        (Command(CommandKind.REQUEST_POSITION), "*HQ,{id},CR,010203#", "CR"),
        (Command(CommandKind.SET_INTERVAL, interval_s=30), "*HQ,{id},D1,010203,30#", "D1"),
        (
            Command(CommandKind.SET_INTERVAL, interval_s=10, text="S71"),
            "*HQ,{id},S71,010203,22,10#",
            "S71",
        ),
        (Command(CommandKind.ARM), "*HQ,{id},SCF,010203,0,0#", "SCF"),
        (Command(CommandKind.DISARM), "*HQ,{id},SCF,010203,1,1#", "SCF"),
        (Command(CommandKind.REBOOT), "*HQ,{id},CQ,010203#", "CQ"),
        (Command(CommandKind.RAW, text="S20,HHMMSS,1,1"), "*HQ,{id},S20,010203,1,1#", "S20"),
    ],
)
def test_commands(command: Command, data: str, name: str) -> None:
    encoded = codec().encode(ID, command, T)
    assert encoded.data == data.format(id=ID).encode()
    assert (encoded.name, encoded.tag, encoded.command) == (name, "010203", command)


def test_tag_is_utc() -> None:
    local = T.astimezone(timezone(timedelta(hours=-3)))
    assert codec().encode(ID, Command(CommandKind.REBOOT), local).tag == "010203"
    assert codec().encode(ID, Command(CommandKind.REBOOT), T.replace(tzinfo=None)).tag == "010203"


@pytest.mark.parametrize(
    ("text", "data", "name", "tag"),
    [
        ("CR", "*HQ,{id},CR#", "CR", None),
        ("NXT,10", "*HQ,{id},NXT,10#", "NXT", None),
        ("S20,112233,1,1", "*HQ,{id},S20,112233,1,1#", "S20", "112233"),
        ("*HQ,{id},S20,101010,1,1#", "*HQ,{id},S20,101010,1,1#", "S20", "101010"),
        ("*HQ,{id},CQ#", "*HQ,{id},CQ#", "CQ", None),
    ],
)
def test_raw_commands(text: str, data: str, name: str, tag: str | None) -> None:
    encoded = codec().encode(ID, Command(CommandKind.RAW, text=text.format(id=ID)), T)
    assert encoded.data == data.format(id=ID).encode()
    assert (encoded.name, encoded.tag) == (name, tag)


@pytest.mark.parametrize(
    ("device_id", "command"),
    [
        ("12,3", Command(CommandKind.REBOOT)),
        ("12#", Command(CommandKind.REBOOT)),
        (ID, Command(CommandKind.RAW, text="")),
        (ID, Command(CommandKind.RAW, text="S20#,1")),
        (ID, Command(CommandKind.RAW, text="S20\n1")),
        (ID, Command(CommandKind.RAW, text="é")),
        (ID, Command(CommandKind.SET_INTERVAL)),
        (ID, Command(CommandKind.SET_INTERVAL, interval_s=0)),
        (ID, Command(CommandKind.SET_INTERVAL, interval_s=10, text="XX")),
    ],
)
def test_bad_commands_raise_protocol_error(device_id: str, command: Command) -> None:
    with pytest.raises(ProtocolError):
        codec().encode(device_id, command, T)


def _ack(raw: str) -> CommandAck:
    message = one(raw.encode()).message
    assert isinstance(message, CommandAck)
    return message


@pytest.mark.parametrize(
    ("command", "ack", "matches"),
    [
        (Command(CommandKind.ENGINE_STOP), "*HQ,{id},V4,S20,010203,1,1#", True),
        (Command(CommandKind.ENGINE_RESUME), "*HQ,{id},V4,S20,010203,1,1#", True),  # CJ730
        (Command(CommandKind.ENGINE_STOP), "*HQ,{id},V4,S20,DONE,010203#", True),
        (
            Command(CommandKind.ENGINE_STOP),
            "*HQ,{id},V4,S20,80,010203,010204,A,2212.8745,N,11346.6574,E,0,0,220902,F7FFFBFF#",
            True,
        ),
        (Command(CommandKind.ENGINE_STOP), "*HQ,{id},V4,S20,DONE,235959#", False),  # other tag
        (Command(CommandKind.ENGINE_STOP), "*HQ,{id},V4,SCF,010203,0,0#", False),  # other word
        (Command(CommandKind.REQUEST_POSITION), "*HQ,{id},V4,CR#", True),  # no tag
        (Command(CommandKind.REBOOT), "*HQ,{id},V4,CQ#", True),
        (
            Command(CommandKind.SET_INTERVAL, interval_s=60),
            "*HQ,{id},V4,D1,60,65535,010203,010200,A,5224.7385,N,01233.2876,E,0,307,141020,FFFF7BFF#",
            True,
        ),
        (
            Command(CommandKind.RAW, text="S1,OK,123456,HHMMSS"),
            "*HQ,{id},V4,S1,OK,123456,010203#",
            True,
        ),
    ],
)
def test_matches(command: Command, ack: str, matches: bool) -> None:
    c = codec()
    assert c.matches(c.encode(ID, command, T), _ack(ack.format(id=ID))) is matches


# --- replies (§6) ---------------------------------------------------------------------------

STAMP = NOW.strftime("%Y%m%d%H%M%S")
HMS = NOW.strftime("%H%M%S")


@pytest.mark.parametrize(
    ("raw", "reply", "options"),
    [
        (
            "*TH,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#",
            f"*HQ,1,V4,V1,{STAMP}#",
            {},
        ),
        ("*HQ,1,V5,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#", None, {}),
        (
            "*HQ,1,V5,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#",
            f"*HQ,1,R12,{HMS}#",
            {"ack_positions": True},
        ),
        (
            "*HQ,1,NBR,102403,238,1,0,1,1111,2264,63,110117,FFFFDFFF,6#",
            f"*HQ,1,V4,NBR,{STAMP}#",
            {},
        ),
        ("*HQ,135790246811220,HTBT,100#", "*HQ,135790246811220,HTBT#", {}),
        ("*hq,1,V0#", "*hq,1,V0#", {}),
        ("*HQ,1,XT,1,100#", None, {"ack_positions": True}),
        ("*HQ,1,LINK,112137,20,8,67,0,0,081116,FFFFFBFF#", None, {"ack_positions": True}),
        ("*HQ,1,V4,CR#", None, {"ack_positions": True}),
        (
            "*HQ,1,ALRM,1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#",
            None,
            {"ack_positions": True},
        ),
    ],
)
def test_text_replies(raw: str, reply: str | None, options: dict[str, bool]) -> None:
    assert one(raw.encode(), **options).reply == (reply.encode() if reply else None)


def test_binary_reply_is_r12_unless_disabled() -> None:
    frame = bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    assert one(frame).reply == f"*HQ,4106011660,R12,{HMS}#".encode()
    assert one(frame, ack_binary=False).reply is None


def test_clock_is_read_once_per_feed() -> None:
    from custom_components.sinotrack.protocol.h02 import H02Codec

    calls: list[int] = []

    def clock() -> datetime:
        calls.append(1)
        return NOW

    c = H02Codec(clock=clock)
    raw = b"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#"
    c.feed(raw * 5)
    assert len(calls) == 1


def test_default_clock_replies_with_the_current_utc_second() -> None:
    """Without an injected clock the stamps come from the wall clock, formatted once a second."""
    from custom_components.sinotrack.protocol.h02 import H02Codec

    raw = b"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#"
    binary = bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    c = H02Codec()
    for _ in range(3):  # fresh, then from the per-second cache
        before = datetime.now(UTC).replace(microsecond=0)
        sync, ack = c.feed(raw)[0].reply, c.feed(binary)[0].reply
        after = datetime.now(UTC)
        assert sync is not None
        assert ack is not None
        stamp = datetime.strptime(sync.decode()[-15:-1], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        assert before <= stamp <= after
        assert ack.decode()[-7:-1] in {stamp.strftime("%H%M%S"), after.strftime("%H%M%S")}
