"""The secret salt phones are hashed with (HMAC-SHA256), and the hash itself.

The salt comes from `SIYU_PII_SALT`. Without it, and only when `SIYU_DEMO=1` (set by the
README's demo command and the tests), a fixed demo salt is used; anywhere else a missing
salt is an error, because hashes made with a guessable salt can be reversed by brute
force over the 11-digit phone space.
"""

from __future__ import annotations

import hashlib
import hmac
import os

DEMO_SALT = "siyu-demo-salt-not-secret"


class MissingSaltError(RuntimeError):
    pass


def resolve_salt() -> str:
    salt = os.environ.get("SIYU_PII_SALT", "")
    if salt:
        return salt
    if os.environ.get("SIYU_DEMO") == "1":
        return DEMO_SALT
    raise MissingSaltError(
        "SIYU_PII_SALT is not set. Set it to a long random secret (e.g. `export SIYU_PII_SALT=$(openssl rand -hex 32)`) "
        "and keep it stable: changing it changes every phone hash. For the demo data only, set SIYU_DEMO=1."
    )


def hmac_sha256(value: str | None, salt: str) -> str | None:
    if value is None:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()
