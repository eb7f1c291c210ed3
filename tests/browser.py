"""The real Chromium the browser tests drive (Debian's package, installed by `make browser`).

Outside `make test` a machine without it skips these tests with a reason; `make test` installs it and sets
REQUIRE_BROWSER=1, so there a missing browser fails the run instead of silently skipping its checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("REQUIRE_BROWSER"),
                                    reason="no Chromium: run emulator/install-browser.sh (make browser)")
