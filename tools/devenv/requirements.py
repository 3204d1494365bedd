"""What the development Home Assistant must have installed, so nothing is installed at start-up.

``component_requirements`` follows Home Assistant's own requirement resolution for the
configured components; ``lock`` turns it into the fully pinned ``requirements_develop*.txt``.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tools import REPO

from .defaults import DOMAIN, INTEGRATION_DIR


def _manifest(domain: str, custom_dirs: Iterable[Path]) -> dict[str, Any] | None:
    import homeassistant

    candidates = [Path(d) / domain / "manifest.json" for d in custom_dirs]
    candidates.append(Path(homeassistant.__file__).parent / "components" / domain / "manifest.json")
    for path in candidates:
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return None


def config_domains(configuration: Path) -> set[str]:
    """The integration domains configured at the top level of a configuration.yaml."""
    domains = set()
    for line in configuration.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([a-z0-9_]+):", line):
            domains.add(match.group(1))
    return domains


def integration_domains(integration_dir: Path = INTEGRATION_DIR) -> set[str]:
    """Domains the integration makes Home Assistant set up: itself and its entity platforms."""
    from homeassistant.const import Platform

    platforms = {platform.value for platform in Platform}
    return {DOMAIN} | {m.stem for m in integration_dir.glob("*.py") if m.stem in platforms}


def component_requirements(
    domains: Iterable[str], custom_dirs: Iterable[Path] = (REPO / "custom_components",)
) -> dict[str, list[str]]:
    """Requirements Home Assistant checks when it sets up ``domains``: {requirement: [domain]}.

    Follows what ``homeassistant.requirements`` does: the integrations Home Assistant always
    sets up are added, then dependencies, after-dependencies and discovery integrations named by
    a manifest (zeroconf, ssdp, dhcp, mqtt), recursively.
    """
    from homeassistant import bootstrap
    from homeassistant.requirements import DISCOVERY_INTEGRATIONS

    custom_dirs = list(custom_dirs)
    todo = {*domains, *bootstrap.DEFAULT_INTEGRATIONS, *bootstrap.CORE_INTEGRATIONS}
    seen: dict[str, dict[str, Any]] = {}
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        manifest = _manifest(domain, custom_dirs) or {}
        seen[domain] = manifest
        todo.update(manifest.get("dependencies", []))
        todo.update(manifest.get("after_dependencies", []))
        for check_domain, keys in DISCOVERY_INTEGRATIONS.items():
            if any(key in manifest for key in keys):
                todo.add(check_domain)
    requirements: dict[str, list[str]] = {}
    for domain in sorted(seen):
        for requirement in seen[domain].get("requirements", []):
            requirements.setdefault(requirement, []).append(domain)
    return dict(sorted(requirements.items(), key=lambda item: item[0].lower()))


def lock(python: str, homeassistant_version: str, output: Path, configuration: Path) -> None:
    """Write a fully pinned requirements file for Home Assistant + the config's components.

    Creates a throw-away venv with ``python``, installs ``homeassistant==VERSION``, resolves the
    requirements of the components ``configuration`` sets up (see :func:`component_requirements`),
    installs them under Home Assistant's own ``package_constraints.txt`` and freezes the result.
    """
    with tempfile.TemporaryDirectory(prefix="ha-lock-") as tmp:
        venv = Path(tmp) / "venv"
        vpy = str(venv / "bin" / "python")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([vpy, "-m", "pip", "install", "-q", "uv"], check=True)
        uv = [str(venv / "bin" / "uv"), "pip", "install", "-q", "--python", vpy]
        subprocess.run([*uv, f"homeassistant=={homeassistant_version}"], check=True)
        listing = subprocess.run(
            [vpy, "-m", "tools.devenv", "requirements", "--configuration", str(configuration)],
            check=True,
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        reqs = [line.split()[0] for line in listing.splitlines() if line and line[0] != "#"]
        constraints = subprocess.run(
            [vpy, "-c", "import homeassistant, os; print(os.path.dirname(homeassistant.__file__))"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout.strip()
        subprocess.run(
            [*uv, "-c", f"{constraints}/package_constraints.txt", *reqs],
            check=True,
        )
        frozen = subprocess.run(
            [str(venv / "bin" / "uv"), "pip", "freeze", "--python", vpy],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        version = subprocess.run(
            [vpy, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout.strip()
    pinned = [line for line in frozen.splitlines() if line and not line.startswith(("pip==", "-e"))]
    header = [
        f"# Home Assistant {homeassistant_version} for scripts/develop, on Python {version}.",
        "# Fully pinned: Home Assistant, its frontend and every package the components in",
        "# config/configuration.yaml (and the ones Home Assistant always sets up) need, so that",
        "# nothing is installed when Home Assistant starts. Component requirements:",
        *(f"#   {line}" for line in listing.splitlines() if line and line[0] != "#"),
        "# Regenerate (do not edit by hand):",
        f"#   python -m tools.devenv lock --python python{version} "
        f"--homeassistant {homeassistant_version} -o {output.name}",
    ]
    output.write_text("\n".join([*header, *pinned]) + "\n", encoding="utf-8")
