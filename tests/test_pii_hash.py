"""The phone hash in SQL (DuckDB) is siyu.pii.hmac_sha256, for any salt, and dbt gets its pads on
every connection and cursor (siyu.dbt_plugin) without the salt in any SQL text."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from siyu.dbt_plugin import Plugin
from siyu.pii import DEMO_SALT, PII_HASH_DUCKDB_SQL, check_pii_pads, hmac_pads, hmac_sha256, set_pii_pads

SALTS = [DEMO_SALT, "k" * 64, "a much longer salt " * 8, "盐", "k" * 65]
VALUES = ["13800138000", "15912345678", "", "手机 13800138000", "x" * 200]


@pytest.mark.parametrize("salt", SALTS)
def test_sql_hmac_equals_python_hmac(salt):
    con = duckdb.connect()
    set_pii_pads(con, salt)
    got = con.execute(f"select v, {PII_HASH_DUCKDB_SQL.format(value='v')} from unnest(?::varchar[]) t(v)",
                      [VALUES + [None]]).fetchall()
    assert dict(got) == {v: hmac_sha256(v, salt) for v in VALUES + [None]}
    check_pii_pads(con, salt)


@pytest.mark.parametrize("salt", ["siyu-demo-salt-not-secret", "k" * 64, "a much longer salt " * 8, "盐"])
def test_hmac_pads_give_the_pipelines_phone_hash(salt):
    ipad, opad = hmac_pads(salt)
    assert len(ipad) == len(opad) == 64
    inner = hashlib.sha256(ipad + "13800138000".encode()).digest()
    assert hashlib.sha256(opad + inner).hexdigest() == hmac_sha256("13800138000", salt)


def test_pads_are_rfc_2104():
    ipad, opad = hmac_pads("盐")
    assert ipad[:3] == bytes(b ^ 0x36 for b in "盐".encode()) and ipad[3:] == b"\x36" * 61
    assert opad[3:] == b"\x5c" * 61


def test_pads_of_another_salt_are_refused():
    con = duckdb.connect()
    set_pii_pads(con, "one salt")
    with pytest.raises(RuntimeError, match="do not reproduce"):
        check_pii_pads(con, "another salt")


def test_dbt_connections_and_their_cursors_get_the_pads(monkeypatch):
    monkeypatch.setenv("SIYU_PII_SALT", "a production secret")
    plugin = Plugin.__new__(Plugin)  # what dbt-duckdb does, without a profile: creds and config unused here
    plugin.creds = None
    plugin.initialize({})
    con = duckdb.connect()
    plugin.configure_connection(con)
    cursor = con.cursor()  # a cursor is a connection of its own: no variables until configured
    assert cursor.execute("select getvariable('siyu_pii_ipad')").fetchone()[0] is None
    plugin.configure_cursor(cursor)
    hashed = cursor.execute(f"select {PII_HASH_DUCKDB_SQL.format(value='?')}", ["13800138000"]).fetchone()[0]
    assert hashed == hmac_sha256("13800138000", "a production secret")
