"""Home Assistant's snapshot serializer, made to write one snapshot for both supported versions.

Between 2025.4 and 2026.10 the same entity serializes differently in three ways that say nothing
about the integration; each is normalised here, everything else is Home Assistant's serializer:

- Dict keys: 2026.10 keys state attributes and capabilities by enum members
  (``EntityStateAttribute.FRIENDLY_NAME``); 2025.4 by plain strings. Enum keys become their
  string values (the members are ``StrEnum``s, equal to those strings). Enum *values* stay.
- Entity registry entries of 2026.10 have ``object_id_base`` and ``suggested_object_id``, which
  2025.4's have not: left out.
- Entity registry ``aliases``: 2025.4 a set of the user's aliases, 2026.10 a list with ``None``
  standing for the entity's own name: both as the sorted list of the user's aliases.
- Capabilities and state attributes Home Assistant added after 2025.4 for every entity of a
  platform (2026.10: a device tracker's ``tracking_type`` and ``in_zones``): left out; the
  platform's test asserts them where the version has them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from homeassistant.core import State
from homeassistant.helpers import entity_registry as er
from homeassistant.util.read_only_dict import ReadOnlyDict
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)

# Registry entry fields one supported version has and the other has not.
VERSION_ONLY_FIELDS = ("object_id_base", "suggested_object_id")
NEWER_ATTRIBUTES = ("in_zones", "tracking_type")  # capabilities and state attributes


def plain_keys(data: Any) -> Any:
    """``data`` with enum dict keys replaced by their values, all the way down."""
    if isinstance(data, dict):
        converted = {
            (key.value if isinstance(key, Enum) else key): plain_keys(value)
            for key, value in data.items()
        }
        return type(data)(converted) if isinstance(data, ReadOnlyDict) else converted
    return data


class PortableSnapshotSerializer(HomeAssistantSnapshotSerializer):
    """Home Assistant's serializer, with the version differences above normalised."""

    @classmethod
    def _serializable_state(cls, data: State) -> Any:
        serialized = super()._serializable_state(data)
        attributes = plain_keys(serialized["attributes"])
        serialized["attributes"] = ReadOnlyDict(
            {key: value for key, value in attributes.items() if key not in NEWER_ATTRIBUTES}
        )
        return serialized

    @classmethod
    def _serializable_entity_registry_entry(cls, data: er.RegistryEntry) -> Any:
        serialized = super()._serializable_entity_registry_entry(data)
        for field in VERSION_ONLY_FIELDS:
            serialized.pop(field, None)
        serialized["aliases"] = sorted(alias for alias in data.aliases if isinstance(alias, str))
        capabilities = plain_keys(serialized["capabilities"])
        if capabilities is not None:
            for capability in NEWER_ATTRIBUTES:
                capabilities.pop(capability, None)
            capabilities = capabilities or None  # 2025.4 writes None, not an empty dict
        serialized["capabilities"] = capabilities
        return serialized


class PortableSnapshotExtension(HomeAssistantSnapshotExtension):
    """Snapshots in tests/snapshots/ (as core), the same on every supported version."""

    serializer_class = PortableSnapshotSerializer
