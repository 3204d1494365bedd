"""The model's fast Position builder against the dataclass constructor."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC, datetime

import pytest

from custom_components.sinotrack.protocol.model import (
    Alarm,
    Cell,
    Flags,
    Position,
    WifiAccessPoint,
    new_position,
)


def _values() -> dict[str, object]:
    """A distinct value for every field, so that a field set into the wrong slot shows."""
    return {
        "protocol": "h02",
        "device_id": "4106012736",
        "message_type": "V8",
        "fix_time": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "valid": True,
        "latitude": 18.456425,
        "longitude": -67.095962,
        "speed_kmh": 12.5,
        "course": 181.0,
        "altitude_m": 42.0,
        "status": 0xFFFFFBFF,
        "flags": Flags(ignition=True, external_power_cut=False),
        "alarms": frozenset({Alarm.SOS}),
        "battery_percent": 80,
        "battery_voltage": 3.9,
        "power_voltage": 12.6,
        "odometer_km": 1234.5,
        "signal": 21,
        "satellites": 9,
        "stored": True,
        "extras": ("310", "260"),
        "iccid": "8901260123456789012",
        "mcc": 310,
        "mnc": 260,
        "cells": (Cell(49101, 1753),),
        "wifi": (WifiAccessPoint("a0b1c2d3e4f5", 70),),
        "warnings": ("unreadable signal",),
    }


def test_new_position_is_the_constructor() -> None:
    values = _values()
    names = [f.name for f in dataclasses.fields(Position)]
    assert names == list(values)  # every field, in the class's order: the builder's signature
    built = new_position(*values.values())
    plain = Position(**values)  # type: ignore[arg-type]
    assert type(built) is Position
    assert built == plain
    assert hash(built) == hash(plain)
    assert repr(built) == repr(plain)
    for name, value in values.items():
        assert getattr(built, name) is value, name
    assert pickle.loads(pickle.dumps(built)) == plain
    assert copy.copy(built) == plain
    assert dataclasses.replace(built, latitude=1.0) == dataclasses.replace(plain, latitude=1.0)


def test_new_position_is_frozen() -> None:
    built = new_position(*_values().values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.latitude = 0.0  # type: ignore[misc]
