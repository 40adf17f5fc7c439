"""What, besides landing data, decides the warehouse's contents: fingerprints of the code, and the
stamps that record which dbt project built an artifact (incremental models, the docs site)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from importlib.metadata import version
from pathlib import Path

from .settings import DBT_PROJECT_DIR, REPO_ROOT


def _dbt_project_roots() -> list[Path]:
    return [DBT_PROJECT_DIR / d for d in ("models", "macros", "tests")] + [REPO_ROOT / "seeds"]


def _digest(roots: list[Path], files: list[Path]) -> str:
    digest = hashlib.sha256()
    found = [(root, p) for root in roots if root.is_dir()
             for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    for root, path in found + [(path.parent, path) for path in files]:
        digest.update(f"{root.name}/{path.relative_to(root)}\n".encode() + path.read_bytes())
    return digest.hexdigest()


def dbt_project_fingerprint() -> str:
    """The dbt project (models, macros, tests, seeds, dbt_project.yml) and the dbt and DuckDB versions
    that build it. When it changes, incremental models are rebuilt whole and the docs site (whose
    catalog holds no statistics) is regenerated."""
    engine = f"dbt-core {version('dbt-core')}, dbt-duckdb {version('dbt-duckdb')}, duckdb {version('duckdb')}"
    return hashlib.sha256((engine + _digest(_dbt_project_roots(), [DBT_PROJECT_DIR / "dbt_project.yml"])).encode()).hexdigest()


@functools.cache
def quality_code_fingerprint() -> str:
    """The Great Expectations suites and the code that runs and reads them (the `data_quality` package)."""
    suites = Path(importlib.util.find_spec("data_quality").origin).parent  # beside siyu, installed or not
    return _digest([suites], [])


def code_fingerprint() -> str:
    """The dbt project and the Great Expectations suites: what a build with no new landing data would redo."""
    return hashlib.sha256((dbt_project_fingerprint() + quality_code_fingerprint()).encode()).hexdigest()


def built_by_this_project(stamp: Path) -> bool:
    """The artifact whose stamp file this is was built by the dbt project as it is now."""
    return stamp.exists() and stamp.read_text().strip() == dbt_project_fingerprint()


def stamp_with_this_project(stamp: Path) -> None:
    """Record that the artifact beside `stamp` was just built by the dbt project as it is now."""
    stamp.write_text(dbt_project_fingerprint() + "\n")
