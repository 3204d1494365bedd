"""H02 decoding rules (h02.md §2-§5), one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from h02_helpers import NOW, decode_all, messages, one

from custom_components.sinotrack.protocol.h02 import (
    H02Status,
    active_conditions,
    battery_percent,
    status_info,
)
from custom_components.sinotrack.protocol.h02 import fields as h02_fields
from custom_components.sinotrack.protocol.h02 import values as h02_values
from custom_components.sinotrack.protocol.model import (
    Alarm,
    CellReport,
    CommandAck,
    Decoded,
    DecodeError,
    DeviceIdentity,
    Flags,
    Heartbeat,
    Position,
)

V1 = "*HQ,4106012736,V1,224434,A,{lat},{ns},{lon},{ew},000.00,000,100117,FFFFFBFF#"


def position(raw: str | bytes, **kwargs: object) -> Position:
    message = one(raw.encode() if isinstance(raw, str) else raw, **kwargs).message
    assert isinstance(message, Position)
    return message


def error(raw: str) -> DecodeError:
    out = decode_all(raw.encode())
    assert len(out) == 1
    assert isinstance(out[0], DecodeError), out
    return out[0]


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maker", "device_id"),
    [("HQ", "4106012736"), ("hq", "356327080425330"), ("TH", "1"), ("XY", "0000000000")],
)
def test_any_maker_and_any_id_as_sent(maker: str, device_id: str) -> None:
    raw = f"*{maker},{device_id},V1,224434,A,1827.3855,N,06705.7577,W,0,0,100117,FFFFFBFF#"
    assert position(raw).device_id == device_id


# --- coordinates (§3.4) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "ns", "expected"),
    [
        ("2212.8745", "N", 22.214575),
        ("2827.61232", "N", 28.460205),
        ("701.8915", "S", -7.031525),
        ("38.6508", "S", -0.64418),
        ("37573392", "S", -37.955653),
        ("-23-29.0095", "S", -23.483492),
        ("-23-3.3408", "S", -23.05568),
        ("0.0000", "N", 0.0),
    ],
)
def test_latitude_shapes(lat: str, ns: str, expected: float) -> None:
    raw = V1.format(lat=lat, ns=ns, lon="01433.7822", ew="E")
    assert position(raw).latitude == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("lon", "ew", "expected"),
    [
        ("11346.6574", "E", 113.777623),
        ("954.9490", "E", 9.915817),
        ("2117.4683", "E", 21.291138),
        ("145037022", "E", 145.061703),
        ("-48-2.8926", "W", -48.04821),
        ("38.6508", "W", -0.64418),
        ("17959.9999", "W", -179.9999998),
    ],
)
def test_longitude_shapes(lon: str, ew: str, expected: float) -> None:
    raw = V1.format(lat="2212.8745", ns="N", lon=lon, ew=ew)
    assert position(raw).longitude == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("lat", "ns", "lon", "ew"),
    [
        ("9999.9999", "N", "99999.9999", "E"),  # ST-901L no-fix filler
        ("0.0000", "0", "0.0000", "0"),  # hemisphere 0
        ("", "N", "", "E"),  # empty
        ("9100.0000", "N", "01433.7822", "E"),  # latitude > 90
        ("2212.8745", "N", "18100.0000", "E"),  # longitude > 180
        ("2275.0000", "N", "01433.7822", "E"),  # minutes >= 60
        ("22a2.8745", "N", "01433.7822", "E"),  # not a number
        ("nan", "N", "01433.7822", "E"),
        ("1.5e3", "N", "01433.7822", "E"),
        ("-23-x", "S", "01433.7822", "E"),
        ("2212.8745", "X", "01433.7822", "E"),
    ],
)
def test_bad_coordinates_are_decode_errors(lat: str, ns: str, lon: str, ew: str) -> None:
    assert error(V1.format(lat=lat, ns=ns, lon=lon, ew=ew)).reason


@pytest.mark.parametrize(
    ("lat", "lon", "latitude", "longitude"),
    [
        # Four decimals of minutes: six of a degree (issue #15: not 50.588550000000005).
        ("5035.3130", "00431.8210", 50.588550, 4.530350),
        ("5035.3129", "00431.8211", 50.588548, 4.530352),
        ("2212.8745", "11346.6574", 22.214575, 113.777623),
        ("37573392", "145037022", 37.955653, 145.061703),  # no dot: four implied decimals
        # Five decimals of minutes: seven of a degree, so no two readings collapse.
        ("2827.61232", "01324.10718", 28.4602053, 13.4017863),
        ("-23-29.0095", "-48-2.8926", 23.483492, 48.04821),
    ],
)
def test_coordinates_are_rounded_once_to_the_precision_sent(
    lat: str, lon: str, latitude: float, longitude: float
) -> None:
    ns, ew = ("S", "W") if lat.startswith("-") else ("N", "E")
    pos = position(V1.format(lat=lat, ns=ns, lon=lon, ew=ew))
    sign = -1 if ns == "S" else 1
    assert (pos.latitude, pos.longitude) == (sign * latitude, sign * longitude)  # exactly


def test_binary_coordinates_are_rounded_to_six_decimals() -> None:
    pos = position(_binary())
    assert (pos.latitude, pos.longitude) == (50.58855, 4.53035)  # exactly
    assert repr(pos.latitude) == "50.58855"


@pytest.mark.parametrize(
    ("lat", "speed", "course"),
    [
        ("inf", "0", "0"),
        ("1e3", "0", "0"),
        ("1_000.5", "0", "0"),
        ("9" * 40, "0", "0"),
        ("2212.8745", "nan", "0"),
        ("2212.8745", "inf", "0"),
        ("2212.8745", "1e3", "0"),
        ("2212.8745", "1_0", "0"),
        ("2212.8745", "9" * 40, "0"),
        ("2212.8745", "2001", "0"),
        ("2212.8745", ".", "0"),
        ("2212.8745", "1.2.3", "0"),
        ("2212.8745", "0", "NaN"),
        ("2212.8745", "0", "-0"),
        ("2212.8745", "0", "360.1"),
        ("2212.8745", "0", "\u0661"),
    ],
)
def test_no_nan_infinity_or_oversized_number_passes(lat: str, speed: str, course: str) -> None:
    raw = f"*HQ,1,V1,050316,A,{lat},N,11346.6574,E,{speed},{course},220902,FFFFFBFF#"
    out = decode_all(raw.encode())
    assert len(out) == 1
    assert isinstance(out[0], DecodeError), out


@pytest.mark.parametrize(
    "raw",
    [
        "*HQ,1,HTBT,1e2#",
        "*HQ,1,HTBT,101#",
        "*HQ,1,HTBT,99999999999999999999999#",
        "*HQ,1,LINK,112137,nan,1_0,1e2,0,0,081116,FFFFFBFF#",
    ],
)
def test_unreadable_small_numbers_are_none(raw: str) -> None:
    hb = one(raw.encode()).message
    assert isinstance(hb, Heartbeat)
    assert (hb.battery_percent, hb.signal, hb.satellites) == (None, None, None)


def test_no_fix_message_is_an_error_not_an_exception() -> None:
    err = error("*HQ,353505510948929,V1,,V,,N,,E,0.00,0,,FFFFF7FF,f0,a,11a0,c0c6#")
    assert err.raw.startswith(b"*HQ,353505510948929")


# --- validity, speed, course, time ----------------------------------------------------------


@pytest.mark.parametrize(
    ("mtype", "flag", "valid"),
    [
        ("V1", "A", True),
        ("V1", "V", False),
        ("V1", "", False),
        ("V1", "B", False),
        ("V2", "0", True),
        ("VI1", "1", True),
    ],
)
def test_validity(mtype: str, flag: str, valid: bool) -> None:
    raw = f"*HQ,1,{mtype},050316,{flag},2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#"
    pos = position(raw)
    assert pos.valid is valid
    assert pos.message_type == mtype


def test_vp1_accepts_b_and_has_no_time_of_day() -> None:
    pos = position("*hq,356327080425330,VP1,B,2702.7245,S,15251.9311,E,0.48,0.0000,080917#")
    assert pos.valid
    assert pos.fix_time == datetime(2017, 9, 8, tzinfo=UTC)
    assert pos.speed_kmh == pytest.approx(0.48 * 1.852)


def test_vp1_lbs_form_is_a_cell_report() -> None:
    message = one(b"*HQ,356327080425330,VP1,V,460,0,9338,3692,150Y9338,3691,145#").message
    assert isinstance(message, CellReport)
    assert (message.mcc, message.mnc) == (460, 0)
    assert [(c.lac, c.cid, c.rssi) for c in message.cells] == [
        (9338, 3692, 150),
        (9338, 3691, 145),
    ]


@pytest.mark.parametrize(
    ("speed", "course", "kmh", "deg"),
    [("14.28", "028", 26.44656, 28.0), ("  3.34", "342", 6.18568, 342.0), ("", "", 0.0, 0.0)],
)
def test_speed_is_knots_converted_to_kmh(speed: str, course: str, kmh: float, deg: float) -> None:
    raw = f"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,{speed},{course},220902,FFFFFBFF#"
    pos = position(raw)
    assert pos.speed_kmh == pytest.approx(kmh)
    assert pos.course == deg


@pytest.mark.parametrize(("speed", "course"), [("-1", "0"), ("1", "400"), ("x", "0")])
def test_bad_speed_or_course_is_an_error(speed: str, course: str) -> None:
    error(f"*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,{speed},{course},220902,FFFFFBFF#")


@pytest.mark.parametrize(
    ("time", "date", "expected", "warnings"),
    [
        ("050316", "220902", datetime(2002, 9, 22, 5, 3, 16, tzinfo=UTC), ()),
        ("", "220902", datetime(2002, 9, 22, tzinfo=UTC), ()),  # no time: midnight
        ("050316", "", None, ()),  # no date: the receive time is the caller's business
        ("050316.000", "220902", datetime(2002, 9, 22, 5, 3, 16, tzinfo=UTC), ()),
        ("235959", "290224", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), ()),
        # Impossible: no fix time, and the reason.
        ("250000", "310224", None, ("impossible fix time 250000 310224",)),
        ("250316", "220902", None, ("impossible fix time 250316 220902",)),
        ("240000", "220902", None, ("impossible fix time 240000 220902",)),  # not next midnight
        ("056016", "220902", None, ("impossible fix time 056016 220902",)),  # minute 60
        ("050360", "220902", None, ("impossible fix time 050360 220902",)),  # second 60
        ("050316", "310224", None, ("impossible fix time 050316 310224",)),  # 31 February
        ("050316", "290223", None, ("impossible fix time 050316 290223",)),  # not a leap year
        ("050316", "001322", None, ("impossible fix time 050316 001322",)),
        ("0503", "220902", None, ("unreadable fix time",)),
        ("05:03:16", "220902", None, ("unreadable fix time",)),
        ("050316", "22-09-02", None, ("unreadable fix date",)),
    ],
)
def test_fix_time(
    time: str, date: str, expected: datetime | None, warnings: tuple[str, ...]
) -> None:
    raw = f"*HQ,1,V1,{time},A,2212.8745,N,11346.6574,E,1,2,{date},FFFFFBFF#"
    pos = position(raw)
    assert pos.fix_time == expected
    assert pos.warnings == warnings
    assert pos.latitude == pytest.approx(22.214575)  # the fix itself is kept


def test_battery_slot_before_the_date_is_skipped() -> None:
    pos = position("*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,047,4,080918,EEE7FBDF,4261193,0#")
    assert pos.fix_time == datetime(2018, 9, 8, 5, 3, 16, tzinfo=UTC)
    assert pos.status == 0xEEE7FBDF  # Traccar loses this one (§3.1)
    assert pos.extras == ("4261193", "0")


def test_v19_status_after_the_sim_fields_and_date_kept() -> None:
    raw = (
        "*HQ,4209951296,V19,214452,A,5201.0178,N,01830.5029,E,000.00,000,200417,"
        ",195.63.13.195,89480610500392633029,BFFFFBFF#"
    )
    pos = position(raw)
    assert pos.fix_time == datetime(2017, 4, 20, 21, 44, 52, tzinfo=UTC)
    assert pos.status == 0xBFFFFBFF


def test_status_is_the_field_after_the_date_not_any_8_hex_field() -> None:
    pos = position("*HQ,1,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,,89920147#")
    assert pos.status is None
    assert pos.extras == ("", "89920147")


def test_extras_are_kept_raw_and_trimmed() -> None:
    pos = position(
        "*HQ,353588020068342,V1,084436,A,3257.01525,N,00655.03865,W,57.78,40,011216,FFFBFFFF,"
        "25c,a, 154,b04c#"
    )
    assert pos.extras == ("25c", "a", "154", "b04c")


def test_lowercase_status() -> None:
    assert (
        position(
            V1.replace("FFFFFBFF", "effffbff").format(
                lat="2212.8745", ns="N", lon="01433.7822", ew="E"
            )
        ).status
        == 0xEFFFFBFF
    )


# --- status word (§4) ----------------------------------------------------------------------


def test_h02_status_names_all_32_bits() -> None:
    assert len(list(H02Status)) == 32
    assert sum(int(bit) for bit in H02Status) == 0xFFFFFFFF


def test_active_conditions_undo_the_negative_logic() -> None:
    assert active_conditions(0xFFFFFBFF) == H02Status.ACC_OFF
    assert active_conditions(0xFFFFFFFF) == H02Status(0)
    assert active_conditions(0xF7FBFBFF) == (
        H02Status.ENGINE_CUT | H02Status.SOS_STATE | H02Status.ACC_OFF
    )


@pytest.mark.parametrize(
    ("status", "flags"),
    [
        (0xFFFFFBFF, Flags(False, False, False, False, False)),
        (0xFFFFFFFF, Flags(True, False, False, False, False)),
        (0xFFF7FBFF, Flags(False, True, False, False, False)),
        (0xF7FFFBFF, Flags(False, False, True, False, False)),
        (0xFFFFFEFF, Flags(True, False, False, True, False)),
        (0xFFFFF9FF, Flags(False, False, False, False, True)),
    ],
)
def test_flags(status: int, flags: Flags) -> None:
    assert status_info(status)[1] == flags


@pytest.mark.parametrize(
    ("bit", "alarm"),
    [
        (0, Alarm.VIBRATION),
        (1, Alarm.SOS),
        (18, Alarm.SOS),
        (2, Alarm.OVERSPEED),
        (3, Alarm.ILLEGAL_IGNITION),
        (4, Alarm.GEOFENCE),
        (7, Alarm.GEOFENCE),
        (5, Alarm.GPS_ANTENNA),
        (6, Alarm.GPS_ANTENNA),
        (21, Alarm.GPS_ANTENNA),
        (22, Alarm.GPS_ANTENNA),
        (8, Alarm.DOOR),
        (19, Alarm.POWER_CUT),
        (20, Alarm.TAMPER),
        (28, Alarm.TAMPER),
        (16, Alarm.FAULT),
        (26, None),  # SinoTrack clears it routinely: informational only
        (15, None),  # overspeed state, cleared at 0 kn in a real capture
        (14, None),
        (9, None),
        (10, None),
        (27, None),
    ],
)
def test_alarm_bits(bit: int, alarm: Alarm | None) -> None:
    alarms = status_info(0xFFFFFFFF & ~(1 << bit))[2]
    assert alarms == (frozenset({alarm}) if alarm else frozenset())


def test_date_cache_is_bounded() -> None:
    for k in range(10_000):
        h02_fields.fix_time("000000", f"{k:06d}")
    assert h02_values.cached_days() <= h02_values._CACHE_LIMIT


def test_status_caches_are_bounded() -> None:
    for word in range(10_000):
        status_info(word)
        status_info(word, four_g=True)
        h02_values.FOUR_G.text(f"{word:08X}")
    for table in (h02_values.CLASSIC, h02_values.FOUR_G):
        assert table.cached() <= 2 * h02_values._CACHE_LIMIT


# --- message types ----------------------------------------------------------------------------


def test_v4_full_form() -> None:
    ack = one(
        b"*HQ,0000000000,V4,D1,60,65535,075244,075242,A,5224.7385,N,01233.2876,E,000.00,307,141020,FFFF7BFF,262,01,14082,51348#"
    ).message
    assert isinstance(ack, CommandAck)
    assert (ack.command, ack.params, ack.tag) == ("D1", ("60", "65535"), "075244")
    assert ack.success is None  # "60" is the echoed interval, not a failure code
    assert ack.position is not None
    assert ack.position.fix_time == datetime(2020, 10, 14, 7, 52, 42, tzinfo=UTC)
    assert ack.position.message_type == "V4"


@pytest.mark.parametrize(
    ("raw", "command", "tag", "params", "result", "success"),
    [
        ("*HQ,1,V4,CR#", "CR", None, (), None, None),
        ("*HQ,7340001234,V4,S20,034313,1,1#", "S20", "034313", ("1", "1"), None, None),
        ("*HQ,1,V4,S20,DONE,130305#", "S20", "130305", ("DONE",), "DONE", True),
        ("*HQ,1,V4,S1,OK,pass,130305#", "S1", "130305", ("OK", "pass"), "OK", True),
        ("*HQ,1,V4,S20,ERROR,130305#", "S20", "130305", ("ERROR",), "ERROR", False),
        ("*HQ,1,V4,RESET,80,130305#", "RESET", "130305", ("80",), "80", True),
        ("*HQ,1,V4,S20,00,130305#", "S20", "130305", ("00",), "00", False),
        ("*HQ,1,V4,S20,01,130305#", "S20", "130305", ("01",), "01", False),
        ("*HQ,1,V4,APN,#", "APN", None, ("",), None, None),
    ],
)
def test_v4_short_forms_and_results(  # noqa: PLR0917 - parametrised
    raw: str,
    command: str,
    tag: str | None,
    params: tuple[str, ...],
    result: str | None,
    success: bool | None,
) -> None:
    ack = one(raw.encode()).message
    assert isinstance(ack, CommandAck)
    assert (ack.command, ack.tag, ack.params) == (command, tag, params)
    assert (ack.result, ack.success, ack.position) == (result, success, None)


def test_v4_with_a_fix_and_a_result_word() -> None:
    ack = one(
        b"*TH,2020916012,V4,S20,DONE,130305,050316,A,2212.8745,N,11346.6574,E,14.28,028,220902,F7FFFBFF#"
    ).message
    assert isinstance(ack, CommandAck)
    assert ack.success is True
    assert ack.position is not None
    assert ack.position.flags.immobilizer_engaged is True


def test_link_is_a_heartbeat_with_signal_satellites_battery() -> None:
    hb = one(b"*HQ,1600068860,LINK,112137,20,8,67,0,0,081116,FFFFFBFF#").message
    assert hb == Heartbeat(
        "h02",
        "1600068860",
        "LINK",
        device_time=datetime(2016, 11, 8, 11, 21, 37, tzinfo=UTC),
        status=0xFFFFFBFF,
        flags=status_info(0xFFFFFBFF)[1],
        battery_percent=67,
        signal=20,
        satellites=8,
    )


@pytest.mark.parametrize(
    ("raw", "mtype", "battery"),
    [
        ("*HQ,135790246811220,HTBT,100#", "HTBT", 100),
        ("*HQ,135790246811220,HTBT#", "HTBT", None),
        ("*HQ,1234567890,V0#", "V0", None),
        ("*HQ,1234567890,XT#", "XT", None),
        ("*HQ,1234567890,XT,V,0,0#", "XT", None),
    ],
)
def test_heartbeats(raw: str, mtype: str, battery: int | None) -> None:
    hb = one(raw.encode()).message
    assert isinstance(hb, Heartbeat)
    assert (hb.message_type, hb.battery_percent) == (mtype, battery)


def test_sms_keeps_the_text_and_finds_model_and_firmware() -> None:
    info = one(b"*HQ,5226073533,SMS,ST906(70SACD)_TQ_V_2.0 2024/06/07\nID:5226073533\nGSM:26#")
    assert isinstance(info.message, DeviceIdentity)
    assert info.message.text == "ST906(70SACD)_TQ_V_2.0 2024/06/07\nID:5226073533\nGSM:26"
    assert info.message.model == "ST906"
    assert info.message.firmware == "ST906(70SACD)_TQ_V_2.0 2024/06/07"
    assert info.reply is None


def test_base_and_bs_are_cell_reports() -> None:
    base = one(b"*HQ,8401016597,BASE,152609,262,1,4321,1234,211014,FFFFFFFF#").message
    assert isinstance(base, CellReport)
    assert (base.mcc, base.mnc, base.cells[0].lac, base.cells[0].cid) == (262, 1, 4321, 1234)
    bs = one(b"*HQ,356803210091319,BS,,2d4,a,1b63,1969,26,1b63,10b2,31,0,0,25,,ffffffff,60#")
    assert isinstance(bs.message, CellReport)
    assert (bs.message.mcc, bs.message.mnc) == (724, 10)
    assert [(c.lac, c.cid, c.rssi) for c in bs.message.cells] == [
        (0x1B63, 0x1969, 26),
        (0x1B63, 0x10B2, 31),
    ]
    assert bs.message.status == 0xFFFFFFFF


@pytest.mark.parametrize(
    ("kind", "alarm"), [("1", Alarm.SOS), ("2", Alarm.LOW_BATTERY), ("3", Alarm.GEOFENCE)]
)
def test_alrm_with_a_fix_is_a_position_with_the_alarm(kind: str, alarm: Alarm) -> None:
    raw = f"*HQ,1,ALRM,{kind},050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#"
    decoded = one(raw.encode())
    assert isinstance(decoded.message, Position)
    assert alarm in decoded.message.alarms
    assert decoded.reply == f"*HQ,1,R12,{NOW:%H%M%S}#".encode()  # a position: R12 (§13.2)


def test_alrm_without_a_fix_is_a_heartbeat_with_the_alarm() -> None:
    hb = one(b"*HQ,1,ALRM,1,050316,V,,N,,E,0,0,220902,FFFFFBFF#").message
    assert isinstance(hb, Heartbeat)
    assert hb.alarms == {Alarm.SOS}
    assert hb.device_time == datetime(2002, 9, 22, 5, 3, 16, tzinfo=UTC)


def test_bc_batch_gives_stored_positions() -> None:
    raw = (
        b"*HQ,1234567890,BC,A,2212.8745,N,11346.6574,E,10,90,05120000,FFFFFBFF,460,0,1,2;"
        b"V,2212.8800,N,11346.6600,E,0,0,04235959,FFFFFFFF;junk#"
    )
    out = messages(raw)
    points = [d.message for d in out]
    assert len(points) == 2
    assert all(isinstance(p, Position) and p.stored for p in points)
    assert [p.fix_time for p in points if isinstance(p, Position)] == [
        datetime(2024, 5, 5, 12, 0, 0, tzinfo=UTC),
        datetime(2024, 5, 4, 23, 59, 59, tzinfo=UTC),
    ]
    assert NOW.day == 6


def test_bc_day_after_today_is_last_month() -> None:
    out = messages(b"*HQ,1,BC,A,2212.8745,N,11346.6574,E,10,90,31120000,FFFFFBFF#")
    assert out[0].message.fix_time == datetime(2024, 3, 31, 12, tzinfo=UTC)  # type: ignore[union-attr]


def test_unknown_type_is_an_error() -> None:
    assert "unsupported" in error("*HQ,1,ZZ,1,2#").reason


# --- binary (§5) -------------------------------------------------------------------------


def _binary(flags: str = "e", battery: str = "06", trailer: str = "ff0024") -> bytes:
    return bytes.fromhex(
        f"244106011660124543131116503531300{battery[1]}{battery[0]}"[:0]
        + "2441060116601245431311165035313006004318210e000000fffffbff"
    )[:0] + bytes.fromhex(
        f"2441060116601245431311165035313{battery}0043182{flags[0]}{flags[0]}"[:0]
        + f"24410601166012454313111650353130{battery}004318210{flags}000000fffffbff{trailer}"
    )


@pytest.mark.parametrize(
    ("flags", "valid", "lat_sign", "lon_sign"),
    [
        ("e", True, 1, 1),
        ("c", False, 1, 1),
        ("6", True, 1, -1),
        ("4", False, 1, -1),
        ("2", True, -1, -1),
        ("a", True, -1, 1),
    ],
)
def test_binary_flags_nibble(flags: str, valid: bool, lat_sign: int, lon_sign: int) -> None:
    pos = position(_binary(flags=flags))
    assert pos.valid is valid
    assert pos.latitude == pytest.approx(lat_sign * 50.58855, abs=1e-5)
    assert pos.longitude == pytest.approx(lon_sign * 4.53035, abs=1e-5)
    assert pos.message_type == "binary"


@pytest.mark.parametrize(
    ("value", "percent"),
    [
        (0, None),
        (1, 0),
        (3, 20),
        (4, 60),
        (6, 100),
        (7, 7),
        (96, 96),
        (100, 100),
        (101, None),
        (0xF1, 1),
        (0xF6, 6),
        (0xFF, None),
    ],
)
def test_battery_byte(value: int, percent: int | None) -> None:
    assert battery_percent(value) == percent


@pytest.mark.parametrize("length", [32, 37, 42, 45, 46, 48, 51])
def test_binary_lengths(length: int) -> None:
    frame = _binary(trailer="ff00" + "00" * (length - 31))
    assert len(frame) == length
    pos = position(frame) if length != 42 else None
    if pos is not None:
        assert pos.device_id == "4106011660"
        assert pos.extras == (frame[29:].hex(),)


def test_binary_long_id() -> None:
    frame = bytes.fromhex(
        "2435248308419329301047591808172627335900074412294e024138feffffffff01120064ba73005ecc"
    )
    pos = position(frame)
    assert pos.device_id == "352483084193293"
    assert pos.speed_kmh == pytest.approx(24 * 1.852)
    assert pos.course == 138.0


def test_binary_with_impossible_date_has_no_fix_time_and_says_why() -> None:
    frame = bytearray(_binary())
    frame[9] = 0x31  # day 31
    frame[10] = 0x02  # of February
    pos = position(bytes(frame))
    assert pos.fix_time is None
    assert pos.warnings == ("impossible fix time 124543 310216",)
    assert pos.latitude == pytest.approx(50.58855)


@pytest.mark.parametrize(
    ("offset", "value"),
    [
        (12, 0x91),  # latitude 91 degrees
        (13, 0x60),  # latitude minutes 60
        (17, 0x18),  # longitude 181 degrees (with the next byte)
        (23, 0x0A),  # a non-decimal digit in the speed
    ],
)
def test_binary_with_impossible_coordinates_is_an_error(offset: int, value: int) -> None:
    frame = bytearray(_binary())
    frame[offset] = value
    if offset == 17:
        frame[18] = 0x10
    out = decode_all(bytes(frame))
    assert len(out) == 1
    assert isinstance(out[0], DecodeError)


GOOD_AFTER = b"*HQ,1600068860,LINK,112137,20,8,67,0,0,081116,FFFFFBFF#"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"*HQ,1,V4#", "V4 without a command"),
        (b"*HQ,1,V4,S-20,1#", "V4 with a bad command word"),
        (b"*HQ,1,NBR,1#", "NBR: too few fields"),
        (b"*HQ,1,V3,1#", "V3: too few fields"),
        (b"*HQ,1,BASE,1#", "BASE: too few fields"),
        (b"*HQ,1,BS,1#", "BS: too few fields"),
        (b"*HQ,1,LINK,1#", "LINK: too few fields"),
        (b"*HQ,1,ALRM#", "ALRM without a type"),
        (b"*HQ,1,BC,A,1#", "BC without a decodable point"),
        # the only point has a hemisphere that is neither N nor S
        (b"*HQ,1,BC,A,2212.8745,X,11346.6574,E,14.28,028,01120000,FFFFFFFF#", "BC without"),
    ],
)
def test_a_truncated_frame_is_refused_and_the_next_one_kept(raw: bytes, reason: str) -> None:
    out = decode_all(raw + GOOD_AFTER)
    assert len(out) == 2, out
    assert isinstance(out[0], DecodeError)
    assert out[0].reason.startswith(reason)
    assert isinstance(out[1], Decoded)
    assert isinstance(out[1].message, Heartbeat)


def test_a_blind_spot_point_with_an_impossible_time_keeps_its_fix_without_a_time() -> None:
    # day 32 and "HHmmss" 99:99:99 fit no month: the point is kept, its time unknown
    points = [
        decoded.message
        for decoded in messages(
            b"*HQ,1,BC,A,2212.8745,N,11346.6574,E,14.28,028,32999999,FFFFFFFF;"
            b"A,2212.8745,N,11346.6574,E,14.28,028,0112,FFFFFFFF#"
        )
    ]
    assert all(isinstance(p, Position) for p in points)
    assert [p.fix_time for p in points] == [None, None]  # the second time is too short
    assert points[0].latitude == pytest.approx(22.21457, abs=1e-5)


def test_lbs_vp1_skips_a_group_without_a_cell() -> None:
    report = one(b"*HQ,1,VP1,V,460,0,1,2,3Y4Y5,6#").message
    assert isinstance(report, CellReport)
    assert (report.mcc, report.mnc) == (460, 0)
    # lac,cid,rssi "1,2,3", then "4" alone (no cell ID: skipped), then lac,cid "5,6"
    assert [(c.lac, c.cid) for c in report.cells] == [(1, 2), (5, 6)]


@pytest.mark.parametrize("text", ["", "12 km/h", "hello"])
def test_an_sms_reply_without_a_model_names_none(text: str) -> None:
    identity = one(b"*HQ,1,SMS," + text.encode() + b"#").message
    assert isinstance(identity, DeviceIdentity)
    assert identity.model is None
    assert identity.text == text
