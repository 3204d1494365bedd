"""``python -m tools.simulator``: see ``tools.simulator.cli``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
