"""The repository's developer tools, built on the integration's protocol package.

``simulator`` (simulated trackers), ``devenv`` (a real Home Assistant for development, tests and
pictures), ``bench`` (benchmarks and the load generator), ``soak``, ``screenshot`` and ``fuzz``.
Each runs as ``python -m tools.<name>`` from the repository root; ``scripts/`` holds the thin
entry points. Nothing here is part of the integration, and the integration imports none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parent.parent
