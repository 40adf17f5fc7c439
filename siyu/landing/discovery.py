"""What the landing folder holds: day partitions per source, their data files, and everything else.

Intake rules (real export folders are messy):

* extensions match case-insensitively (`.JSONL`, `.Csv`);
* symbolic links are never followed — a link is reported and its target never read;
* a `dt=` folder that is not a real date (`dt=2026-02-30`, `dt=2026-8-6`) is reported and skipped,
  every other partition still loads;
* any other file or folder inside a source or partition folder is reported by name;
* names starting with `_` or `.` are ignored (the simulator's `_truth/`, editors' dot files).

Change detection is by content: a partition is reloaded when any of its files' bytes change, even
a same-size correction whose modification time was preserved (`cp -p`, `touch -r`). Hashing every
file on every run would cost seconds at scale, so a file's content hash is reused while its
(size, mtime, ctime, inode) stay the same — ctime cannot be set from user space, so any write shows.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO, Iterator

from .schema import SOURCES

PARTITION_DIR = re.compile(r"^dt=(.*)$")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXTENSIONS = {"orders": ".csv", "campaign_costs": ".csv"}
HASH_CHUNK = 1 << 22


def extension(source: str) -> str:
    return EXTENSIONS.get(source, ".jsonl")


@dataclass(frozen=True)
class FileStat:
    """Identity of a file's current bytes without reading them: any write changes one of these."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> "FileStat":
        st = path.stat(follow_symlinks=False)
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass
class LandingFile:
    path: Path
    name: str  # relative to the landing root, e.g. tracking/dt=2026-08-01/part-0.jsonl
    stat: FileStat
    sha256: str | None = None  # filled by `hash_files` (or reused from the ledger)


@dataclass
class Partition:
    source: str
    dt: date
    files: list[LandingFile]

    def fingerprint(self) -> str:
        """Content fingerprint of the partition: file names and their bytes' hashes."""
        digest = hashlib.sha256()
        for f in self.files:
            digest.update(f"{f.name}|{f.sha256}\n".encode())
        return digest.hexdigest()


@dataclass
class Landing:
    root: Path
    partitions: dict[str, dict[date, Partition]] = field(default_factory=dict)
    # (path relative to the root, why it was not loaded) for everything unexpected
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def days(self) -> list[date]:
        return sorted({dt for parts in self.partitions.values() for dt in parts})

    def stat_signatures(self) -> dict[str, str]:
        """'<source>/<dt>' -> digest of its files' names and stats: cheap, changes with any write."""
        out: dict[str, str] = {}
        for source, parts in self.partitions.items():
            for dt, part in parts.items():
                text = "\n".join(f"{f.name}|{f.stat}" for f in part.files)
                out[f"{source}/{dt.isoformat()}"] = hashlib.sha256(text.encode()).hexdigest()
        return out

    def skipped_for(self, source: str) -> list[tuple[str, str]]:
        return [(name, why) for name, why in self.skipped if name.split("/", 1)[0] == source]


def _ignored(name: str) -> bool:
    return name.startswith(("_", "."))


def _real_day(text: str) -> date | None:
    if not ISO_DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def first_day(landing_dir: Path, sources: tuple[str, ...] = SOURCES) -> date | None:
    """The earliest partition day in the landing folder, from folder names alone (cheap enough to
    decide where Dagster's daily partitions start each time the definitions load)."""
    days = []
    for source in sources:
        folder = Path(landing_dir) / source
        if folder.is_symlink() or not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            for entry in entries:
                match = PARTITION_DIR.match(entry.name)
                day = _real_day(match.group(1)) if match and entry.is_dir(follow_symlinks=False) else None
                if day is not None:
                    days.append(day)
    return min(days, default=None)


def scan(landing_dir: Path, sources: tuple[str, ...] = SOURCES) -> Landing:
    """Walk the landing folder once, without following links and without reading any file."""
    root = Path(landing_dir)
    landing = Landing(root=root)
    for source in sources:
        landing.partitions[source] = {}
        folder = root / source
        if folder.is_symlink():
            landing.skipped.append((source, "symbolic link, not followed"))
            continue
        if not folder.is_dir():
            continue
        for entry, rel in _entries(folder, source, landing):
            match = PARTITION_DIR.match(entry.name)
            if not entry.is_dir():
                landing.skipped.append((rel, "not a dt=YYYY-MM-DD partition folder"))
                continue
            if not match:
                landing.skipped.append((rel, "folder name is not dt=YYYY-MM-DD"))
                continue
            day = _real_day(match.group(1))
            if day is None:
                landing.skipped.append((rel, f"dt={match.group(1)} is not a real date (YYYY-MM-DD)"))
                continue
            landing.partitions[source][day] = Partition(source, day, _partition_files(Path(entry.path), rel, source, landing))
    return landing


def _entries(folder: Path, rel: str, landing: Landing) -> Iterator[tuple[os.DirEntry, str]]:
    """A folder's entries by name with their landing-relative names: `_`/`.` names ignored, links
    reported (never followed)."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        name = f"{rel}/{entry.name}"
        if _ignored(entry.name):
            continue
        if entry.is_symlink():
            landing.skipped.append((name, "symbolic link, not followed"))
            continue
        yield entry, name


def _partition_files(folder: Path, rel: str, source: str, landing: Landing) -> list[LandingFile]:
    files: list[LandingFile] = []
    wanted = extension(source)
    for entry, name in _entries(folder, rel, landing):
        if entry.is_dir():
            landing.skipped.append((name, "sub-folder inside a partition (files must sit directly in dt=…/)"))
        elif not entry.name.lower().endswith(wanted):
            landing.skipped.append((name, f"not a {wanted} file"))
        else:
            path = Path(entry.path)
            files.append(LandingFile(path, name, FileStat.of(path)))
    return files


def open_no_follow(path: Path) -> BinaryIO:
    """Open a landing file for reading, refusing a link swapped in after the scan."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open_no_follow(path) as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_files(partitions: list[Partition], known: dict[str, tuple[FileStat, str]]) -> None:
    """Fill in each file's content hash, reusing the ledger's while the file's stat is unchanged.
    Needed only to compare with what was loaded; the loader hashes the bytes it reads."""
    for part in partitions:
        for f in part.files:
            seen = known.get(f.name)
            f.sha256 = seen[1] if seen and seen[0] == f.stat else sha256_file(f.path)
