"""H02 commands (h02.md §7), replies (§6) and the ack matcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from h02_helpers import NOW, codec, one

from custom_components.sinotrack.protocol.h02 import H02Codec
from custom_components.sinotrack.protocol.model import (
    Command,
    CommandAck,
    CommandKind,
    DecodeError,
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


FIX = "050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF"
V19 = (
    "*HQ,1,V19,050316,A,2212.8745,N,11346.6574,E,1,2,220902,,1.2.3.4,89480610500392633029,FFFFFBFF#"
)
BINARY = bytes.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        # V1 and NBR: the time sync; HTBT and V0: their echo (with the maker as sent).
        (f"*TH,1,V1,{FIX}#", f"*HQ,1,V4,V1,{STAMP}#"),
        ("*HQ,1,NBR,102403,238,1,0,1,1111,2264,63,110117,FFFFDFFF,6#", f"*HQ,1,V4,NBR,{STAMP}#"),
        ("*HQ,135790246811220,HTBT,100#", "*HQ,135790246811220,HTBT#"),
        ("*hq,1,V0#", "*hq,1,V0#"),
        # Every other position and every acknowledgement with a fix: R12 (§13.2).
        (f"*HQ,1,V2,{FIX}#", f"*HQ,1,R12,{HMS}#"),
        (f"*HQ,1,V5,{FIX}#", f"*HQ,1,R12,{HMS}#"),
        (f"*HQ,1,V6,{FIX},310,260,32936,13641,8944501311217563382F,#", f"*HQ,1,R12,{HMS}#"),
        (f"*HQ,1,V8,{FIX},0,0,0,0,22,31,126,0#", f"*HQ,1,R12,{HMS}#"),
        (V19, f"*HQ,1,R12,{HMS}#"),
        ("*HQ,1,VP1,A,2702.7245,S,15251.9311,E,0.48,0.0000,080917#", f"*HQ,1,R12,{HMS}#"),
        (f"*HQ,1,ALRM,1,{FIX}#", f"*HQ,1,R12,{HMS}#"),
        (f"*HQ,1,V4,S20,OK,010203,{FIX}#", f"*HQ,1,R12,{HMS}#"),
        ("*HQ,1,BC,A,2212.8745,N,11346.6574,E,10,90,05120000,FFFFFBFF#", f"*HQ,1,R12,{HMS}#"),
        # No fix, no answer.
        ("*HQ,1,V4,CR#", None),
        ("*HQ,1,V4,S20,034313,1,1#", None),
        ("*HQ,1,ALRM,1,050316,V,,N,,E,0,0,220902,FFFFFBFF#", None),
        ("*HQ,1,XT,1,100#", None),
        ("*HQ,1,LINK,112137,20,8,67,0,0,081116,FFFFFBFF#", None),
        ("*HQ,1,SMS,SET OK#", None),
        ("*HQ,1,VP1,V,460,0,9338,3692,150Y9338,3691,145#", None),
    ],
)
def test_text_replies(raw: str, reply: str | None) -> None:
    assert one(raw.encode()).reply == (reply.encode() if reply else None)


@pytest.mark.parametrize(
    "raw",
    [
        f"*HQ,1,V5,{FIX}#",
        f"*HQ,1,V8,{FIX},0,0,0,0,22,31,126,0#",
        f"*HQ,1,V4,S20,OK,010203,{FIX}#",
        f"*HQ,1,ALRM,1,{FIX}#",
    ],
)
def test_r12_off_answers_no_position_but_keeps_the_time_sync(raw: str) -> None:
    assert one(raw.encode(), r12=False).reply is None
    assert one(f"*HQ,1,V1,{FIX}#".encode(), r12=False).reply == f"*HQ,1,V4,V1,{STAMP}#".encode()
    assert one(b"*HQ,1,V0#", r12=False).reply == b"*HQ,1,V0#"


def test_r12_can_be_switched_per_connection() -> None:
    c = codec()
    assert c.r12 is True
    assert c.feed(BINARY)[0].reply == f"*HQ,4106011660,R12,{HMS}#".encode()
    c.r12 = False
    assert c.feed(BINARY)[0].reply is None


def test_bc_batch_gets_one_r12() -> None:
    raw = (
        b"*HQ,1234567890,BC,A,2212.8745,N,11346.6574,E,10,90,05120000,FFFFFBFF;"
        b"V,2212.8800,N,11346.6600,E,0,0,04235959,FFFFFFFF#"
    )
    out = codec().feed(raw)
    assert [d.reply for d in out] == [None, f"*HQ,1234567890,R12,{HMS}#".encode()]  # type: ignore[union-attr]


def test_r12_example_of_the_4g_note() -> None:
    """§13.2: ``*HQ,8168000005,R12,062108#`` for a report answered at 06:21:08 UTC."""
    c = H02Codec(clock=lambda: datetime(2016, 7, 16, 6, 21, 8, tzinfo=UTC))
    raw = (
        b"*HQ,8168000005,V8,062100,A,2235.0086,N,11354.3668,E,0,0,160716,FFFFBBFF,"
        b"0,0,0,0,9,20,125,90#"
    )
    assert c.feed(raw)[0].reply == b"*HQ,8168000005,R12,062108#"


@pytest.mark.parametrize(
    "raw",
    [
        f"*HQ,,V1,{FIX}#",
        f"*HQ,12a4,V1,{FIX}#",
        f"*HQ,{'1' * 21},V1,{FIX}#",
        f"*HQ,\u0661\u0662,V1,{FIX}#",
        "*HQ,1 2,V0#",
        "*HQ, 12 ,V0#",
        "*HQ,-1,HTBT#",
        "*HQ,12.5,NBR,102403,238,1,0,1,1111,2264,63,110117,FFFFDFFF,6#",
    ],
)
def test_a_bad_device_id_gets_no_reply_and_no_message(raw: str) -> None:
    c = codec()
    out = c.feed(raw.encode())
    assert len(out) == 1
    assert isinstance(out[0], DecodeError)
    assert c.stats.errors == 1
    assert c.stats.messages == 0


def test_clock_is_read_once_per_feed() -> None:
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


# --- the immobilizer of each dialect (§13.3) -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "dialect", "params"),
    [
        (CommandKind.ENGINE_STOP, None, None, "1,1"),
        (CommandKind.ENGINE_STOP, None, "4g", "1,1"),
        (CommandKind.ENGINE_STOP, "4G", None, "1,1"),
        (CommandKind.ENGINE_STOP, "classic", "4g", "1,1"),
        (CommandKind.ENGINE_RESUME, None, None, "1,0"),  # unknown: the classic (Traccar) form
        (CommandKind.ENGINE_RESUME, None, "classic", "1,0"),
        (CommandKind.ENGINE_RESUME, None, "4g", "0,0"),
        (CommandKind.ENGINE_RESUME, "", "4g", "0,0"),
        (CommandKind.ENGINE_RESUME, "4G", None, "0,0"),
        (CommandKind.ENGINE_RESUME, " 4g ", "classic", "0,0"),
        (CommandKind.ENGINE_RESUME, "CLASSIC", "4g", "1,0"),
        (CommandKind.ENGINE_RESUME, "Classic", None, "1,0"),
    ],
)
def test_immobilizer_per_dialect(
    kind: CommandKind, text: str | None, dialect: str | None, params: str
) -> None:
    c = codec()
    c.dialect = dialect
    encoded = c.encode(ID, Command(kind, text=text), T)
    assert encoded.data == f"*HQ,{ID},S20,010203,{params}#".encode()
    assert (encoded.name, encoded.tag) == ("S20", "010203")


@pytest.mark.parametrize("text", ["4", "5G", "1,0", "classic2", "RAW"])
@pytest.mark.parametrize("kind", [CommandKind.ENGINE_STOP, CommandKind.ENGINE_RESUME])
def test_other_immobilizer_variants_are_refused(kind: CommandKind, text: str) -> None:
    with pytest.raises(ProtocolError):
        codec().encode(ID, Command(kind, text=text), T)


def test_a_v6_or_v8_report_makes_the_restore_4g() -> None:
    for report in (
        b"*HQ,1,V8,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FBFFF9FF,0,0,0,0,22,31,126,0#",
        b"*HQ,1,V6,050316,V,2212.8745,N,11346.6574,E,1,2,220902,FFF7FBFF,310,260,1,2,,#",
    ):
        c = codec()
        assert c.dialect is None
        c.feed(b"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#")
        assert c.dialect is None  # a V1 says nothing
        c.feed(report)
        assert c.dialect == "4g"
        resume = c.encode(ID, Command(CommandKind.ENGINE_RESUME), T)
        assert resume.data.endswith(b",S20,010203,0,0#")
        ack = _ack(
            f"*HQ,{ID},V4,S20,OK,010203,010230, A,2235.0086,N,11354.3668,E,000.00,000,"
            "160716,FFFFB9FF,460,00,10342,3721#"
        )
        assert c.matches(resume, ack)
        assert ack.success is True
        assert ack.position is not None
        assert ack.position.flags.immobilizer_engaged is False


def test_the_owner_sets_the_dialect() -> None:
    c = codec()
    c.dialect = "4g"
    assert c.dialect == "4g"
    c.dialect = "classic"
    assert c.encode(ID, Command(CommandKind.ENGINE_RESUME), T).data.endswith(b",1,0#")
    c.dialect = None
    assert c.dialect is None
    for wrong in ("4G", "2g", ""):
        with pytest.raises(ValueError, match="dialect"):
            c.dialect = wrong
    assert c.dialect is None


@pytest.mark.parametrize("device_id", ["", "12a", "1" * 21, "\u0661"])
def test_commands_only_for_a_valid_device_id(device_id: str) -> None:
    with pytest.raises(ProtocolError):
        codec().encode(device_id, Command(CommandKind.REBOOT), T)
