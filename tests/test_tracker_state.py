"""TrackerState notifications: a message wakes only the entities watching what it changed."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.sinotrack.protocol.h02 import H02Codec
from custom_components.sinotrack.protocol.model import Alarm, Position
from custom_components.sinotrack.tracker import WATCHABLE, AlarmEvent, Outcome, TrackerState

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def _fix(status: str = "FFFFFBFF", lat: str = "5222.1234", speed: str = "010.00") -> Position:
    frame = f"*HQ,4106011660,V1,120000,A,{lat},N,00454.5678,E,{speed},090,231126,{status}#"
    message = H02Codec().feed(frame.encode())[0].message  # type: ignore[union-attr]
    assert isinstance(message, Position)
    return message


def _apply(tracker: TrackerState, message: Position) -> Outcome:
    before = tracker.snapshot()
    outcome = tracker.apply(message, NOW, 0.0)
    tracker.notify(outcome, before)
    return outcome


def test_only_watchers_of_changed_fields_are_called() -> None:
    tracker = TrackerState("4106011660", "Bike")
    calls: list[str] = []
    tracker.watch(("latitude", "longitude"), lambda: calls.append("location"))
    tracker.watch(("ignition",), lambda: calls.append("ignition"))
    tracker.watch(("battery_percent",), lambda: calls.append("battery"))

    _apply(tracker, _fix())
    assert calls == ["location", "ignition"]  # both coordinates changed: called once

    calls.clear()
    _apply(tracker, _fix(lat="5222.2000"))  # moved; ignition unchanged
    assert calls == ["location"]

    calls.clear()
    _apply(tracker, _fix(lat="5222.2000", status="FFFFFFFF"))  # ignition on, same place
    assert calls == ["ignition"]

    calls.clear()
    _apply(tracker, _fix(lat="5222.2000", status="FFFFFFFF"))  # nothing new but last_seen
    assert calls == []


def test_full_refresh_calls_everyone_and_unwatch_removes() -> None:
    tracker = TrackerState("4106011660", "Bike")
    calls: list[str] = []
    unwatch = tracker.watch(("speed_kmh",), lambda: calls.append("speed"))
    tracker.watch(("online",), lambda: calls.append("online"))
    tracker.notify_listeners()
    assert calls == ["speed", "online"]

    unwatch()
    calls.clear()
    tracker.notify_listeners()
    _apply(tracker, _fix(speed="020.00"))
    assert calls == ["online"]
    assert all(not watchers for watchers in tracker.watchers[: WATCHABLE.index("online")])


def test_alarms_fire_after_the_state() -> None:
    tracker = TrackerState("4106011660", "Bike")
    seen: list[str] = []
    tracker.watch(("external_power",), lambda: seen.append(f"power={tracker.external_power}"))
    tracker.alarm_listeners.append(lambda event: seen.append(f"alarm={event.alarm.value}"))
    _apply(tracker, _fix())
    seen.clear()
    outcome = _apply(tracker, _fix(status="FFF7FBFF"))  # bit 19: external power cut
    assert [event.alarm for event in outcome.alarms] == [Alarm.POWER_CUT]
    assert seen == ["power=False", "alarm=power_cut"]
    assert isinstance(outcome.alarms[0], AlarmEvent)
