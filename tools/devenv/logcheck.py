"""Reading ``home-assistant.log``: real problems, not the user's own refused commands.

A problem is an ERROR or CRITICAL record, recovery mode, or a package installed at start-up.
Not a problem: the warning that custom integrations are not tested by Home Assistant, and Home
Assistant's report of a ``ServiceValidationError`` of this integration (an engine cut refused
by the interlock or by the tracker is the user's error, which Home Assistant logs at ERROR).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from .defaults import INTEGRATION_DIR

# Lines in home-assistant.log that are expected and harmless.
LOG_ALLOWED: Final = (re.compile(r"We found a custom integration \S+ which has not been tested"),)
LOG_PROBLEMS: Final = (
    re.compile(r"\b(ERROR|CRITICAL)\b"),
    re.compile(r"recovery mode", re.IGNORECASE),
    re.compile(r"Attempting install of|Installing package|Unable to install package"),
)
# A record of home-assistant.log: "<date> <time>.<ms> LEVEL (thread) [logger] message", then its
# traceback lines, if any.
LOG_RECORD = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (?P<level>[A-Z]+) \((?P<thread>[^)]*)\) "
    r"\[(?P<logger>[^\]]+)\] (?P<message>.*)$"
)
WEBSOCKET_LOGGER = "homeassistant.components.websocket_api.http.connection"
VALIDATION_TRACEBACK = "homeassistant.exceptions.ServiceValidationError: "


def validation_messages(integration_dir: Path = INTEGRATION_DIR) -> re.Pattern[str]:
    """The integration's translated exception messages (``exceptions`` in en.json), any values
    in their placeholders; or the bare translation key, when the translations were not loaded.
    (Home Assistant drops a message's final full stop.)"""
    strings = json.loads((integration_dir / "translations" / "en.json").read_text("utf-8"))
    choices = []
    for key, entry in strings.get("exceptions", {}).items():
        parts = re.split(r"\{[a-z_]+\}", str(entry.get("message", "")).removesuffix("."))
        choices += [".+?".join(re.escape(part) for part in parts) + r"\.?", re.escape(key)]
    return re.compile("|".join(f"(?:{choice})" for choice in choices))


def is_validation_error(record: Sequence[str], messages: re.Pattern[str]) -> bool:
    """Whether a log record is Home Assistant reporting a ServiceValidationError of ours: the
    user's error (a refused engine cut), which it logs at ERROR too.

    The websocket API (the UI) logs one as "[<connection>] <message>" on 2025.4 and 2026.10, and
    2025.4's REST API as a traceback ending in "ServiceValidationError: <message>". A real error
    reads otherwise: "Unexpected exception" and a traceback (2025.4), "Error during service call
    to …" (2026.10), or another logger.
    """
    head = LOG_RECORD.match(record[0])
    if head is None or head["level"] != "ERROR":
        return False
    if head["logger"] == WEBSOCKET_LOGGER and len(record) == 1:
        text = re.sub(r"^\[\d+\] ", "", head["message"], count=1)
        return messages.fullmatch(text) is not None
    last = record[-1].strip()
    return (
        len(record) > 1
        and last.startswith(VALIDATION_TRACEBACK)
        and messages.fullmatch(last.removeprefix(VALIDATION_TRACEBACK)) is not None
    )


def _log_records(lines: Iterable[str]) -> list[list[str]]:
    records: list[list[str]] = []
    for line in lines:
        if LOG_RECORD.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)  # a traceback or a message of several lines
    return records


def check_log(config_dir: Path | str, *, log_name: str = "home-assistant.log") -> list[str]:
    """Return the problem lines of a Home Assistant log: errors, recovery mode, package installs.

    The known warning about custom integrations not being tested by Home Assistant is allowed,
    and so is Home Assistant's report of a ServiceValidationError of this integration (a refused
    engine cut is the user's error, not the system's: see ``is_validation_error``).
    """
    path = Path(config_dir) / log_name
    if not path.exists():
        return [f"{path} does not exist"]
    messages = validation_messages()
    problems = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for record in _log_records(lines):
        if is_validation_error(record, messages):
            continue
        for line in record:
            if any(p.search(line) for p in LOG_ALLOWED):
                continue
            if any(p.search(line) for p in LOG_PROBLEMS):
                problems.append(line)
    return problems
