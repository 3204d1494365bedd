"""tools.devenv.coverage_floor: the per-module floor scripts/test applies after the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.devenv.coverage_floor import below, main


def _file(percent: float) -> dict[str, dict[str, float]]:
    return {"summary": {"percent_covered": percent}}


def test_below_lists_the_modules_under_the_floor_worst_first() -> None:
    report = {"files": {"a.py": _file(100.0), "b.py": _file(94.99), "c.py": _file(80.0)}}
    assert below(report) == [("c.py", 80.0), ("b.py", 94.99)]  # 94.99 shows as "95%" in a report
    assert below(report, floor=90.0) == [("c.py", 80.0)]
    assert below(report, floor=80.0) == []  # the floor itself passes


def test_main_reads_a_real_run_and_fails_under_the_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "half.py"
    module.write_text("def f(x):\n    if x:\n        return 1\n    return 2\n\n\nf(1)\n")
    data = tmp_path / ".coverage"
    # A run of its own (another process): a second tracer here would disturb this suite's, and
    # without pytest-cov's variables, which would make it measure into this suite's data too.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE_", "COVERAGE_"))}
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", f"--data-file={data}", str(module)],
        check=True,
        cwd=tmp_path,
        env=env,
    )
    monkeypatch.chdir(tmp_path)

    assert main(["--data-file", str(data)]) == 1
    # 4 of 5 lines and 1 of 2 branches: (4 + 1) / (5 + 2)
    assert "half.py: 71.4 % < 95 %" in capsys.readouterr().err
    assert main(["--data-file", str(data), "--floor", "71.4"]) == 0
    assert "every module at 71.4 % or more (1 modules)" in capsys.readouterr().out
