"""The tracker simulator (tools/simulator): its frames decode to what was meant, it answers
commands like a device, and a run against a real listener shows trackers, alarms and the
immobilizer round trip in Home Assistant."""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.sinotrack.const import DOMAIN
from custom_components.sinotrack.protocol.h02 import H02Codec, H02Status
from custom_components.sinotrack.protocol.jt808 import Jt808Codec
from custom_components.sinotrack.protocol.jt808.decode import STATUS_OIL_CUT
from custom_components.sinotrack.protocol.jt808.framing import xor
from custom_components.sinotrack.protocol.model import (
    Alarm,
    Command,
    CommandAck,
    CommandKind,
    Decoded,
    Heartbeat,
    Position,
)
from tools.simulator import (
    ACK_STYLES,
    Fix,
    SimConfig,
    SimTracker,
    Simulator,
    Stats,
    Vehicle,
    main,
    tracker_class,
)
from tools.simulator import h02_frames as h02
from tools.simulator import jt808_frames as jt808

from .helpers import free_port, setup_listener, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 5, 4, 12, 34, 56, tzinfo=UTC)
FIX = Fix(NOW, 52.3788012, 4.9001456, speed_kmh=47.3, course=123.0)
H02_ID = "4106011600"
JT_ID = "4106011602"


def _jt808_registered() -> bool:
    try:
        from custom_components.sinotrack.protocol import detect

        return detect(b"\x7e") is not None
    except ImportError:
        return False


JT808 = _jt808_registered()
needs_jt808 = pytest.mark.skipif(
    not JT808,
    reason="the JT/T 808 codec is not registered in protocol/framing.py yet",
)


def one(decoded: list[Any]) -> Any:
    """The single message a frame decodes to."""
    assert len(decoded) == 1, decoded
    assert isinstance(decoded[0], Decoded), decoded
    return decoded[0].message


def jt808_codec() -> Jt808Codec:
    return Jt808Codec()


def tracker(protocol: str, *, ack_style: str = "DONE", first_id: int = 4106011600) -> SimTracker:
    """A simulated tracker without sockets (simulated time stands still at 0)."""
    config = SimConfig(protocol=protocol, ack_style=ack_style, parked=True, first_id=first_id)
    kind = tracker_class(protocol)
    return kind(0, config, Stats(), sim_clock=lambda: 0.0, wall_clock=lambda: NOW)


# --- frames ---------------------------------------------------------------------------------


def test_h02_text_frames_decode() -> None:
    status = h02.status_word(ignition=True, sos=True, power_cut=True)
    pos = one(H02Codec().feed(h02.position(H02_ID, FIX, status)))
    assert isinstance(pos, Position)
    assert (pos.device_id, pos.message_type, pos.fix_time, pos.valid) == (H02_ID, "V1", NOW, True)
    assert pos.latitude == pytest.approx(FIX.latitude, abs=2e-6)
    assert pos.longitude == pytest.approx(FIX.longitude, abs=2e-6)
    assert pos.speed_kmh == pytest.approx(47.3, abs=0.01)
    assert pos.course == 123
    assert pos.flags.ignition is True
    assert pos.flags.external_power_cut is True
    assert pos.alarms == {Alarm.SOS, Alarm.POWER_CUT}
    assert f"{pos.status:08X}" == "FFF7FFFD"

    parked = one(H02Codec().feed(h02.position(H02_ID, FIX, h02.status_word(ignition=False))))
    assert f"{parked.status:08X}" == "FFFFFBFF"
    assert parked.flags.ignition is False
    assert not parked.alarms

    south_west = Fix(NOW, -33.8688, -151.2093)
    pos = one(H02Codec().feed(h02.position(H02_ID, south_west, 0xFFFFFFFF)))
    assert (pos.latitude, pos.longitude) == pytest.approx((-33.8688, -151.2093), abs=2e-6)

    low = one(H02Codec().feed(h02.alarm(H02_ID, 2, FIX, h02.status_word(ignition=True))))
    assert low.alarms == {Alarm.LOW_BATTERY}

    link = h02.link(H02_ID, NOW, signal=21, satellites=9, battery=64, status=0xFFFFFBFF)
    beat = one(H02Codec().feed(link))
    assert isinstance(beat, Heartbeat)
    assert (beat.battery_percent, beat.signal, beat.satellites) == (64, 21, 9)


def test_h02_binary_frame_decodes() -> None:
    status = h02.status_word(ignition=False, vibration=True)
    frame = h02.binary_position(H02_ID, FIX, status, 55, sequence=300)
    assert len(frame) == 32
    pos = one(H02Codec().feed(frame))
    assert (pos.device_id, pos.message_type, pos.fix_time) == (H02_ID, "binary", NOW)
    assert pos.latitude == pytest.approx(FIX.latitude, abs=2e-6)
    assert pos.longitude == pytest.approx(FIX.longitude, abs=2e-6)
    assert pos.speed_kmh == pytest.approx(26 * 1.852)  # whole knots
    assert pos.course == 123
    assert pos.battery_percent == 55
    assert pos.status == status
    assert pos.alarms == {Alarm.VIBRATION}
    assert pos.flags.ignition is False

    # The battery byte: a percentage from 7 up, the 1-6 scale below (1 = 0 %).
    for percent, expected in ((100, 100), (7.4, 7), (6, 0), (0, 0)):
        byte = h02.battery_byte(percent)
        pos = one(H02Codec().feed(h02.binary_position(H02_ID, FIX, status, percent)))
        assert pos.battery_percent == expected, (percent, byte)


@pytest.mark.parametrize("style", ACK_STYLES)
def test_h02_ack_styles_decode(style: str) -> None:
    status = h02.status_word(ignition=False, immobilized=True)
    frame = h02.ack(H02_ID, "S20", "101112", style, fix=FIX, status=status, params=["1", "1"])
    ack = one(H02Codec().feed(frame))
    assert isinstance(ack, CommandAck)
    assert (ack.command, ack.tag) == ("S20", "101112")
    if style == "echo":
        assert ack.position is None
        assert ack.params == ("1", "1")
    else:
        assert ack.success is True
        assert ack.result == style
        assert ack.position is not None
        assert ack.position.flags.immobilizer_engaged is True


def test_jt808_frames_are_the_packages() -> None:
    """Built with the protocol package's framing and cut and checked by it: the phone number in
    BCD, a checksum of 7E escaped, a platform frame out of a stream with junk around it, and a
    broken checksum refused."""
    phone = jt808.phone(JT_ID)
    assert phone.hex() == "004106011602"
    # A serial whose checksum is 7E: the checksum byte itself is escaped.
    serial = next(
        s for s in range(65536) if xor(bytes.fromhex("00020000") + phone + s.to_bytes(2)) == 0x7E
    )
    frame = jt808.frame(0x0002, b"", phone, serial)
    assert frame.endswith(b"\x7d\x02\x7e")
    assert frame.count(b"\x7e") == 2
    parsed = jt808.parse(frame)
    assert (parsed.message_id, parsed.id_bytes.hex(), parsed.serial, parsed.body) == (
        0x0002,
        "004106011602",
        serial,
        b"",
    )
    # Content with 7E and 7D in it, split from a stream with junk around it.
    body = bytes.fromhex("7e7d007e")
    frame = jt808.frame(0x8900, body, phone, 0x7D7E)
    assert b"\x7e" not in frame[1:-1]
    frames, rest = jt808.ServerFrames().split(b"junk" + frame + frame[:5], final=False)
    assert [(f.message_id, f.body, f.serial) for f in frames] == [(0x8900, body, 0x7D7E)]
    assert rest == frame[:5]
    broken = bytearray(frame)
    broken[-2] ^= 0x01
    with pytest.raises(ValueError, match="checksum"):
        jt808.parse(bytes(broken))

    # A terminal counts a broken frame from the platform as an error and goes on.
    sim = tracker("jt808", first_id=int(JT_ID))
    good = jt808.frame(0x8300, b"\x00hi", phone, 7)
    (answer,) = sim.receive(bytes(broken) + good)
    assert jt808.parse(answer).message_id == 0x0001
    assert sim.stats.errors == 1
    assert "checksum" in sim.stats.error_samples[0]


def test_jt808_location_decodes() -> None:
    codec = jt808_codec()
    alarm, status = jt808.words(
        ignition=True, fix=FIX, immobilized=True, power_cut=True, vibration=True
    )
    items = jt808.items(odometer_km=12345.6, signal=23, satellites=11, battery=41, external=False)
    frame = jt808.frame(
        0x0200, jt808.location_body(FIX, alarm, status, items), jt808.phone(JT_ID), 5
    )
    (decoded,) = codec.feed(frame)
    pos = decoded.message
    assert pos.device_id == JT_ID  # the leading zeros of 004106011602 are dropped
    assert pos.fix_time == NOW  # sent as Beijing time, read back as UTC
    assert (pos.latitude, pos.longitude) == pytest.approx((FIX.latitude, FIX.longitude), abs=1e-6)
    assert pos.speed_kmh == pytest.approx(47.3)
    assert pos.course == 123
    assert (pos.odometer_km, pos.signal, pos.satellites) == (12345.6, 23, 11)
    assert pos.battery_percent == 41
    assert pos.flags.ignition is True
    assert pos.flags.immobilizer_engaged is True
    assert pos.flags.external_power_cut is True
    assert {Alarm.POWER_CUT, Alarm.VIBRATION} <= pos.alarms
    reply = jt808.parse(decoded.reply)
    assert (reply.message_id, reply.body) == (0x8001, bytes.fromhex("0005020000"))


# --- a tracker's answers, without sockets ---------------------------------------------------


@pytest.mark.parametrize("style", ACK_STYLES)
def test_h02_tracker_engine_cut(style: str) -> None:
    sim = tracker("h02", ack_style=style)
    server = H02Codec(clock=lambda: NOW)
    (report,) = sim.report_frames()
    assert one(server.feed(report)).status & H02Status.ENGINE_CUT

    cut = server.encode(H02_ID, Command(CommandKind.ENGINE_STOP), NOW)
    (answer,) = sim.receive(cut.data)
    ack = one(server.feed(answer))
    assert server.matches(cut, ack)
    assert ack.success is not False
    if style != "echo":
        assert ack.position.status & H02Status.ENGINE_CUT == 0
        assert ack.position.speed_kmh == 0
    assert sim.snapshot().immobilized
    for _ in range(3):  # every later report keeps bit 27 cleared
        (report,) = sim.report_frames()
        assert one(server.feed(report)).status & H02Status.ENGINE_CUT == 0

    restore = server.encode(H02_ID, Command(CommandKind.ENGINE_RESUME), NOW)
    (answer,) = sim.receive(restore.data)
    assert server.matches(restore, one(server.feed(answer)))
    (report,) = sim.report_frames()
    assert one(server.feed(report)).status & H02Status.ENGINE_CUT
    assert sim.stats.commands == {"S20": 2}
    assert sim.stats.commands_answered == 2


def test_h02_tracker_other_commands_and_replies() -> None:
    sim = tracker("h02")
    server = H02Codec(clock=lambda: NOW)
    request = server.encode(H02_ID, Command(CommandKind.REQUEST_POSITION), NOW)
    assert sim.receive(request.data) == [f"*HQ,{H02_ID},V4,CR#".encode()]
    assert sim.report_now

    interval = server.encode(H02_ID, Command(CommandKind.SET_INTERVAL, interval_s=30), NOW)
    (answer,) = sim.receive(interval.data)
    assert server.matches(interval, one(server.feed(answer)))
    assert sim.drive_interval == 30

    (answer,) = sim.receive(server.encode(H02_ID, Command(CommandKind.ARM), NOW).data)
    assert one(server.feed(answer)).success is True
    assert sim.armed

    (report,) = sim.report_frames()
    (decoded,) = server.feed(report)
    assert sim.receive(decoded.reply) == []  # the V4,V1 time sync is a reply, not a command
    assert sim.stats.replies == {"V4,V1": 1}
    assert sim.receive(b"*HQ,4106011600,R12,123456#") == []
    assert sim.stats.replies["R12"] == 1
    assert sim.stats.errors == 0

    sim.receive(b"*HQ,9999999999,S20,123456,1,1#")  # another tracker's command
    assert sim.stats.errors == 1
    assert not sim.snapshot().immobilized


def test_h02_alarm_edges_and_battery() -> None:
    sim = tracker("h02-binary")
    server = H02Codec(clock=lambda: NOW)
    sim.trigger_alarm("sos")
    assert sim.report_now
    alarms = [one(server.feed(sim.report_frames()[0])).alarms for _ in range(5)]
    assert alarms == [{Alarm.SOS}] * 3 + [frozenset()] * 2  # set for a few reports, then clear

    sim.trigger_alarm("low_battery")
    (frame,) = sim.report_frames()
    low = one(server.feed(frame))
    assert low.message_type == "ALRM"
    assert Alarm.LOW_BATTERY in low.alarms
    pos = one(server.feed(sim.report_frames()[0]))
    assert pos.battery_percent is not None
    assert pos.battery_percent < 20
    assert sim.stats.alarms == {"sos": 1, "low_battery": 1}


def test_jt808_tracker_session_and_commands() -> None:
    codec = jt808_codec()
    sim = tracker("jt808", first_id=int(JT_ID))
    (registered,) = codec.feed(sim.register_frame())
    assert sim.receive(registered.reply) == []
    assert sim.stats.replies == {"0x8100": 1}
    sim.auth_code = jt808.parse(registered.reply).body[3:]
    (authenticated,) = codec.feed(sim.auth_frame())
    assert sim.receive(authenticated.reply) == []
    (report,) = sim.report_frames()
    (decoded,) = codec.feed(report)
    assert decoded.message.device_id == JT_ID
    assert sim.receive(decoded.reply) == []
    assert sim.stats.replies == {"0x8100": 1, "0x8001": 2}
    assert sim.stats.errors == 0

    cut = codec.encode(JT_ID, Command(CommandKind.ENGINE_STOP), NOW)
    (answer,) = sim.receive(cut.data)
    (ack,) = codec.feed(answer)
    assert codec.matches(cut, ack.message)
    assert ack.message.success is True
    assert sim.report_now
    (report,) = sim.report_frames()
    (decoded,) = codec.feed(report)
    assert decoded.message.status & STATUS_OIL_CUT
    assert decoded.message.flags.immobilizer_engaged is True

    query = codec.encode(JT_ID, Command(CommandKind.REQUEST_POSITION), NOW)
    (answer,) = sim.receive(query.data)
    (ack,) = codec.feed(answer)
    assert codec.matches(query, ack.message)
    assert ack.message.position.latitude == pytest.approx(sim.vehicle.latitude, abs=1e-6)

    interval = codec.encode(JT_ID, Command(CommandKind.SET_INTERVAL, interval_s=15), NOW)
    (answer,) = sim.receive(interval.data)
    assert codec.matches(interval, codec.feed(answer)[0].message)
    assert sim.drive_interval == 15

    restore = codec.encode(JT_ID, Command(CommandKind.ENGINE_RESUME), NOW)
    (answer,) = sim.receive(restore.data)
    assert codec.feed(answer)[0].message.success is True
    (decoded,) = codec.feed(sim.report_frames()[0])
    assert not decoded.message.status & STATUS_OIL_CUT
    assert sim.stats.commands == {"0x8105": 2, "0x8201": 1, "0x8103": 1}
    assert sim.stats.errors == 0


def test_vehicle_drives_and_parks() -> None:
    import random

    car = Vehicle(random.Random(3), 0, parked=False, start_time=0.0)
    start = (car.latitude, car.longitude)
    speeds, phases = [], set()
    for t in range(1, 3600, 5):
        car.advance(float(t))
        speeds.append(car.speed_kmh)
        phases.add(car.phase)
        assert car.ignition == (car.phase != "parked")
    assert max(speeds) <= 90
    assert max(speeds) > 40
    assert phases == {"driving", "waiting", "parked"}
    assert math.dist(start, (car.latitude, car.longitude)) > 0 or car.odometer_m > 0
    assert 52.3 < car.latitude < 52.4
    assert 4.8 < car.longitude < 4.95

    car.phase = "driving"
    car.cut_engine(True)
    car.advance(3700.0)
    assert (car.speed_kmh, car.phase, car.ignition) == (0.0, "parked", False)
    car.advance(9000.0)
    assert car.phase == "parked"  # stays put until the engine is restored


def test_only_loopback_unless_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SimConfig(host="192.0.2.1").validate()
    with pytest.raises(ValueError, match="loopback"):
        SimConfig(host="example.com").validate()
    SimConfig(host="192.0.2.1", allow_remote=True).validate()
    for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"):
        SimConfig(host=host).validate()
    with pytest.raises(SystemExit) as err:
        main(["--host", "192.0.2.1", "--duration", "1"])
    assert err.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]  # after argparse's usage
    assert "loopback" in message
    assert "unless --allow-remote is given" in message  # the flag that allows it, by its name
    with pytest.raises(ValueError, match="10-digit"):
        SimConfig(first_id=9_999_999_999, trackers=2).validate()


# --- against a real listener ----------------------------------------------------------------


def registered(hass: HomeAssistant, platform: str, tracker_id: str, key: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{tracker_id}_{key}")


def state_of(hass: HomeAssistant, platform: str, tracker_id: str, key: str) -> Any:
    found = registered(hass, platform, tracker_id, key)
    return hass.states.get(found) if found else None


def position_of(hass: HomeAssistant, tracker_id: str) -> Any:
    """The tracker's map state once it has a position (a JT/T 808 registration alone makes
    the device, without one)."""
    state = state_of(hass, "device_tracker", tracker_id, "location")
    return state if state is not None and "latitude" in state.attributes else None


@pytest.fixture
async def listener(hass: HomeAssistant) -> AsyncIterator[tuple[Any, int]]:
    port = free_port()
    entry = await setup_listener(hass, port, new_trackers="add")
    yield entry, port
    await hass.config_entries.async_unload(entry.entry_id)


async def start(config: SimConfig) -> tuple[Simulator, asyncio.Task[Any]]:
    sim = Simulator(config)
    return sim, asyncio.create_task(sim.run())


async def test_simulated_trackers_show_up(hass: HomeAssistant, listener: Any) -> None:
    _, port = listener
    protocol = "mixed" if JT808 else "h02"
    config = SimConfig(port=port, trackers=3, protocol=protocol, duration=20, speedup=50, seed=7)
    sim, task = await start(config)
    try:
        ids = sim.tracker_ids
        for tracker_id in ids:
            location = await wait_for(
                lambda t=tracker_id: position_of(hass, t),
                what=f"the location of {tracker_id}",
            )
            sent = sim.snapshot(tracker_id).last_sent
            assert sent is not None
            assert location.attributes["latitude"] == pytest.approx(sent.latitude, abs=0.01)
            assert location.attributes["longitude"] == pytest.approx(sent.longitude, abs=0.01)

        # Alarms on demand become events: one per protocol.
        wanted = dict(zip(ids, ("sos", "power_cut", "vibration"), strict=True))
        for tracker_id, alarm in wanted.items():
            await wait_for(lambda t=tracker_id: state_of(hass, "event", t, "alarm"))
            sim.trigger_alarm(tracker_id, alarm)
        for tracker_id, alarm in wanted.items():
            await wait_for(
                lambda t=tracker_id, a=alarm: (
                    (s := state_of(hass, "event", t, "alarm")) and s.attributes["event_type"] == a
                ),
                what=f"a {alarm} event from {tracker_id}",
            )
        # Trackers keep moving on the map.
        first = sim.snapshot(ids[0]).odometer_km
        await wait_for(
            lambda: (
                sim.snapshot(ids[0]).odometer_km > first or sim.snapshot(ids[0]).phase == "parked"
            )
        )
    finally:
        sim.stop()
        summary = await asyncio.wait_for(task, 10)
    assert summary.errors == 0, summary.error_samples
    assert summary.total_reports >= 3
    assert set(summary.reports_sent) == ({"h02", "h02-binary", "jt808"} if JT808 else {"h02"})
    assert summary.alarms_sent.keys() >= {"sos", "power_cut", "vibration"}
    assert summary.replies_received.get("V4,V1", 0) >= 1
    if JT808:
        assert summary.replies_received.get("R12", 0) >= 1
        assert summary.replies_received["0x8100"] == 1
        assert summary.replies_received["0x8001"] >= 2
    assert summary.exit_code == 0


@pytest.mark.parametrize("protocol", ["h02", pytest.param("jt808", marks=needs_jt808)])
async def test_immobilizer_round_trip(hass: HomeAssistant, listener: Any, protocol: str) -> None:
    _, port = listener
    config = SimConfig(
        port=port, trackers=1, protocol=protocol, duration=20, speedup=200, parked=True, seed=1
    )
    sim, task = await start(config)
    try:
        (tracker_id,) = sim.tracker_ids
        switch = await wait_for(
            lambda: registered(hass, "switch", tracker_id, "immobilizer"), what="the switch"
        )
        await wait_for(lambda: hass.states.get(switch).state == "off", what="a report")
        # Settled: a command sent before the tracker's connection is known would be queued.
        await wait_for(lambda: sim.snapshot(tracker_id).reports_sent >= 2, what="two reports")

        await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
        assert hass.states.get(switch).state == "on"
        snap = sim.snapshot(tracker_id)
        assert snap.immobilized
        assert snap.speed_kmh == 0
        reports = snap.reports_sent
        await wait_for(lambda: sim.snapshot(tracker_id).reports_sent > reports + 1)
        status = sim.snapshot(tracker_id).last_status
        assert status is not None
        if protocol == "h02":
            assert status & H02Status.ENGINE_CUT == 0  # every report while cut
        else:
            assert status & STATUS_OIL_CUT
        assert hass.states.get(switch).state == "on"

        await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
        assert hass.states.get(switch).state == "off"
        assert not sim.snapshot(tracker_id).immobilized
    finally:
        sim.stop()
        summary = await asyncio.wait_for(task, 10)
    name = "S20" if protocol == "h02" else "0x8105"
    assert summary.commands_received == {name: 2}
    assert summary.commands_answered == 2
    assert summary.errors == 0, summary.error_samples


async def test_udp_trackers_show_up(hass: HomeAssistant, listener: Any) -> None:
    _, port = listener
    protocol = "mixed" if JT808 else "h02-binary"
    sent: list[str] = []
    config = SimConfig(
        port=port,
        trackers=3,
        protocol=protocol,
        transport="udp",
        duration=20,
        speedup=50,
        on_send=lambda tracker_id, kind, frame: sent.append(kind),
    )
    sim, task = await start(config)
    try:
        for tracker_id in sim.tracker_ids:
            await wait_for(
                lambda t=tracker_id: position_of(hass, t),
                what=f"the location of {tracker_id} over UDP",
            )
    finally:
        sim.stop()
        summary = await asyncio.wait_for(task, 10)
    assert summary.errors == 0, summary.error_samples
    assert summary.transport == "udp"
    assert sent.count("report") == summary.total_reports
    assert json.loads(json.dumps(summary.as_dict()))["exit_code"] == 0


async def test_progress_every_minute(hass: HomeAssistant, listener: Any) -> None:
    """Between "connected" and the summary: a line in all and one per tracker, each interval."""
    _, port = listener
    lines: list[str] = []
    config = SimConfig(
        port=port,
        trackers=1,
        protocol="h02",
        duration=2.6,
        speedup=50,
        quiet=False,
        progress_s=1.0,
        printer=lines.append,
    )
    summary = await Simulator(config).run()
    assert summary.errors == 0, summary.error_samples
    assert any(
        line.endswith(f"] 1 tracker -> 127.0.0.1:{port} over tcp for 2.6 s (speedup 50)")
        for line in lines
    )
    totals = [line for line in lines if "] progress: " in line]
    assert len(totals) == 2  # at 1 s and 2 s
    last = re.search(
        r"progress: 1 tracker \(1 connected\) sent (\d+) reports? and \d+ heartbeats?, (\d+) "
        r"answered$",
        totals[-1],
    )
    assert last is not None, totals[-1]
    assert int(last.group(1)) >= 2
    assert int(last.group(2)) >= 2
    per_tracker = [line for line in lines if "]   4106011600 h02: sent " in line]
    assert len(per_tracker) == 2
    assert per_tracker[-1].endswith(" answered")


def test_progress_lists_the_first_trackers_of_many() -> None:
    sim = Simulator(SimConfig(trackers=12, protocol="h02"))
    lines = sim.progress_lines()
    assert lines[0] == (
        "progress: 12 trackers (0 connected) sent 0 reports and 0 heartbeats, 0 answered"
    )
    assert len(lines) == 1 + 10 + 1
    assert (
        lines[1] == "  4106011600 h02: sent 0 reports and 0 heartbeats, 0 answered, not connected"
    )
    assert lines[-1] == "  … and 2 trackers more"


async def test_command_line(hass: HomeAssistant, listener: Any) -> None:
    """``scripts/simulate`` as a newcomer runs it, for a few seconds."""
    _, port = listener
    protocol = "mixed" if JT808 else "h02"
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "simulate"),
        *("--port", str(port), "--duration", "3", "--speedup", "20", "--protocol", protocol),
        *("--first-id", "4106011700", "--alarm", "sos", "--alarm-after", "1", "--seed", "5"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )
    out, err = await asyncio.wait_for(process.communicate(), 15)
    text = out.decode()
    assert process.returncode == 0, text + err.decode()
    assert "SinoTrack simulator summary" in text
    assert "errors            0" in text
    assert "alarms sent       sos 3" in text
    for n in range(3):
        assert position_of(hass, str(4106011700 + n)) is not None
