"""Settings for every test. Helpers live in uniquely named modules (waiting.py, e2e.py)."""
from __future__ import annotations

import os

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never reach for the network
