"""SinoTrack's 4G line (h02.md §13): V6 and V8 reports, the 4G status table, the dialect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from h02_helpers import codec, one

from custom_components.sinotrack.protocol.h02 import status_info
from custom_components.sinotrack.protocol.model import (
    Alarm,
    Cell,
    CommandAck,
    Position,
    WifiAccessPoint,
)

HEAD = "*HQ,9001000002,{mtype},213945,A,3542.2043,N,38.6508,W,0.00,170,221025,{status}"
V8 = HEAD.format(mtype="V8", status="FBFFF9FF")
V6 = HEAD.format(mtype="V6", status="FFF7FBFF")
CELL = "460,00,10342,3721"
AP = ["a1b2c3d4e5f6,45", "A1B2C3D4E5F7,60", "001122334455,80"]


def position(raw: str, **kwargs: object) -> Position:
    message = one(raw.encode(), **kwargs).message
    assert isinstance(message, Position)
    return message


# --- V8 (§13.1) -------------------------------------------------------------------------------


def test_v8_of_the_note_cell_unknown() -> None:
    pos = position(V8 + ",0,0,0,0,22,31,126,0#")
    assert pos.message_type == "V8"
    assert pos.fix_time == datetime(2025, 10, 22, 21, 39, 45, tzinfo=UTC)
    assert (pos.latitude, pos.longitude) == (35.703405, -0.64418)
    assert (pos.satellites, pos.signal, pos.power_voltage, pos.battery_percent) == (22, 31, 12.6, 0)
    assert (pos.mcc, pos.mnc, pos.cells, pos.wifi) == (None, None, (), ())
    assert pos.warnings == ()
    assert pos.extras == ("0", "0", "0", "0", "22", "31", "126", "0")  # as sent, too


@pytest.mark.parametrize("pairs", [0, 1, 2, 3])
def test_v8_with_zero_to_three_wifi_pairs(pairs: int) -> None:
    pos = position(",".join([V8, CELL, *AP[:pairs], "9,20,125,87"]) + "#")
    assert (pos.mcc, pos.mnc, pos.cells) == (460, 0, (Cell(10342, 3721),))
    expected = [
        WifiAccessPoint("a1b2c3d4e5f6", 45),
        WifiAccessPoint("A1B2C3D4E5F7", 60),
        WifiAccessPoint("001122334455", 80),
    ]
    assert list(pos.wifi) == expected[:pairs]
    assert (pos.satellites, pos.signal, pos.power_voltage, pos.battery_percent) == (9, 20, 12.5, 87)
    assert pos.warnings == ()


def test_v8_tolerates_spaces_and_an_empty_trailing_field() -> None:
    pos = position(V8 + ", 460, 01 ,10342, 3721, a1b2c3d4e5f6, 45 , 9, 20 ,138 , 100,#")
    assert (pos.mcc, pos.mnc, pos.cells) == (460, 1, (Cell(10342, 3721),))
    assert pos.wifi == (WifiAccessPoint("a1b2c3d4e5f6", 45),)
    assert (pos.satellites, pos.signal, pos.power_voltage, pos.battery_percent) == (
        9,
        20,
        13.8,
        100,
    )
    assert pos.warnings == ()


def test_v8_lte_cell_and_a_known_operator_without_cell() -> None:
    pos = position(V8 + ",310,260,20502,185608458,7,18,120,55#")
    assert pos.cells == (Cell(20502, 185608458),)
    pos = position(V8 + ",310,260,0,0,7,18,120,55#")
    assert (pos.mcc, pos.mnc, pos.cells) == (310, 260, ())


@pytest.mark.parametrize(
    ("tail", "warning"),
    [
        ("0,0,0,0,22,31,126", "V8 tail of 7 fields not understood"),
        ("0,0,0,0,a1b2c3d4e5f6,22,31,126,0", "V8 tail of 9 fields not understood"),
        (",".join(["0,0,0,0", *AP, AP[0], "22,31,126,0"]), "V8 tail of 16 fields not understood"),
    ],
)
def test_v8_tail_that_does_not_fit_keeps_the_fix(tail: str, warning: str) -> None:
    pos = position(f"{V8},{tail}#")
    assert pos.warnings == (warning,)
    assert (pos.satellites, pos.signal, pos.power_voltage, pos.battery_percent) == (None,) * 4
    assert pos.latitude == 35.703405


@pytest.mark.parametrize(
    ("tail", "fields", "warnings"),
    [
        ("0,0,0,0,22,99,126,0", (22, None, 12.6, 0), ()),  # CSQ 99: the modem does not know
        ("0,0,0,0,22,45,126,0", (22, None, 12.6, 0), ("unreadable signal",)),
        ("0,0,0,0,22,31,126,150", (22, 31, 12.6, None), ("unreadable battery percent",)),
        ("0,0,0,0,22,31,1e3,50", (22, 31, None, 50), ("unreadable supply voltage",)),
        ("0,0,0,0,nan,31,126,50", (None, 31, 12.6, 50), ("unreadable satellite count",)),
        ("0,0,0,0,,,,", (None, None, None, None), ()),  # empty: not sent, nothing wrong
        ("0,0,0,0,22,-1,126,50", (22, None, 12.6, 50), ("unreadable signal",)),
    ],
)
def test_v8_values_are_checked(
    tail: str, fields: tuple[object, ...], warnings: tuple[str, ...]
) -> None:
    pos = position(f"{V8},{tail}#")
    assert (pos.satellites, pos.signal, pos.power_voltage, pos.battery_percent) == fields
    assert pos.warnings == warnings


@pytest.mark.parametrize(
    "pair",
    [
        "a1b2c3d4e5,45",
        "a1b2c3d4e5f6g7,45",
        "a1:b2:c3:d4:e5,45",
        "a1b2c3d4e5f6,256",
        "zzb2c3d4e5f6,1",
    ],
)
def test_v8_unreadable_wifi_pair_is_skipped(pair: str) -> None:
    pos = position(f"{V8},{CELL},{pair},{AP[1]},9,20,125,87#")
    assert pos.wifi == (WifiAccessPoint("A1B2C3D4E5F7", 60),)
    assert pos.warnings == ("unreadable Wi-Fi access point",)
    assert pos.satellites == 9


@pytest.mark.parametrize("cell", ["460,00,x,3721", "4600,00,1,2", "460,00,70000,1", "460,,1,2"])
def test_v8_unreadable_cell(cell: str) -> None:
    pos = position(f"{V8},{cell},9,20,125,87#")
    assert (pos.mcc, pos.mnc, pos.cells) == (None, None, ())
    assert pos.warnings == ("unreadable serving cell",)
    assert pos.battery_percent == 87


# --- V6 (§13.1) -------------------------------------------------------------------------------


def test_v6_of_the_note() -> None:
    raw = (
        "*HQ,3177718238,V6,002926,V,3514.4088,N,9733.2842,W,0.00,0.00,151222,FFF7FBFF,"
        "310,260,32936,13641,8944501311217563382F,#"
    )
    pos = position(raw)
    assert pos.message_type == "V6"
    assert pos.iccid == "8944501311217563382"
    assert (pos.mcc, pos.mnc, pos.cells) == (310, 260, (Cell(32936, 13641),))
    assert pos.alarms == {Alarm.POWER_CUT}  # bit 19 keeps its classic meaning
    assert pos.warnings == ()


@pytest.mark.parametrize(
    ("iccid", "expected"),
    [
        ("8944501311217563382F", "8944501311217563382"),  # F filler
        ("8944501311217563382f", "8944501311217563382"),
        ("89445013112175633821", "89445013112175633821"),  # no filler: 20 digits
        ("894450131121756338", "894450131121756338"),  # 18
        ("8944501311217563382123", "8944501311217563382123"),  # 22
    ],
)
@pytest.mark.parametrize("end", [",#", "#"])  # with and without the empty trailing field
def test_v6_iccid(iccid: str, expected: str, end: str) -> None:
    pos = position(f"{V6},{CELL},{iccid}{end}")
    assert pos.iccid == expected
    assert pos.warnings == ()
    assert pos.cells == (Cell(10342, 3721),)


@pytest.mark.parametrize(
    "iccid",
    [
        "89445013112175633",
        "89445013112175633821234",
        "8944501311217563382X",
        "89F4450131121756338",
        "",
    ],
)
def test_v6_bad_iccid_is_none_with_a_warning(iccid: str) -> None:
    pos = position(f"{V6},{CELL},{iccid},#")
    assert pos.iccid is None
    assert pos.warnings == ("ICCID is not 18-22 digits",)
    assert pos.mcc == 460


def test_v6_with_more_fields_than_its_layout_says_so() -> None:
    pos = position(f"{V6},{CELL},8944501311217563382F,7,8#")
    assert pos.iccid == "8944501311217563382"
    assert pos.warnings == ("V6 tail of 7 fields not understood",)


def test_v6_without_a_tail_keeps_the_fix() -> None:
    pos = position(V6 + "#")
    assert pos.warnings == ("V6 tail of 0 fields not understood",)
    assert (pos.iccid, pos.mcc) == (None, None)


# --- the two status tables (§13.4) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("bit", "classic", "four_g"),
    [
        (17, set(), {Alarm.VIBRATION}),
        (25, {Alarm.TAMPER}, {Alarm.MOVEMENT}),
        (5, {Alarm.GPS_ANTENNA}, {Alarm.LOW_BATTERY}),
        (6, {Alarm.GPS_ANTENNA}, {Alarm.LOW_BATTERY}),
        (26, set(), set()),  # "data update": not an alarm in either
        (0, {Alarm.VIBRATION}, {Alarm.VIBRATION}),  # not named by the 4G table: classic meaning
        (19, {Alarm.POWER_CUT}, {Alarm.POWER_CUT}),
        (1, {Alarm.SOS}, {Alarm.SOS}),
        (2, {Alarm.OVERSPEED}, {Alarm.OVERSPEED}),
        (21, {Alarm.GPS_ANTENNA}, {Alarm.GPS_ANTENNA}),
        (27, set(), set()),  # the immobilizer: a flag
    ],
)
def test_alarm_bits_of_each_dialect(bit: int, classic: set[Alarm], four_g: set[Alarm]) -> None:
    word = 0xFFFFFFFF & ~(1 << bit)
    assert status_info(word)[2] == classic
    assert status_info(word, four_g=True)[2] == four_g
    assert status_info(word)[1] == status_info(word, four_g=True)[1]  # the flags agree
    text = f"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,{word:08X}#"
    assert position(text).alarms == classic
    c = codec()
    c.dialect = "4g"
    decoded = c.feed(text.encode())[0]
    assert decoded.message.alarms == four_g  # type: ignore[union-attr]


def test_v6_and_v8_are_always_read_with_the_4g_table() -> None:
    word = f"{0xFFFFFFFF & ~(1 << 17) & ~(1 << 25):08X}"  # vibration + moved (4G)
    c = codec()
    c.dialect = "classic"
    v8 = c.feed(HEAD.format(mtype="V8", status=word).encode() + b",0,0,0,0,22,31,126,0#")
    assert v8[0].message.alarms == {Alarm.VIBRATION, Alarm.MOVEMENT}  # type: ignore[union-attr]


def test_the_dialect_follows_the_first_v6_or_v8() -> None:
    word = f"{0xFFFFFFFF & ~(1 << 5):08X}"  # GPS antenna (classic), low battery (4G)
    v1 = f"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,{word}#".encode()
    binary = bytearray.fromhex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
    binary[28] = 0xFF & ~(1 << 5)
    c = codec()
    assert c.feed(v1)[0].message.alarms == {Alarm.GPS_ANTENNA}  # type: ignore[union-attr]
    assert c.feed(bytes(binary))[0].message.alarms == {Alarm.GPS_ANTENNA}  # type: ignore[union-attr]
    c.feed((V8 + ",0,0,0,0,22,31,126,0#").encode())
    assert c.dialect == "4g"
    assert c.feed(v1)[0].message.alarms == {Alarm.LOW_BATTERY}  # type: ignore[union-attr]
    assert c.feed(bytes(binary))[0].message.alarms == {Alarm.LOW_BATTERY}  # type: ignore[union-attr]
    ack = c.feed(
        f"*HQ,1,V4,S20,OK,010203,050316,A,2212.8745,N,11346.6574,E,1,2,220902,{word}#".encode()
    )[0].message
    assert isinstance(ack, CommandAck)
    assert ack.position is not None
    assert ack.position.alarms == {Alarm.LOW_BATTERY}


def test_a_refused_v8_does_not_set_the_dialect() -> None:
    c = codec()
    out = c.feed(
        b"*HQ,12x,V8,213945,A,3542.2043,N,38.6508,W,0.00,170,221025,FBFFF9FF,0,0,0,0,22,31,126,0#"
    )
    assert c.stats.errors == 1
    assert out[0].reason  # type: ignore[union-attr]
    assert c.dialect is None


# --- acknowledgements as the 4G note writes them (§13.3) ---------------------------------------

ACK_FIX = "2235.0086,N,11354.3668,E,000.00,000,160716"


@pytest.mark.parametrize(
    ("raw", "command", "params", "tag", "success"),
    [
        (
            f"V4,D1,30,65535,062108,062225,A,{ACK_FIX},FFFFBBFF",
            "D1",
            ("30", "65535"),
            "062108",
            None,
        ),
        (f"V4,S71,01,062328, 062355, A,{ACK_FIX},FFFFBBFF", "S71", ("01",), "062328", None),
        (f"V4,S71,02,063012, 063055, A,{ACK_FIX},FFFFBBFF", "S71", ("02",), "063012", None),
        (f"V4,S20,OK,061158,061202, A,{ACK_FIX}F7FFBBFF", "S20", ("OK",), "061158", True),
        (f"V4,SCF,061837,061955, A,{ACK_FIX},FFFFB9FF", "SCF", (), "061837", None),
        (f"V4,S71,OK,062328,062355,A,{ACK_FIX},FFFFBBFF", "S71", ("OK",), "062328", True),
        (f"V4,S20,00,061158,061202,A,{ACK_FIX},FFFFBBFF", "S20", ("00",), "061158", False),
    ],
)
def test_ack_shapes_of_the_4g_note(
    raw: str, command: str, params: tuple[str, ...], tag: str, success: bool | None
) -> None:
    ack = one(f"*HQ,8168000005,{raw},460,00,10342,3721#".encode()).message
    assert isinstance(ack, CommandAck)
    assert (ack.command, ack.params, ack.tag, ack.success) == (command, params, tag, success)
    assert ack.position is not None
    assert ack.position.valid is True
    assert ack.position.fix_time is not None
    assert ack.position.status is not None
    assert (ack.position.latitude, ack.position.longitude) == (22.583477, 113.906113)
    assert ack.position.extras == ("460", "00", "10342", "3721")
