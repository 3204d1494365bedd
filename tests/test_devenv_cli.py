"""``python -m tools.devenv`` from a plain Python: a command that needs the develop environment's
packages runs there by itself, or says how to."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tools import REPO
from tools.devenv import cli, develop_python


class Executed(Exception):
    """Stands for os.execve replacing the process."""


def test_a_command_reruns_with_the_develop_python(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    python = tmp_path / ".venvs" / "develop-latest" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    assert develop_python(tmp_path) == python
    calls: list[tuple[Any, list[str], dict[str, str]]] = []

    def execve(path: Any, args: list[str], env: dict[str, str]) -> None:
        calls.append((path, args, env))
        raise Executed

    monkeypatch.setattr(cli, "COMMAND_NEEDS", {"token": "no_such_package_here"})
    monkeypatch.setattr(cli, "develop_python", lambda: python)
    monkeypatch.setattr(cli.os, "execve", execve)
    monkeypatch.setenv(cli.REEXEC_MARK, "")  # and removed again after the test
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    with pytest.raises(Executed):
        cli.main(["token", "http://127.0.0.1:8123"])
    ((path, args, env),) = calls
    assert (path, args) == (
        python,
        [str(python), "-m", "tools.devenv", "token", "http://127.0.0.1:8123"],
    )
    assert env["PYTHONPATH"] == os.pathsep.join((str(REPO), "/elsewhere"))  # finds tools/
    assert cli.os.environ[cli.REEXEC_MARK] == "1"  # the rerun will not loop

    # The rerun lacks the package too (or there is no develop environment): say what to do.
    with pytest.raises(SystemExit, match=r"scripts/develop --bootstrap-only"):
        cli.main(["token", "http://127.0.0.1:8123"])
    monkeypatch.delenv(cli.REEXEC_MARK)
    monkeypatch.setattr(cli, "develop_python", lambda: None)
    with pytest.raises(SystemExit, match=r"needs the Python package no_such_package_here"):
        cli.main(["token", "http://127.0.0.1:8123"])


def test_commands_this_python_can_run_stay_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def execve(path: Any, args: list[str], env: dict[str, str]) -> None:
        raise AssertionError("no rerun wanted")

    monkeypatch.setattr(cli.os, "execve", execve)
    assert cli.main(["check-log", "/nonexistent"]) == 1  # stdlib only
    cli._run_where_it_can("token", [])  # the test venv has aiohttp
