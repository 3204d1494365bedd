"""The translation files: what the frontend renders must render (no markup, every field told),
and every language says what English says (same keys, same placeholders, same wire texts)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from custom_components.sinotrack.const import DOMAIN

from .helpers import entity_id, free_port, setup_listener

FOLDER = Path(__file__).resolve().parent.parent / "custom_components" / DOMAIN / "translations"
TRANSLATIONS = sorted(FOLDER.glob("*.json"))
EN = FOLDER / "en.json"
# Issue #22: English and these, each with exactly English's keys.
LANGUAGES = ["de", "es", "fr", "it", "nl", "pl", "pt-BR", "ru"]
OTHERS = [FOLDER / f"{language}.json" for language in LANGUAGES]
# The frontend formats strings as ICU messages, where "<word" opens a tag: an SMS written as
# "804<password>" renders as "Translation error: UNCLOSED_TAG" instead of the text.
TAG = re.compile(r"</?[A-Za-z]")
# In an ICU message an apostrophe before a brace quotes it: "l'{name}" would show "{name}".
QUOTED_BRACE = re.compile(r"'[{}]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CODE = re.compile(r"`([^`]*)`")
# English words in an SMS template that stand for what the user writes there (804PASSWORD IP
# PORT): a translation writes them in its language; everything else in backticks is verbatim.
TEMPLATE_WORDS = re.compile(r"PASSWORD|PORT")


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a translation file, with its dotted key."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, str):
        yield path, node


def shape(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every key of a translation file, nested ones included, with the type of its value."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            yield where, type(value).__name__
            yield from shape(value, where)


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"duplicate keys {duplicates}"  # json.loads keeps the last silently
    return dict(pairs)


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicate_keys)
    assert isinstance(data, dict)
    return data


def code_pattern(english: str) -> re.Pattern[str]:
    """What a translation's backticked text must be: English's, template words in any language."""
    parts = TEMPLATE_WORDS.split(english)
    return re.compile(r"[^\W\d_]+".join(re.escape(part) for part in parts))


def test_there_are_translations() -> None:
    assert [path.name for path in TRANSLATIONS] == sorted(
        ["en.json", *(path.name for path in OTHERS)]
    )


def test_the_tag_rule_catches_the_old_strings() -> None:
    assert TAG.search("SMS `804<password> <address> <port>`")
    assert TAG.search("the text after *HQ,<id>,")
    assert not TAG.search("SMS `804PASSWORD IP PORT`; speed < 20 km/h")


def test_the_code_rule_lets_only_template_words_change() -> None:
    pattern = code_pattern("804PASSWORD IP PORT")
    assert pattern.fullmatch("804CONTRASEÑA IP PUERTO")
    assert pattern.fullmatch("804HASŁO IP PORT")
    assert not pattern.fullmatch("8040000 IP PUERTO")  # the digits are the command
    assert not pattern.fullmatch("804CONTRASEÑA PUERTO")
    assert code_pattern("S20,…,1,0").fullmatch("S20,…,1,0")
    assert not code_pattern("S20,…,1,0").fullmatch("S20,…,0,0")


@pytest.mark.parametrize("path", TRANSLATIONS, ids=[path.name for path in TRANSLATIONS])
def test_is_json_with_every_key_once(path: Path) -> None:
    assert load(path)["config"]["step"]["user"]["title"]


@pytest.mark.parametrize("path", TRANSLATIONS, ids=[path.name for path in TRANSLATIONS])
def test_no_markup_in_any_string(path: Path) -> None:
    bad = [f"{key}: {text}" for key, text in strings(load(path)) if TAG.search(text)]
    assert bad == []


@pytest.mark.parametrize("path", TRANSLATIONS, ids=[path.name for path in TRANSLATIONS])
def test_no_apostrophe_quotes_a_placeholder(path: Path) -> None:
    bad = [f"{key}: {text}" for key, text in strings(load(path)) if QUOTED_BRACE.search(text)]
    assert bad == []


@pytest.mark.parametrize("path", OTHERS, ids=LANGUAGES)
def test_exactly_the_keys_of_english(path: Path) -> None:
    english = dict(shape(load(EN)))
    translated = dict(shape(load(path)))
    assert sorted(set(english) - set(translated)) == []  # missing
    assert sorted(set(translated) - set(english)) == []  # not in English
    assert translated == english  # and a text where English has a text, a table where a table


@pytest.mark.parametrize("path", OTHERS, ids=LANGUAGES)
def test_same_placeholders_as_english(path: Path) -> None:
    translated = dict(strings(load(path)))
    bad = [
        f"{key}: {text}"
        for key, text in strings(load(EN))
        if set(PLACEHOLDER.findall(translated.get(key, ""))) != set(PLACEHOLDER.findall(text))
    ]
    assert bad == []


@pytest.mark.parametrize("path", OTHERS, ids=LANGUAGES)
def test_texts_in_backticks_are_what_the_user_types(path: Path) -> None:
    translated = dict(strings(load(path)))
    bad = []
    for key, text in strings(load(EN)):
        english, theirs = CODE.findall(text), CODE.findall(translated.get(key, ""))
        if len(english) != len(theirs) or not all(
            code_pattern(ours).fullmatch(their) for ours, their in zip(english, theirs, strict=True)
        ):
            bad.append(f"{key}: {english} != {theirs}")
    assert bad == []


@pytest.mark.parametrize("path", OTHERS, ids=LANGUAGES)
def test_no_sentence_is_left_in_english(path: Path) -> None:
    """A name may be written alike ("Signal", "Port", "Alarm", "SinoTrack {letter} {digits}"),
    a sentence never."""
    translated = dict(strings(load(path)))
    bad = [
        key
        for key, text in strings(load(EN))
        if translated.get(key) == text
        and len([word for word in text.split() if not word.startswith("{")]) >= 3
    ]
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
    data = load(EN)
    # async_set_unique_id aborts a second flow for the same port or tracker with this reason.
    assert "already_in_progress" in data["config"]["abort"]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_home_assistant_loads_every_string(hass: HomeAssistant, language: str) -> None:
    """Home Assistant serves each file whole: a string it rejected (a placeholder English does
    not have) or could not find would come back in English."""
    data = load(FOLDER / f"{language}.json")
    english = load(EN)
    for category in english:
        loaded = await async_get_translations(hass, language, category, [DOMAIN])
        expected = {
            f"component.{DOMAIN}.{category}.{key}": text for key, text in strings(data[category])
        }
        assert {key: loaded.get(key) for key in expected} == expected, category


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.parametrize(
    ("language", "switch", "sensor"),
    [
        ("de", "Wegfahrsperre", "Geschwindigkeit"),
        ("pt-BR", "Bloqueador", "Velocidade"),
        ("ru", "Иммобилайзер", "Скорость"),
    ],
)
async def test_entities_are_named_in_the_language_of_home_assistant(
    hass: HomeAssistant, language: str, switch: str, sensor: str
) -> None:
    await hass.config.async_update(language=language)
    tracker_id = "4106011660"
    entry = await setup_listener(hass, free_port(), trackers=[(tracker_id, "Bike")])
    try:
        for platform, key, name in (("switch", "immobilizer", switch), ("sensor", "speed", sensor)):
            state = hass.states.get(entity_id(hass, platform, f"{tracker_id}_{key}"))
            assert state is not None
            assert state.name == f"Bike {name}"
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
