"""tests/protocol runs without Home Assistant.

``custom_components/sinotrack/__init__.py`` is the integration and imports Home Assistant, so
importing ``custom_components.sinotrack.protocol`` normally runs it. Where Home Assistant is not
installed, the parent package is registered as a bare namespace first: the protocol package
imports nothing from it.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("homeassistant") is None and "custom_components.sinotrack" not in (
    sys.modules
):
    sys.path.insert(0, str(ROOT))
    package = types.ModuleType("custom_components.sinotrack")
    package.__path__ = [str(ROOT / "custom_components" / "sinotrack")]
    sys.modules["custom_components.sinotrack"] = package
