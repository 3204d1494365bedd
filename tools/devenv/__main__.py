"""``python -m tools.devenv``: see ``tools.devenv.cli``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
