"""Shared test setup: demo salt, a private DAGSTER_HOME, dbt on PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("SIYU_DEMO", "1")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
