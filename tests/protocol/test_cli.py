"""The decode CLI: python -m custom_components.sinotrack.protocol decode [--hex] [FILE]."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from custom_components.sinotrack.protocol.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
V1 = b"*HQ,2705171109,V1,213324,A,5002.5849,N,01433.7822,E,0.00,000,140613,FFFFFFFF#"
B32 = "2441060116601245431311165035313006004318210e000000fffffbffff0024"
KEYS = {
    "line", "protocol", "type", "device_id", "fix_time", "valid", "latitude", "longitude",
    "speed_kmh", "course", "status", "alarms", "ignition", "battery_percent", "reply",
}  # fmt: skip


def run(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str], *args: str) -> list[Any]:
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    assert main(["decode", *args, str(path)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_text_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (obj,) = run(tmp_path, V1 + b"\r\n", capsys)
    assert obj.keys() >= KEYS
    assert obj["line"] == 1
    assert obj["protocol"] == "h02"
    assert obj["type"] == "V1"
    assert obj["device_id"] == "2705171109"
    assert obj["fix_time"] == "2013-06-14T21:33:24Z"
    assert obj["valid"] is True
    assert obj["latitude"] == pytest.approx(50.043082, abs=1e-5)
    assert obj["longitude"] == pytest.approx(14.563037, abs=1e-5)
    assert obj["status"] == "FFFFFFFF"
    assert obj["ignition"] is True
    assert obj["alarms"] == []
    assert obj["reply"].startswith("*HQ,2705171109,V4,V1,")
    assert bytes.fromhex(obj["reply_hex"]) == obj["reply"].encode()


def test_hex_lines_each_on_their_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spaced = " ".join(B32[k : k + 2] for k in range(0, len(B32), 2))
    half = B32[:40]
    objs = run(tmp_path, f"{B32}\n{spaced}\n{half}\n{B32[40:]}\nzz\n".encode(), capsys, "--hex")
    assert [o["line"] for o in objs] == [1, 2, 3, 4, 5]
    assert objs[0]["type"] == objs[1]["type"] == "binary"
    assert objs[0]["battery_percent"] == 100
    assert objs[0]["status"] == "FFFFFBFF"
    assert objs[0]["reply"].startswith("*HQ,4106011660,R12,")
    assert "error" in objs[2]  # nothing carries over from one line to the next
    assert "error" in objs[3]
    assert "invalid hex" in objs[4]["error"]


def test_several_messages_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytes.fromhex(B32) + V1 + b" junk " + V1 + b"\n"
    objs = run(tmp_path, data, capsys)
    assert [(o["line"], o["type"]) for o in objs] == [(1, "binary"), (1, "V1"), (1, "V1")]


def test_non_position_messages_keep_every_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"*HQ,1,V4,CR#\n*HQ,1,LINK,112137,20,8,67,0,0,081116,FFFFFBFF#\n*HQ,1,SMS,hello#\n"
    objs = run(tmp_path, data, capsys)
    assert [o["type"] for o in objs] == ["V4", "LINK", "SMS"]
    for obj in objs:
        assert obj.keys() >= KEYS
        assert obj["latitude"] is None
    assert objs[0]["command"] == "CR"
    assert objs[1]["status"] == "FFFFFBFF"
    assert objs[1]["battery_percent"] == 67


def test_errors_and_garbage_never_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"\n".join(
        [
            b"*HQ,1,V1,,V,,N,,E,0.00,0,,FFFFF7FF#",
            b"\xff\xfe\x00\x80 binary \xc3\x28",
            b"*HQ,\xff\xfe,V1,050316,A,2212.8745,N,11346.6574,E,1,2,220902,FFFFFBFF#",
            b"*" * 100_000,
            b"X" * 5000,
            b"$" * 5000,
            b"   ",
        ]
    )
    objs = run(tmp_path, data, capsys)
    assert [o["line"] for o in objs] == [1, 2, 3, 4, 5, 6]
    assert "error" in objs[0]
    assert "error" in objs[1]
    assert "error" in objs[2]  # an ID that is not 1-20 digits is refused (H02 task, item 7)
    assert all("error" in o for o in objs[3:])


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(V1 + b"\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["decode", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["device_id"] == "2705171109"


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(tmp_path / "nope")]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.skipif(
    importlib.util.find_spec("homeassistant") is None,
    reason="python -m imports the integration package, which needs Home Assistant",
)
def test_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "custom_components.sinotrack.protocol", "decode"],
        input=V1 + b"\n",
        capture_output=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout)["type"] == "V1"
