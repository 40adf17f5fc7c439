"""The Dagster instance `siyu build` records its runs in, and `dagster dev` shows them from."""

from __future__ import annotations

from pathlib import Path

# What `$DAGSTER_HOME/dagster.yaml` holds when siyu creates it: no telemetry, and the fast SQLite
# event log (dagster_project/event_log.py) in Dagster's usual place under the home folder.
INSTANCE_YAML = """\
telemetry:
  enabled: false
event_log_storage:
  module: dagster_project.event_log
  class: FastSqliteEventLogStorage
"""

# What earlier versions wrote: upgraded in place. A dagster.yaml the user wrote is left alone.
_EARLIER_DEFAULTS = {"telemetry:\n  enabled: false\n"}


def ensure_instance_yaml(home: Path) -> Path:
    """Create `home` and its dagster.yaml unless the user configured one."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() in _EARLIER_DEFAULTS:
        partial = home / ".dagster.yaml.partial"
        partial.write_text(INSTANCE_YAML)
        partial.replace(config)
    return config
