"""The config folder tools/devenv prepares before a real Home Assistant first starts: only what
Home Assistant reads before it can be asked, in the format of the installed version (2025.4 reads
the HTTP port from YAML, 2026.10 keeps it in storage once migrated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.devenv import seed_config
from tools.devenv.defaults import CONFIG_TEMPLATE, INTEGRATION_DIR
from tools.devenv.http_port import PACKAGE, STORE, has_http_store, prepare_http_port
from tools.devenv.storage import write_store

needs_http_store = pytest.mark.skipif(not has_http_store(), reason="HTTP settings in YAML only")


def test_a_fresh_folder_gets_what_home_assistant_reads_first(tmp_path: Path) -> None:
    seed_config(tmp_path, http_port=18123)
    assert (tmp_path / "configuration.yaml").read_text() == CONFIG_TEMPLATE.read_text()
    assert (tmp_path / "automations.yaml").read_text() == "[]\n"
    assert (tmp_path / "custom_components" / "sinotrack").resolve() == INTEGRATION_DIR.resolve()
    # Only the location step: the owner and the other steps come through the onboarding API.
    onboarding = json.loads((tmp_path / ".storage" / "onboarding").read_text())
    assert onboarding["data"] == {"done": ["core_config"]}
    assert "server_port: 18123" in (tmp_path / PACKAGE).read_text()
    # The listener entry comes through the config flow once Home Assistant runs.
    assert not (tmp_path / ".storage" / "core.config_entries").exists()

    # Idempotent, and never overwrites state.
    (tmp_path / "configuration.yaml").write_text("homeassistant:\n")
    onboarding_file = tmp_path / ".storage" / "onboarding"
    onboarding_file.write_text(onboarding_file.read_text().replace("core_config", "user"))
    seed_config(tmp_path, http_port=18123)
    assert (tmp_path / "configuration.yaml").read_text() == "homeassistant:\n"
    assert '"user"' in onboarding_file.read_text()


def test_the_default_http_port_needs_no_yaml(tmp_path: Path) -> None:
    seed_config(tmp_path, http_port=18123)
    seed_config(tmp_path, http_port=8123)
    assert not (tmp_path / PACKAGE).exists()


def _http_store(config_dir: Path, port: int, pending: dict[str, object] | None) -> None:
    data = {"stable": {"server_port": port}, "pending": pending, "yaml_migration_done": True}
    write_store(config_dir / STORE, "http", 2, 2, data)


@needs_http_store
def test_a_stored_port_is_kept_and_another_one_migrated_afresh(tmp_path: Path) -> None:
    (tmp_path / PACKAGE).parent.mkdir()
    (tmp_path / PACKAGE).write_text("http:\n  server_port: 18123\n")
    _http_store(tmp_path, 18123, None)
    prepare_http_port(tmp_path, 18123)
    assert (tmp_path / STORE).exists()  # the confirmed port: kept ...
    assert not (tmp_path / PACKAGE).exists()  # ... and the YAML it came from goes (no repair)

    prepare_http_port(tmp_path, 18124)  # another port: no API before the start, so the YAML
    assert not (tmp_path / STORE).exists()  # is migrated into a fresh store
    assert "server_port: 18124" in (tmp_path / PACKAGE).read_text()

    # A trial that was never promoted (stopped within its five minutes) is tried again.
    _http_store(tmp_path, 8123, {"server_port": 18124, "error": None})
    prepare_http_port(tmp_path, 18124)
    assert not (tmp_path / STORE).exists()
    assert "server_port: 18124" in (tmp_path / PACKAGE).read_text()


@pytest.mark.skipif(has_http_store(), reason="HTTP settings in storage")
def test_yaml_is_the_http_configuration_where_there_is_no_store(tmp_path: Path) -> None:
    write_store(tmp_path / STORE, "http", 1, 1, {"server_port": 18123})  # a recovery copy
    prepare_http_port(tmp_path, 18123)
    assert "server_port: 18123" in (tmp_path / PACKAGE).read_text()
    assert (tmp_path / STORE).exists()  # Home Assistant's own, left alone
