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
from jt808_helpers import frame, location_body

from custom_components.sinotrack.protocol.cli import main

ROOT = Path(__file__).resolve().parents[2]
V1 = b"*HQ,2705171109,V1,213324,A,5002.5849,N,01433.7822,E,0.00,000,140613,FFFFFFFF#"
B32 = "2441060116601245431311165035313006004318210e000000fffffbffff0024"
KEYS = {
    "line", "protocol", "type", "device_id", "fix_time", "valid", "latitude", "longitude",
    "speed_kmh", "course", "status", "alarms", "ignition", "battery_percent", "reply",
    "satellites", "signal", "voltage", "iccid", "warnings",
}  # fmt: skip
NEW_KEYS = ("satellites", "signal", "voltage", "iccid")


def run(
    tmp_path: Path,
    data: bytes,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    status: int = 0,
) -> list[Any]:
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    assert main(["decode", *args, str(path)]) == status
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
    assert [obj[key] for key in NEW_KEYS] == [None] * 4  # a V1 reports none of them
    assert obj["warnings"] == []


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
    assert objs[0].keys() >= KEYS
    assert objs[0]["warnings"] == []
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
    objs = run(tmp_path, data, capsys, status=1)  # nothing decodes: exit status 1
    assert [o["line"] for o in objs] == [1, 2, 3, 4, 5, 6]
    assert "error" in objs[0]
    assert "error" in objs[1]
    assert "error" in objs[2]  # an ID that is not 1-20 digits is refused (H02 task, item 7)
    assert all("error" in o for o in objs[3:])


def test_exit_status_1_when_no_line_decodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objs = run(tmp_path, b"garbage\n*HQ,1,V1,,V,,N,,E,0.00,0,,FFFFF7FF#\n", capsys, status=1)
    assert [("error" in o) for o in objs] == [True, True]
    assert run(tmp_path, b"", capsys, status=1) == []
    assert run(tmp_path, b"zz\n", capsys, "--hex", status=1)[0]["error"].startswith("invalid")
    # One good line among bad ones is enough for 0.
    assert len(run(tmp_path, b"garbage\n" + V1 + b"\n", capsys)) == 2


def _jt808(*items: str, **kwargs: Any) -> str:
    body = location_body(items=bytes.fromhex("".join(items)), **kwargs)
    return frame(0x0200, body).hex()


def test_jt808_position_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        # RSSI 23, 9 satellites, 0xEE: power 12.5 V and battery 4.1 V, 0xEB ICCID
        _jt808(
            "300117", "310109", "ee0614" + "30d4" + "1004" + "09", "eb0c000a00b289314404001234ff"
        ),
        _jt808("69020190"),  # battery 4.00 V only
        _jt808(),
    ]
    objs = run(tmp_path, "\n".join(lines).encode(), capsys, "--hex")
    assert all(o.keys() >= KEYS for o in objs)
    assert [o["protocol"] for o in objs] == ["jt808"] * 3
    first = objs[0]
    assert (first["signal"], first["satellites"], first["voltage"]) == (20, 9, 12.5)
    assert first["iccid"] == "89314404001234"
    assert (first["latitude"], first["longitude"]) == (22.641605, 114.032486)
    assert objs[1]["voltage"] == 4.0  # no supply voltage: the battery's
    assert [objs[2][key] for key in NEW_KEYS] == [None] * 4
    assert [o["warnings"] for o in objs] == [[], [], []]


def test_jt808_heartbeat_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (obj,) = run(tmp_path, frame(0x0002, b"\x55\x14").hex().encode(), capsys, "--hex")
    assert obj.keys() >= KEYS
    assert (obj["type"], obj["battery_percent"], obj["signal"]) == ("0x0002", 85, 20)
    assert (obj["voltage"], obj["iccid"], obj["warnings"]) == (None, None, [])


def test_warnings_and_bad_checksum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_time = _jt808(time="240230120000")
    broken = bytearray(bytes.fromhex(_jt808()))
    broken[-2] ^= 0x01
    data = f"{bad_time}\n{bytes(broken).hex()}\n".encode()
    objs = run(tmp_path, data, capsys, "--hex")
    assert objs[0]["fix_time"] is None
    assert objs[0]["warnings"] == ["impossible fix time 240230120000"]
    assert objs[1]["error"] == "bad checksum (message 0x0200)"
    assert objs[1]["raw_hex"] == bytes(broken).hex()
    assert run(tmp_path, bytes(broken).hex().encode(), capsys, "--hex", status=1)[0]["error"]
    (tolerated,) = run(
        tmp_path, bytes(broken).hex().encode(), capsys, "--hex", "--tolerate-bad-checksum"
    )
    assert tolerated["warnings"] == ["bad checksum (accepted: tolerate_bad_checksum)"]
    assert tolerated["latitude"] == 22.641605
    # H02 has no checksum: the flag changes nothing there.
    (h02,) = run(tmp_path, V1 + b"\n", capsys, "--tolerate-bad-checksum")
    assert h02["type"] == "V1"


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


def test_hex_with_prefix_and_colons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spaced = ":".join(B32[i : i + 2] for i in range(0, len(B32), 2))
    (obj,) = run(tmp_path, f"0x{B32}\n{spaced}\n".encode(), capsys, "--hex")[:1]
    assert obj["device_id"] == "4106011660"
    assert [o["line"] for o in run(tmp_path, f"{spaced}\n".encode(), capsys, "--hex")] == [1]


def test_unfinished_and_empty_frames_say_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objs = run(tmp_path, b"*HQ,2705171109,V1,2133\n~~\n", capsys, status=1)
    assert objs[0]["error"] == "text frame without '#'"  # the codec's refusal, counted
    assert objs[1] == {"line": 2, "error": "no message (nothing decodable)"}


def test_a_codec_failure_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from custom_components.sinotrack.protocol.h02 import H02Codec

    def broken(self: H02Codec, data: bytes) -> list[Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(H02Codec, "feed", broken)
    (obj,) = run(tmp_path, V1 + b"\n", capsys, status=1)
    assert obj == {"line": 1, "error": "codec failure: RuntimeError: boom"}


def test_broken_pipe_ends_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    class Err(io.StringIO):
        closed_by_cli = False

        def close(self) -> None:
            Err.closed_by_cli = True

    path = tmp_path / "in.txt"
    path.write_bytes(V1 + b"\n")
    monkeypatch.setattr(sys, "stdout", Closed())
    monkeypatch.setattr(sys, "stderr", Err())
    assert main(["decode", str(path)]) == 0  # the line decoded; the reader went away
    assert Err.closed_by_cli


def test_cell_report_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"*HQ,1600000001,NBR,081123,460,0,0,2,9338,3692,150,9338,3691,145,151216,FFFFFBFF#\n"
    (obj,) = run(tmp_path, data, capsys)
    assert obj["type"] == "NBR"
    assert (obj["mcc"], obj["mnc"]) == (460, 0)
    assert obj["cells"] == [[9338, 3692, 150], [9338, 3691, 145]]


def test_python_m_runs_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The module entry point in this process (the subprocess test above is not measured)."""
    import runpy

    path = tmp_path / "in.txt"
    path.write_bytes(b"garbage\n")
    monkeypatch.setattr(sys, "argv", ["sinotrack", "decode", str(path)])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("custom_components.sinotrack.protocol", run_name="__main__")
    assert done.value.code == 1
    # Imported (not run), the module does nothing.
    assert runpy.run_module("custom_components.sinotrack.protocol.__main__")["main"] is main


def test_jt808_acknowledgement_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The terminal's general response (0x0001) to a server message 0x8105 with serial 7: success.
    ack = frame(0x0001, (7).to_bytes(2) + (0x8105).to_bytes(2) + b"\x00", serial=3)
    (obj,) = run(tmp_path, ack.hex().encode() + b"\n", capsys, "--hex")
    assert obj["protocol"] == "jt808"
    assert obj["type"] == "0x0001"
    assert obj["device_id"]


def test_nothing_detects_no_protocol() -> None:
    from custom_components.sinotrack.protocol.detect import detect

    assert detect(b"") is None
    assert detect(b"GET / HTTP/1.1") is None
