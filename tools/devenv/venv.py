"""The develop environment: the virtual environment with a pinned Home Assistant.

``scripts/develop --bootstrap-only`` creates or updates it (``scripts/lib/ha_env.sh``); this
module only asks for it and finds it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools import REPO


def ensure_venv(*, oldest: bool = False) -> Path:
    """Create or update the develop venv (``scripts/develop --bootstrap-only``); return its python.

    ``oldest=True`` selects Home Assistant 2025.4 on Python 3.13 instead of the newest one.
    """
    cmd = [str(REPO / "scripts" / "develop"), "--bootstrap-only"]
    if oldest:
        cmd.append("--oldest")
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def develop_python(repo: Path = REPO) -> Path | None:
    """The develop environment's interpreter, if it has been made."""
    for flavour in ("latest", "oldest"):
        python = repo / ".venvs" / f"develop-{flavour}" / "bin" / "python"
        if python.exists():
            return python
    return None
