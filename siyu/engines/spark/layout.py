"""Where a Spark build's files go under DIR, and how built folders are swapped in whole.

`marts/` and `raw/quarantine/` are for readers (world-readable, no personal data); `raw/<table>/` and
`.work/` are the pipeline's, owner-only (the build runs with umask 077)."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from ...settings import Settings

PUBLISHED_MODE_DIR, PUBLISHED_MODE_FILE = 0o755, 0o644  # marts and the quarantine ledger: readers' product, no PII
IDENTITY_TABLES = ("int_identity_map", "int_identity_shared_identifiers")  # what siyu.forget looks a person up in


@dataclass(frozen=True)
class SparkLayout:
    root: Path

    @property
    def marts(self) -> Path:
        return self.root / "marts"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def quarantine(self) -> Path:
        return self.raw / "quarantine"

    @property
    def work(self) -> Path:
        return self.root / ".work"

    @property
    def work_db(self) -> Path:
        return self.work / "siyu.work.duckdb"

    @property
    def identity(self) -> Path:
        """The last build's identity graph (`intermediate/<table>/` Parquet), kept for `siyu forget`."""
        return self.work / "identity"

    def settings(self, landing_dir: Path) -> Settings:
        """The DuckDB pipeline's settings, pointed inside DIR: the loader, its lock and the salt guard
        are reused as they are. No DuckDB file is published by this engine."""
        return Settings(landing_dir=landing_dir.resolve(), warehouse=self.root, work_db=self.work_db,
                        quality_docs_dir=self.work / "quality_docs")

    def new_build_dir(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        path = self.root / f".build-{stamp}-{os.getpid()}"
        path.mkdir(parents=True)
        return path

    def stale_build_dirs(self) -> list[Path]:
        return sorted(self.root.glob(".build-*"))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the call is missing."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):  # old kernel or a file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(new: Path, dest: Path) -> None:
    """Put folder `new` at `dest`, replacing what is there: readers of `dest` see the old or the new
    folder, never a mix (one exchange); without renameat2, two renames leave a moment with no folder."""
    if not dest.exists():
        os.rename(new, dest)
    elif _exchange(new, dest):
        shutil.rmtree(new)  # `new` now holds the old folder
    else:
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
        os.rename(new, dest)
        shutil.rmtree(old)


def make_readable(path: Path, recursive: bool = True) -> None:
    """Readers' parts of DIR get group/other read access (the build runs with umask 077)."""
    path.chmod(PUBLISHED_MODE_DIR if path.is_dir() else PUBLISHED_MODE_FILE)
    if recursive and path.is_dir():
        for child in path.rglob("*"):
            child.chmod(PUBLISHED_MODE_DIR if child.is_dir() else PUBLISHED_MODE_FILE)


def publish_marts(build_dir: Path, marts_dir: Path, marts: Sequence[str]) -> list[Path]:
    """Swap each built mart's Parquet folder into DIR/marts/<mart>/ (marts not built this run stay)."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    make_readable(marts_dir, recursive=False)
    built = [build_dir / "marts" / name for name in marts]
    missing = [str(p) for p in built if not p.is_dir()]
    if missing:
        raise RuntimeError(f"dbt reported marts whose folders are missing: {', '.join(missing)}")
    for folder in built:
        make_readable(folder)
        replace_dir(folder, marts_dir / folder.name)
    return [marts_dir / p.name for p in built]


def keep_identity_graph(build_dir: Path, layout: SparkLayout) -> None:
    """The identity tables outlive the build folder (private, in DIR/.work/identity/intermediate/):
    `siyu forget --engine spark` finds a person's member and identifiers there, as it does in the
    DuckDB working database."""
    for table in IDENTITY_TABLES:
        built = build_dir / "intermediate" / table
        if built.is_dir():
            (layout.identity / "intermediate").mkdir(parents=True, exist_ok=True)
            replace_dir(built, layout.identity / "intermediate" / table)
