"""A config folder for a real Home Assistant with this integration, before its first start.

``seed_config`` writes only what Home Assistant reads before it can be asked anything:
``configuration.yaml`` (a copy of the repository's), the files it includes, the symlink to the
working tree's integration, the HTTP port (``http_port``) and the location step of onboarding
(``onboarding``). The owner, the rest of onboarding and the listener entry are made through
Home Assistant's APIs once it runs (``onboarding.onboard``, ``entries.add_listener``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

from tools import REPO

from .defaults import CONFIG_TEMPLATE, DEFAULT_HTTP_PORT, DOMAIN, INTEGRATION_DIR
from .http_port import prepare_http_port
from .onboarding import mark_location_done
from .storage import read_store

# Files Home Assistant's UI editors write to and configuration.yaml includes; created empty.
UI_YAML_FILES: Final = {"automations.yaml": "[]\n", "scripts.yaml": "{}\n", "scenes.yaml": "[]\n"}


def link_integration(config_dir: Path, source: Path = INTEGRATION_DIR) -> None:
    """Symlink ``CONFIG/custom_components/sinotrack`` to the working tree's integration."""
    link = Path(config_dir) / "custom_components" / DOMAIN
    link.parent.mkdir(parents=True, exist_ok=True)
    target = Path(os.path.relpath(source.resolve(), link.parent.resolve()))
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        raise RuntimeError(f"{link} exists and is not a symlink; remove it")
    link.symlink_to(target, target_is_directory=True)


def seed_config(
    config_dir: Path | str,
    *,
    http_port: int = DEFAULT_HTTP_PORT,
    configuration: Path | None = CONFIG_TEMPLATE,
    python: Path | str | None = None,
) -> Path:
    """Prepare a config folder for a real Home Assistant; idempotent, never overwrites state.

    The HTTP port and the onboarding file depend on the Home Assistant that will run on the
    folder: pass that venv's interpreter as ``python`` (the one given to ``start_hass``) and
    the work is done by ``python -m tools.devenv seed`` in it; without ``python`` the importable
    ``homeassistant`` package decides. Must not run while Home Assistant runs on the folder.
    Returns the folder.
    """
    config_dir = Path(config_dir).resolve()
    if python is not None:
        cmd = [str(python), "-m", "tools.devenv", "seed", str(config_dir)]
        cmd += ["--http-port", str(http_port)]
        cmd += ["--configuration", str(configuration.resolve()) if configuration else ""]
        subprocess.run(cmd, check=True, cwd=REPO)
        return config_dir
    config_dir.mkdir(parents=True, exist_ok=True)
    yaml_path = config_dir / "configuration.yaml"
    if configuration is not None and not yaml_path.exists():
        shutil.copyfile(configuration, yaml_path)
    for name, content in UI_YAML_FILES.items():
        if not (config_dir / name).exists():
            (config_dir / name).write_text(content, encoding="utf-8")
    (config_dir / "packages").mkdir(exist_ok=True)
    link_integration(config_dir)
    mark_location_done(config_dir)
    prepare_http_port(config_dir, http_port)
    return config_dir


def listener_ports(config_dir: Path | str) -> list[int]:
    """The ports of the ``sinotrack`` entries Home Assistant has stored in the folder."""
    store = read_store(Path(config_dir) / ".storage" / "core.config_entries")
    if store is None:
        return []
    return [
        int(entry["data"]["port"])
        for entry in store["data"]["entries"]
        if entry.get("domain") == DOMAIN and "port" in entry.get("data", {})
    ]
