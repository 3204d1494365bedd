"""quality_scale.yaml: every rule of the quality scale, each done or exempt with its reason."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from custom_components.sinotrack.const import DOMAIN

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / DOMAIN
# The rules as of Home Assistant 2026.x (script/hassfest/quality_scale.py), all four tiers.
RULES = {
    "action-exceptions", "action-setup", "appropriate-polling", "async-dependency", "brands",
    "common-modules", "config-entry-unloading", "config-flow", "config-flow-test-coverage",
    "dependency-transparency", "devices", "diagnostics", "discovery", "discovery-update-info",
    "docs-actions", "docs-conditions", "docs-configuration-parameters", "docs-data-update",
    "docs-examples", "docs-high-level-description", "docs-installation-instructions",
    "docs-installation-parameters", "docs-known-limitations", "docs-removal-instructions",
    "docs-supported-devices", "docs-supported-functions", "docs-triggers", "docs-troubleshooting",
    "docs-use-cases", "dynamic-devices", "entity-category", "entity-device-class",
    "entity-disabled-by-default", "entity-event-setup", "entity-translations",
    "entity-unavailable", "entity-unique-id", "exception-translations", "has-entity-name",
    "icon-translations", "inject-websession", "integration-owner", "log-when-unavailable",
    "parallel-updates", "reauthentication-flow", "reconfiguration-flow", "repair-issues",
    "runtime-data", "stale-devices", "strict-typing", "test-before-configure",
    "test-before-setup", "test-coverage", "unique-config-entry",
}  # fmt: skip
PLATFORMS = ("binary_sensor", "button", "device_tracker", "event", "sensor", "switch")


def rules() -> dict[str, str | dict[str, str]]:
    data = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))
    return data["rules"]


def status(rule: str | dict[str, str]) -> str:
    return rule if isinstance(rule, str) else rule["status"]


def test_every_rule_once_and_no_other() -> None:
    assert len(RULES) == 54
    assert set(rules()) == RULES


def test_exempt_and_todo_say_why() -> None:
    for name, rule in rules().items():
        assert status(rule) in {"done", "exempt", "todo"}, name
        if status(rule) != "done":
            assert isinstance(rule, dict), name
            assert len(rule["comment"]) > 30, name


def test_only_the_brands_repository_is_left() -> None:
    # The brand images exist in brand/; their copy in home-assistant/brands is a submission
    # outside this repository. Everything else is done or exempt.
    assert [name for name, rule in rules().items() if status(rule) == "todo"] == ["brands"]
    assert (INTEGRATION / "brand" / "icon.png").is_file()
    assert (INTEGRATION / "brand" / "icon@2x.png").is_file()


def test_the_claims_that_can_be_checked_here() -> None:
    comments = {n: r["comment"] for n, r in rules().items() if isinstance(r, dict)}
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    assert comments["action-setup"].startswith("The eleven services")
    assert len(services) == 11
    # parallel-updates: set in every platform, 1 only where an entity sends commands
    for platform in PLATFORMS:
        module = importlib.import_module(f"custom_components.{DOMAIN}.{platform}")
        commands = platform in {"button", "switch"}
        parallel = module.PARALLEL_UPDATES
        assert parallel == (1 if commands else 0), platform
