"""The secret salt phones are hashed with (HMAC-SHA256, DESIGN §4), and the hash itself.

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
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        print(f"WARNING: SIYU_PII_SALT is not set; generated a random secret salt in {path}. "
              "Back it up or set SIYU_PII_SALT yourself: phone hashes and phone-based member ids depend on it.",
              file=sys.stderr)


def resolve_salt() -> str:
    salt = os.environ.get("SIYU_PII_SALT", "")
    if salt:
        return salt
    if os.environ.get("SIYU_DEMO") == "1":
        return DEMO_SALT
    ensure_salt()
    path = _salt_file()
    assert path is not None
    return path.read_text().strip()


def hmac_sha256(value: str | None, salt: str) -> str | None:
    if value is None:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()
