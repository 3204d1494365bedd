"""scripts/ha_setup.py from a plain Python: a command that needs the develop environment's
packages runs there by itself, or says how to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts import ha_setup


class Executed(Exception):
    """Stands for os.execv replacing the process."""


def test_a_command_reruns_with_the_develop_python(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    python = tmp_path / ".venvs" / "develop-latest" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    assert ha_setup.develop_python(tmp_path) == python
    calls: list[tuple[Any, list[str]]] = []

    def execv(path: Any, args: list[str]) -> None:
        calls.append((path, args))
        raise Executed

    monkeypatch.setattr(ha_setup, "COMMAND_NEEDS", {"token": "no_such_package_here"})
    monkeypatch.setattr(ha_setup, "develop_python", lambda: python)
    monkeypatch.setattr(ha_setup.os, "execv", execv)
    monkeypatch.setenv(ha_setup.REEXEC_MARK, "")  # and removed again after the test
    with pytest.raises(Executed):
        ha_setup.main(["token", "http://127.0.0.1:8123"])
    script = str(Path(ha_setup.__file__).resolve())
    assert calls == [(python, [str(python), script, "token", "http://127.0.0.1:8123"])]
    assert ha_setup.os.environ[ha_setup.REEXEC_MARK] == "1"  # the rerun will not loop

    # The rerun lacks the package too (or there is no develop environment): say what to do.
    with pytest.raises(SystemExit, match=r"scripts/develop --bootstrap-only"):
        ha_setup.main(["token", "http://127.0.0.1:8123"])
    monkeypatch.delenv(ha_setup.REEXEC_MARK)
    monkeypatch.setattr(ha_setup, "develop_python", lambda: None)
    with pytest.raises(SystemExit, match=r"needs the Python package no_such_package_here"):
        ha_setup.main(["token", "http://127.0.0.1:8123"])


def test_commands_this_python_can_run_stay_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def execv(path: Any, args: list[str]) -> None:
        raise AssertionError("no rerun wanted")

    monkeypatch.setattr(ha_setup.os, "execv", execv)
    assert ha_setup.main(["check-log", "/nonexistent"]) == 1  # stdlib only
    ha_setup._run_where_it_can("token", [])  # the test venv has aiohttp
