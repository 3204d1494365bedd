"""Home Assistant's ``.storage`` files, read (and, where no API exists, written) as it does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_store(path: Path) -> dict[str, Any] | None:
    """A storage file (``version``, ``key``, ``data`` …), or None if there is none."""
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_store(path: Path, key: str, version: int, minor_version: int, data: Any) -> None:
    """Write a storage file atomically, private to its owner, as Home Assistant does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    payload = {"version": version, "minor_version": minor_version, "key": key, "data": data}
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
