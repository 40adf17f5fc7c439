"""The secret salt phones are hashed with (HMAC-SHA256, contracts §4), and the hash itself.

Where the salt comes from, in order:
1. `SIYU_PII_SALT` — set it in production, keep it secret and stable (hashes depend on it);
2. `SIYU_DEMO=1` — the demo data and the tests: a fixed, public salt;
3. the warehouse's salt file (`SIYU_PII_SALT_FILE`, beside the working database): created once
   with a random secret and a loud warning, so a build on real data never runs with a
   guessable salt and phone hashes stay stable between runs. With `SIYU_REQUIRE_PII_SALT=1`
   this fallback is off and a missing salt is an error.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from pathlib import Path

DEMO_SALT = "siyu-demo-salt-not-secret"


class MissingSaltError(RuntimeError):
    pass


def _salt_file() -> Path | None:
    path = os.environ.get("SIYU_PII_SALT_FILE")
    return Path(path) if path else None


def ensure_salt() -> None:
    """Fail early, or create the warehouse's salt file once, before any dbt process needs it."""
    if os.environ.get("SIYU_PII_SALT") or os.environ.get("SIYU_DEMO") == "1":
        return
    path = _salt_file()
    if os.environ.get("SIYU_REQUIRE_PII_SALT") == "1" or path is None:
        raise MissingSaltError(
            "SIYU_PII_SALT is not set. Set it to a long random secret, e.g. "
            "`export SIYU_PII_SALT=$(openssl rand -hex 32)`, and keep it stable: changing it changes every "
            "phone hash. (For the demo data only, SIYU_DEMO=1 uses a fixed public salt.)")
    if not path.exists() and _create_salt_file(path):
        print(f"WARNING: SIYU_PII_SALT is not set; generated a random secret salt in {path}. "
              "Back it up or set SIYU_PII_SALT yourself: phone hashes and phone-based member ids depend on it.",
              file=sys.stderr)
    _read_salt_file(path)  # an empty or truncated salt file is an error now, not a silent new hash


def _create_salt_file(path: Path) -> bool:
    """Write a random salt readable by its owner only (mode 0600 from the start, never a moment
    world-readable), atomically and without replacing a salt another process created meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # in case the file was left over with other permissions
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)  # fails if the salt exists: the first one wins, hashes stay stable
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)


def _read_salt_file(path: Path) -> str:
    salt = path.read_text().strip()
    if len(salt) < 16:
        raise MissingSaltError(f"the salt file {path} is empty or too short; restore it from a backup, or set "
                               "SIYU_PII_SALT (changing the salt changes every phone hash)")
    if path.stat().st_mode & 0o077:
        print(f"WARNING: the salt file {path} is readable by other users; run `chmod 600 {path}`.", file=sys.stderr)
    return salt


def resolve_salt() -> str:
    salt = os.environ.get("SIYU_PII_SALT", "")
    if salt:
        return salt
    if os.environ.get("SIYU_DEMO") == "1":
        return DEMO_SALT
    ensure_salt()
    path = _salt_file()
    assert path is not None
    return _read_salt_file(path)


def hmac_sha256(value: str | None, salt: str) -> str | None:
    if value is None:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


HMAC_BLOCK_BYTES = 64  # SHA-256's block size: the HMAC key is padded (or first hashed) to it
PII_PROBE = "13800138000"  # a well-known test number, hashed by Python and by SQL to check the pads


def hmac_pads(salt: str) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer pads of the salt (RFC 2104): with them SQL can compute
    sha256(opad || sha256(ipad || message)) = HMAC(salt, message) without the salt itself."""
    key = salt.encode()
    if len(key) > HMAC_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# DuckDB: the same HMAC as hmac_sha256, in SQL, from the pads held in the connection's variables
# `siyu_pii_ipad` / `siyu_pii_opad` (BLOB); NULL stays NULL. The dbt macro `hash_phone` writes it
# likewise. In DuckDB's vectorised sha256 it is ≈ 4× the speed of a Python function over Arrow
# batches, and it holds no GIL dbt's other threads wait on.
PII_HASH_DUCKDB_SQL = "sha256(getvariable('siyu_pii_opad') || unhex(sha256(getvariable('siyu_pii_ipad') || encode({value}))))"
# Spark: the same from the session variables siyu's Spark runner declares (siyu.engines.spark.session)
PII_HASH_SPARK_SQL = ("lower(sha2(concat(siyu_pii_opad, unhex(sha2(concat(siyu_pii_ipad, encode({value}, 'UTF-8')), "
                      "256))), 256))")


def set_pii_pads(con, salt: str) -> None:
    """Give a DuckDB connection (or cursor: each has its own variables) the pads PII_HASH_DUCKDB_SQL
    reads. Bound parameters only: no SQL text dbt compiles, logs or keeps in target/ holds them."""
    ipad, opad = hmac_pads(salt)
    con.execute("set variable siyu_pii_ipad = ?", [ipad])
    con.execute("set variable siyu_pii_opad = ?", [opad])


def check_pii_pads(con, salt: str) -> None:
    """The connection's pads reproduce hmac_sha256: a wrong pad would re-key every member silently."""
    got = con.execute(f"select {PII_HASH_DUCKDB_SQL.format(value='?')}", [PII_PROBE]).fetchall()[0][0]
    if got != hmac_sha256(PII_PROBE, salt):
        raise RuntimeError("the DuckDB connection's PII pads do not reproduce siyu.pii.hmac_sha256")
