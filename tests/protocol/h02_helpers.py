"""Shared helpers for the H02 tests: the reference vectors and a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codec_helpers import decoding_helpers

from custom_components.sinotrack.protocol.h02 import H02Codec

VECTORS_PATH = Path(__file__).parent / "data" / "h02_vectors.json"  # copy of shared/protocol
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def load_vectors() -> list[dict[str, Any]]:
    """Every vector of h02_vectors.json, with its index and raw bytes."""
    vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    for index, vector in enumerate(vectors):
        vector["index"] = index
        vector["bytes"] = (
            vector["raw"].encode("latin-1") if "raw" in vector else bytes.fromhex(vector["raw_hex"])
        )
    return vectors


def codec(**kwargs: Any) -> H02Codec:
    return H02Codec(clock=lambda: NOW, **kwargs)


decode_all, messages, one = decoding_helpers(codec)
