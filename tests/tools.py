"""External scanners the tests run: located once, installed by `make tools` (never missing in CI)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .conftest import REPO


def checkov_bin() -> str | None:
    for candidate in (os.environ.get("CHECKOV_BIN"), str(REPO / ".venv-checkov" / "bin" / "checkov"),
                      shutil.which("checkov")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def checkov_env(home: Path) -> dict:
    # Offline: no platform mapping download, no package scan, a private HOME for its caches.
    return {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
            "LOG_LEVEL": "WARNING", "HOME": str(home)}
