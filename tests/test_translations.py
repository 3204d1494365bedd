"""The translation files: what the frontend renders must render (no markup, every field told)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TRANSLATIONS = sorted(
    (
        Path(__file__).resolve().parent.parent / "custom_components" / "sinotrack" / "translations"
    ).glob("*.json")
)
# The frontend formats strings as ICU messages, where "<word" opens a tag: an SMS written as
# "804<password>" renders as "Translation error: UNCLOSED_TAG" instead of the text.
TAG = re.compile(r"</?[A-Za-z]")


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a translation file, with its dotted key."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, str):
        yield path, node


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_there_are_translations() -> None:
    assert [path.name for path in TRANSLATIONS] == ["en.json"]


def test_the_tag_rule_catches_the_old_strings() -> None:
    assert TAG.search("SMS `804<password> <address> <port>`")
    assert TAG.search("the text after *HQ,<id>,")
    assert not TAG.search("SMS `804PASSWORD IP PORT`; speed < 20 km/h")


@pytest.mark.parametrize("path", TRANSLATIONS, ids=[path.name for path in TRANSLATIONS])
def test_no_markup_in_any_string(path: Path) -> None:
    bad = [f"{key}: {text}" for key, text in strings(load(path)) if TAG.search(text)]
    assert bad == []


def form_steps(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every form step (config, options, subentries) of a translation file."""
    for section in ("config", "options"):
        for step_id, step in data.get(section, {}).get("step", {}).items():
            yield f"{section}.{step_id}", step
    for kind, flow in data.get("config_subentries", {}).items():
        for step_id, step in flow.get("step", {}).items():
            yield f"config_subentries.{kind}.{step_id}", step


@pytest.mark.parametrize("path", TRANSLATIONS, ids=[path.name for path in TRANSLATIONS])
def test_every_form_field_has_a_description(path: Path) -> None:
    missing = [
        f"{where}.{field}"
        for where, step in form_steps(load(path))
        for field in step.get("data", {})
        if field not in step.get("data_description", {})
    ]
    assert missing == []


def test_flow_aborts_home_assistant_raises_have_strings() -> None:
    data = load(TRANSLATIONS[0])
    # async_set_unique_id aborts a second flow for the same port or tracker with this reason.
    assert "already_in_progress" in data["config"]["abort"]
