"""A JT/T 808 terminal: registration and authentication, reports, and its answers.

It sends the ID zero-padded to 12 digits as its BCD phone number, numbers every frame with its
own serial, and checks each 0x8001 the platform sends against what it sent. Commands it answers
(docs/protocol/jt808.md §9): 0x8105 F0/F1 (oil cut, status bit 10) and 0x04 (reboot), 0x8201
(position now, 0x0201), 0x8103 / 0x8104 (parameters), 0x8202 (temporary tracking), 0x8300 and
0x8500; anything else gets result 3 (unsupported).
"""

from __future__ import annotations

import asyncio
import math
import struct

from custom_components.sinotrack.protocol.jt808.framing import Frame

from . import jt808_frames as jt808
from .fix import Fix
from .tracker import DRIVE_INTERVAL_S, ServerFrames, SimTracker

RECENT_SERIALS = 512  # serials remembered to check the platform's answers against


class Jt808Tracker(SimTracker):
    """Protocol ``jt808``: 2013 headers, times in Beijing time."""

    def init_protocol(self) -> None:
        self.terminal_id = self.device_id.zfill(12)
        self.phone = jt808.phone(self.device_id)
        self.serial = 0
        self.auth_code: bytes | None = None
        self.sent_serials: dict[int, int] = {}  # our serial -> message ID (recent ones)
        self.waiters: dict[int, asyncio.Future[Frame]] = {}  # platform ID -> future

    def new_server_frames(self) -> ServerFrames:
        return jt808.ServerFrames()

    def _next_serial(self, message_id: int) -> int:
        serial = self.serial
        self.serial = (self.serial + 1) & 0xFFFF
        self.sent_serials[serial] = message_id
        if len(self.sent_serials) > RECENT_SERIALS:
            del self.sent_serials[next(iter(self.sent_serials))]
        return serial

    def frame(self, message_id: int, body: bytes) -> bytes:
        """A frame from this terminal with the next serial."""
        return jt808.frame(message_id, body, self.phone, self._next_serial(message_id))

    def location_body(self, fix: Fix) -> tuple[bytes, int, int]:
        """A 0x0200 body of ``fix`` and the car's state; with its alarm and status words."""
        active = self.alarm_reports
        alarm, status = jt808.words(
            ignition=self.vehicle.ignition,
            fix=fix,
            immobilized=self.vehicle.engine_cut,
            power_cut=self.power_cut,
            vibration="vibration" in active,
            sos="sos" in active,
            low_battery="low_battery" in active,
        )
        items = jt808.items(
            odometer_km=self.vehicle.odometer_m / 1000,
            signal=self.signal,
            satellites=self.satellites,
            battery=self.battery,
            external=not self.power_cut,
        )
        return jt808.location_body(fix, alarm, status, items), alarm, status

    # --- frames the terminal sends --------------------------------------------------------

    def position_frames(self, fix: Fix, new_alarms: list[str]) -> list[bytes]:
        body, self.last_alarm_word, self.last_status = self.location_body(fix)
        return [self.frame(0x0200, body)]

    def keepalive_frame(self) -> bytes:
        return self.frame(0x0002, b"")

    def register_frame(self) -> bytes:
        return self.frame(0x0100, jt808.register_body(self.device_id))

    def auth_frame(self) -> bytes:
        return self.frame(0x0102, self.auth_code or b"")

    def invalid_frame(self, noise: str) -> bytes:
        """An unknown message with a wrong checksum."""
        frame = bytearray(jt808.frame(0x0F0F, b"\x01\x02", self.phone, 0))
        frame[-2] ^= 0x55
        if frame[-2] in (0x7D, 0x7E):
            frame[-2] ^= 0x01
        return bytes(frame)

    # --- what the platform sends ----------------------------------------------------------

    def answer(self, frame: Frame) -> list[bytes]:
        if frame.id_bytes.hex().lstrip("0") != self.device_id:
            raise ValueError(f"addressed to terminal {frame.id_bytes.hex()}")
        mid = frame.message_id
        if mid == 0x8001:
            self._platform_ack(frame)
            return []
        if mid == 0x8100:
            if len(frame.body) < 3:
                raise ValueError("0x8100 body too short")
            self.replied("0x8100")
            self._resolve(mid, frame)
            return []
        if mid == 0x8109:
            self.replied("0x8109")
            return []
        return self._command(frame)

    def _platform_ack(self, frame: Frame) -> None:
        if len(frame.body) < 5:
            raise ValueError("0x8001 body too short")
        serial, answered, result = struct.unpack_from(">HHB", frame.body)
        self.replied("0x8001")
        sent = self.sent_serials.get(serial)
        if sent is None:
            self.stats.error(f"{self.device_id}: 0x8001 for serial {serial} never sent")
        elif sent != answered:
            self.stats.error(
                f"{self.device_id}: 0x8001 names 0x{answered:04X} for serial {serial} "
                f"(was 0x{sent:04X})"
            )
        elif result not in (0, 4):
            self.stats.error(f"{self.device_id}: 0x8001 result {result} for 0x{answered:04X}")
        if answered == 0x0102:
            self._resolve(0x8001, frame)

    def _resolve(self, message_id: int, frame: Frame) -> None:
        waiter = self.waiters.pop(message_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)

    def _command(self, frame: Frame) -> list[bytes]:
        mid = frame.message_id
        self.stats.commands[f"0x{mid:04X}"] += 1
        self.advance()
        body = frame.body
        result = jt808.RESULT_OK
        if mid == 0x8105 and body[:1] in (b"\xf0", b"\xf1"):
            cut = body[0] == 0xF0
            self.vehicle.cut_engine(cut)
            self.say(f"{self.device_id} jt808: engine {'cut' if cut else 'restored'} (0x8105)")
            self.report_now = True
        elif mid == 0x8105 and body[:1] == b"\x04":
            self.reboot = True
        elif mid == 0x8201:
            location, _, _ = self.location_body(self.fix())
            self.stats.commands_answered += 1
            return [self.frame(0x0201, struct.pack(">H", frame.serial) + location)]
        elif mid == 0x8103:
            self._set_parameters(body)
        elif mid == 0x8104:
            params = (
                (0x0001, round(self.heartbeat_interval)),
                (0x0027, round(self.park_interval)),
                (0x0029, round(self.drive_interval)),
            )
            reply = struct.pack(">HB", frame.serial, len(params))
            reply += b"".join(struct.pack(">IBI", pid, 4, value) for pid, value in params)
            self.stats.commands_answered += 1
            return [self.frame(0x0104, reply)]
        elif mid == 0x8202 and len(body) >= 2:
            seconds = int.from_bytes(body[:2], "big")
            valid = int.from_bytes(body[2:6], "big") if len(body) >= 6 else 0
            self.tracking_interval = float(seconds or DRIVE_INTERVAL_S)
            self.tracking_until = self.vehicle.t + valid if seconds else -math.inf
        elif mid not in (0x8300, 0x8500):
            result = jt808.RESULT_UNSUPPORTED
        self.stats.commands_answered += 1
        self.wake.set()
        return [self.frame(0x0001, jt808.general_response(frame.serial, mid, result))]

    def _set_parameters(self, body: bytes) -> None:
        if not body:
            raise ValueError("0x8103 without parameters")
        pos = 1
        for _ in range(body[0]):
            if pos + 5 > len(body):
                raise ValueError("0x8103 parameter list runs past the body")
            pid, size = struct.unpack_from(">IB", body, pos)
            value = body[pos + 5 : pos + 5 + size]
            pos += 5 + size
            if size != 4:
                continue
            number = float(int.from_bytes(value, "big"))
            if number <= 0:
                continue
            if pid == 0x0029:
                self.drive_interval = number
            elif pid == 0x0027:
                self.park_interval = number
            elif pid == 0x0001:
                self.heartbeat_interval = number
