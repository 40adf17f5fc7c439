"""Where things live, from the environment (contracts §3, §7). One place, so the CLI, Dagster and
dbt (via SIYU_WORK_DB in its profile) agree.

* SIYU_LANDING_DIR — landing folder (default data/landing)
* SIYU_WAREHOUSE   — the published DuckDB file readers open (default data/warehouse/siyu.duckdb)
* SIYU_WORK_DB     — the pipeline's private working copy (default: beside the published file,
                     `<name>.work.duckdb`); runs write here, then publish
* SIYU_QUALITY_DOCS_DIR — Great Expectations Data Docs (default: quality_docs/ beside the published file)
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


def _project_root() -> Path:
    """The folder holding `dbt_project/` and `seeds/`: the source tree (a clone, an editable install)
    or, in a regular installed wheel, the copies setup.py ships inside the package (siyu/_project/)."""
    source_tree = Path(__file__).resolve().parents[1]
    if (source_tree / "dbt_project" / "dbt_project.yml").is_file():
        return source_tree
    return Path(__file__).resolve().parent / "_project"


REPO_ROOT = _project_root()
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# The dbt project's model layers, each a schema of the working database (and a Parquet folder of a Spark build)
DBT_LAYERS = ("staging", "intermediate", "marts")


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so `.venv/bin/siyu` works without activating it;
    SIYU_DBT_EXECUTABLE names another command that runs this environment's dbt-core (the test suite's
    runs dbt forked from a process that has imported it: tests/dbt_forkserver.py)."""
    if os.environ.get("SIYU_DBT_EXECUTABLE"):
        return os.environ["SIYU_DBT_EXECUTABLE"]
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    work_db: Path
    quality_docs_dir: Path

    @classmethod
    def from_env(cls) -> "Settings":
        landing = Path(os.environ.get("SIYU_LANDING_DIR", "data/landing")).resolve()
        warehouse = Path(os.environ.get("SIYU_WAREHOUSE", "data/warehouse/siyu.duckdb")).resolve()
        work = os.environ.get("SIYU_WORK_DB")
        work_db = Path(work).resolve() if work else warehouse.with_name(warehouse.stem + ".work.duckdb")
        docs = Path(os.environ.get("SIYU_QUALITY_DOCS_DIR", str(warehouse.parent / "quality_docs"))).resolve()
        return cls(landing, warehouse, work_db, docs)

    def export(self) -> None:
        """Make child processes (dbt) see the same paths."""
        os.environ["SIYU_LANDING_DIR"] = str(self.landing_dir)
        os.environ["SIYU_WAREHOUSE"] = str(self.warehouse)
        os.environ["SIYU_WORK_DB"] = str(self.work_db)
        os.environ["SIYU_QUALITY_DOCS_DIR"] = str(self.quality_docs_dir)
        os.environ.setdefault("SIYU_PII_SALT_FILE", str(self.work_db.parent / ".siyu_pii_salt"))
