"""``python -m tools.devenv.coverage_floor``: fail when one module's coverage is under the floor.

coverage.py's ``fail_under`` judges the total only; the quality scale asks it of every module
(branch coverage, as ``scripts/test`` measures it). Reads the ``.coverage`` data of the last run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import coverage

FLOOR = 95.0


def below(report: Mapping[str, Any], floor: float = FLOOR) -> list[tuple[str, float]]:
    """(file, percent) of every file of a ``coverage json`` report under ``floor``, worst first."""
    found = [
        (name, float(data["summary"]["percent_covered"]))
        for name, data in report["files"].items()
        if float(data["summary"]["percent_covered"]) < floor
    ]
    return sorted(found, key=lambda item: item[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--floor", type=float, default=FLOOR, help="percent (default 95)")
    parser.add_argument("--data-file", default=".coverage", help="default .coverage")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov = coverage.Coverage(data_file=args.data_file)
        cov.load()
        cov.json_report(outfile=str(out))
        report = json.loads(out.read_text(encoding="utf-8"))
    low = below(report, args.floor)
    for name, percent in low:
        print(f"{name}: {percent:.1f} % < {args.floor:g} %", file=sys.stderr)
    if not low:
        print(f"every module at {args.floor:g} % or more ({len(report['files'])} modules)")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
