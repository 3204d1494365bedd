"""An H02 tracker (text or binary reports): what it sends and how it answers the server.

Replies it checks: ``V4,V1`` / ``V4,NBR`` time syncs (the server's clock must be within five
minutes), ``R12``, echoed heartbeats. Commands it answers (docs/protocol/h02.md §9): ``S20``
engine cut/restore (status bit 27), ``CR`` (a report at once), ``D1``/``S71`` interval, ``SCF``
arm/disarm, ``CQ`` reboot; anything else gets a failed acknowledgement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from . import h02_frames as h02
from .fix import Fix
from .tracker import ServerFrames, SimTracker

TIME_SYNC_TOLERANCE_S: Final = 300.0


class H02Tracker(SimTracker):
    """Protocol ``h02`` (text reports) or ``h02-binary`` (32-byte ``$`` reports)."""

    def init_protocol(self) -> None:
        self.binary_sequence = 0  # the last byte of a binary frame

    def new_server_frames(self) -> ServerFrames:
        return h02.ServerFrames()

    def status(self) -> int:
        active = self.alarm_reports
        return h02.status_word(
            ignition=self.vehicle.ignition,
            power_cut=self.power_cut,
            immobilized=self.vehicle.engine_cut,
            vibration="vibration" in active,
            sos="sos" in active,
            armed=self.armed,
        )

    # --- frames the tracker sends ---------------------------------------------------------

    def position_frames(self, fix: Fix, new_alarms: list[str]) -> list[bytes]:
        status = self.last_status = self.status()
        if "low_battery" in new_alarms:
            return [h02.alarm(self.device_id, h02.ALRM_LOW_BATTERY, fix, status)]
        if self.protocol == "h02-binary":
            self.binary_sequence += 1
            return [
                h02.binary_position(
                    self.device_id, fix, status, self.battery, sequence=self.binary_sequence
                )
            ]
        return [h02.position(self.device_id, fix, status)]

    def keepalive_frame(self) -> bytes:
        return h02.link(
            self.device_id,
            self.wall_clock(),
            signal=self.signal,
            satellites=self.satellites,
            battery=round(self.battery),
            status=self.status(),
        )

    def invalid_frame(self, noise: str) -> bytes:
        return f"*HQ,{self.device_id},V1,{noise.replace(' ', '')}#".encode("ascii")

    # --- what the server sends ------------------------------------------------------------

    def answer(self, frame: bytes) -> list[bytes]:
        f = h02.fields_of(frame)
        if len(f) < 3:
            raise ValueError("too few fields")
        if f[1] != self.device_id:
            raise ValueError(f"addressed to {f[1]!r}")
        word = f[2].strip().upper()
        if word == "V4":  # a reply: V4,V1,<yyyyMMddHHmmss> time sync, V4,NBR …
            kind = f"V4,{f[3]}" if len(f) > 3 else "V4"
            if kind in ("V4,V1", "V4,NBR"):
                self._check_time_sync(f[4] if len(f) > 4 else "")
            self.replied(kind)
            return []
        if word == "R12":
            if len(f) < 4 or len(f[3]) != 6 or not f[3].isdigit():
                raise ValueError("R12 without HHMMSS")
            self.replied("R12")
            return []
        if word in ("HTBT", "V0", "LINK"):
            self.replied(word)
            return []
        return self._command(word, f[3:])

    def _check_time_sync(self, stamp: str) -> None:
        try:
            when = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"time sync {stamp!r} is not yyyyMMddHHmmss") from None
        skew = abs((when - self.wall_clock()).total_seconds())
        if skew > TIME_SYNC_TOLERANCE_S:
            self.stats.error(f"{self.device_id}: server clock is {skew:.0f} s off")

    def _command(self, word: str, rest: list[str]) -> list[bytes]:
        self.stats.commands[word] += 1
        tag = rest[0] if rest and len(rest[0]) == 6 and rest[0].isdigit() else None
        params = rest[1:] if tag is not None else rest
        self.advance()
        answer: list[bytes] = []
        if word == "S20":
            if len(params) < 2 or params[1] not in ("0", "1"):
                answer.append(self._ack(word, tag, params, success=False))
            else:
                cut = params[1] == "1"
                self.vehicle.cut_engine(cut)
                self.say(f"{self.device_id} h02: engine {'cut' if cut else 'restored'} (S20)")
                answer.append(self._ack(word, tag, params))
        elif word == "CR":
            answer.append(h02.short_ack(self.device_id, "CR"))
            self.report_now = True
        elif word in ("D1", "S71"):
            seconds = params[0] if word == "D1" else (params[1] if len(params) > 1 else "")
            ok = seconds.isdigit() and 1 <= int(seconds) <= 65535
            if ok:
                self.drive_interval = float(seconds)
            answer.append(self._ack(word, tag, params, success=ok))
        elif word == "SCF":
            ok = len(params) >= 2 and params[0] in ("0", "1")
            if ok:
                self.armed = params[0] == "0"
            answer.append(self._ack(word, tag, params, success=ok))
        elif word == "CQ":
            answer.append(h02.short_ack(self.device_id, "CQ"))
            self.reboot = True
        else:
            answer.append(self._ack(word, tag, params, success=False))
        self.stats.commands_answered += 1
        self.wake.set()  # the session loop sends what is due (CR's report) or reboots (CQ)
        return answer

    def _ack(self, word: str, tag: str | None, params: list[str], *, success: bool = True) -> bytes:
        return h02.ack(
            self.device_id,
            word,
            tag,
            self.config.ack_style,
            fix=self.fix(),
            status=self.status(),
            params=params,
            success=success,
        )
