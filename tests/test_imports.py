"""The layer rule, read from the source: imports point down.

protocol/ <- const, fix_clock, dialect, motion <- phrases <- server, tracker, subentries, profiles,
immobilizer <- commands, relay <- hub <- entity <- the platforms <- services, diagnostics, the
config flow <- set-up (``__init__.py``). A module imports
only from layers below its own (modules of one layer do not import each other), ``protocol/``
imports nothing from the rest and nothing from Home Assistant or asyncio. Imports under
``if TYPE_CHECKING:`` are left out: they never run (the platforms name the entry's type,
``SinoTrackConfigEntry``, which the set-up defines, as Home Assistant's convention has it).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "sinotrack"

LAYERS: list[set[str]] = [
    {"protocol"},
    {"const", "fix_clock", "dialect", "motion"},
    {"phrases"},
    {"server", "tracker", "subentries", "profiles", "immobilizer"},
    {"commands", "relay"},
    {"hub"},
    {"entity"},
    {"binary_sensor", "button", "device_tracker", "event", "sensor", "switch"},
    {"services", "diagnostics", "config_flow"},
    {"__init__"},
]
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


def _module(path: Path) -> str:
    """The layer name of a file: ``protocol`` for the whole package, else the module's name."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Absolute dotted names an import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module or ""]
    package = ["custom_components", "sinotrack", *path.relative_to(PACKAGE).parent.parts]
    base = package[: len(package) - (node.level - 1)]
    if node.module:
        return [".".join([*base, node.module])]
    return [".".join([*base, alias.name]) for alias in node.names]  # from . import x


def _package_module(target: str) -> str | None:
    """The layer name an absolute import of our package points at (None: not ours)."""
    parts = target.split(".")
    if parts[:2] != ["custom_components", "sinotrack"]:
        return None
    return parts[2] if len(parts) > 2 else "__init__"


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert {_module(path) for path in SOURCES} == set(LAYER_OF)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    module = _module(path)
    level = LAYER_OF[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _runtime_imports(tree):
        for target in _targets(path, node):
            imported = _package_module(target)
            if module == "protocol":
                top = target.split(".")[0]
                assert top not in {"homeassistant", "asyncio"}, f"{path.name}: {target}"
                assert imported in (None, "protocol"), f"{path.name} imports {target}"
                continue
            if imported is None:
                continue
            assert LAYER_OF[imported] < level, (
                f"{path.relative_to(PACKAGE)} (layer {level}) imports {target} "
                f"(layer {LAYER_OF[imported]}): imports point down"
            )


def test_commands_see_only_the_peer() -> None:
    """Commands reach a tracker through its peer object, never the server's own classes."""
    tree = ast.parse((PACKAGE / "commands.py").read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in _runtime_imports(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "server"
        for alias in node.names
    }
    assert names == {"Peer"}


def test_nothing_imports_the_config_flow() -> None:
    """Home Assistant loads the flow; what it shares with the hub lives in subentries.py."""
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets = _targets(path, node)
                assert "custom_components.sinotrack.config_flow" not in targets, path.name


def test_the_decode_cli_runs_without_home_assistant() -> None:
    """``python -m custom_components.sinotrack.protocol decode`` imports the integration's
    package first: in a Python without Home Assistant (here: its import blocked) that must work."""
    blocked = (
        "import runpy, sys; sys.modules['homeassistant'] = None; "
        "sys.argv = ['decode', 'decode']; "
        "runpy.run_module('custom_components.sinotrack.protocol', run_name='__main__')"
    )
    frame = b"*HQ,4106011660,V1,120000,A,5222.1234,N,00454.5678,E,010.00,090,231126,FFFFFBFF#"
    result = subprocess.run(
        [sys.executable, "-c", blocked],
        input=frame + b"\n",
        capture_output=True,
        cwd=PACKAGE.parents[1],
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["device_id"] == "4106011660"
    assert "homeassistant" not in result.stderr.decode()
