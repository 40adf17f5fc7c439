"""The PII salt (issue 6 §5, contracts §4): never a guessable default outside the demo, stable
between runs, and the phone hash is exactly HMAC-SHA256(salt, normalised phone)."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.harness import copy_build, run_siyu
from tests.landing import event, write_jsonl, write_orders

PHONE_AS_EXPORTED = "+86 138-0013-8000"
PHONE = "13800138000"          # contracts §4: drop +86, keep digits
EVENT_PHONE = "0086 139 0000 1234"
EVENT_PHONE_NORMALISED = "13900001234"
LONE_PHONE = "13700137000"      # the only identifier of order O-2's buyer: the member id derives from its hash
SALT = "test-salt-7f3c1a9e5b2d4f60a8c1e3b5d7f9a2c4"
SALT_ENV = ("SIYU_PII_SALT", "SIYU_DEMO", "SIYU_REQUIRE_PII_SALT", "SIYU_PII_SALT_FILE")


def hmac_hex(salt: str, value: str) -> str:
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


def write_landing(root: Path) -> Path:
    order = {"status": "TRADE_SUCCESS", "platform": "mini_program", "total_amount": "99.00",
             "discount_amount": "0.00", "paid_amount": "99.00", "refund_amount": "0.00", "items": "[]"}
    write_orders(root, "2026-05-10", [
        order | {"order_no": "O-1", "buyer_phone": PHONE_AS_EXPORTED, "buyer_unionid": "u_A",
                 "created_at": "2026-05-10 11:58:00", "paid_at": "2026-05-10 12:00:00",
                 "updated_at": "2026-05-10 12:00:00"},
        order | {"order_no": "O-2", "buyer_phone": LONE_PHONE, "created_at": "2026-05-10 13:00:00",
                 "paid_at": "2026-05-10 13:01:00", "updated_at": "2026-05-10 13:01:00"},
    ])
    write_jsonl(root, "tracking", "2026-05-10", [
        event("e1", "product_view", "2026-05-10 10:00", "mini_program", distinct_id="d_A",
              identities={"unionid": "u_A"}),
        event("e2", "content_impression", "2026-05-10 10:30", "xiaohongshu_kol", distinct_id="d_B",
              identities={"phone": EVENT_PHONE}),
    ])
    return root


def siyu_build(landing: Path, work: Path, *args: str, docs: bool = False, **env_overrides: str) -> subprocess.CompletedProcess:
    """`siyu build` with no salt settings at all unless given here (the test session's demo salt removed).
    Without `docs`, no dbt docs site (SIYU_BUILD_DOCS=0, as tests.harness.siyu_env does): only the
    salt-leak scan needs one, of the `salted` warehouse."""
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in SALT_ENV}
    env.pop("DAGSTER_HOME", None)
    env["SIYU_EPHEMERAL_RUNS"] = "1"  # an in-memory Dagster instance: fast, and nothing to leak into
    if docs:
        env["SIYU_BUILD_DOCS"] = "1"
    else:
        env.setdefault("SIYU_BUILD_DOCS", "0")
    env.update({"PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
                **env_overrides})
    return run_siyu(["build", "--landing", str(landing), "--warehouse", str(work / "warehouse.duckdb"), *args], env)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"siyu build failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def phone_hashes(work: Path) -> tuple[str, str]:
    """(order buyer's phone hash, tracking event's phone hash) from the working database."""
    con = duckdb.connect(str(work / "warehouse.work.duckdb"), read_only=True)
    try:
        order = con.execute("select buyer_phone_hash from staging.stg_orders__orders where order_no = 'O-1'").fetchone()[0]
        columns = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'staging' "
            "and table_name = 'stg_tracking__events' and column_name like '%phone%'").fetchall()]
        assert columns, "stg_tracking__events has no phone hash column"
        event_hash = con.execute(f'select "{columns[0]}" from staging.stg_tracking__events where event_id = ?',
                                 ["e2"]).fetchone()[0]
        return order, event_hash
    finally:
        con.close()


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_no_plain_phone_beyond_raw(db: Path, *phones: str) -> None:
    """contracts §4: phones stay in raw; no staging/intermediate/mart column holds one."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.execute("""select schema_name, table_name, column_name from duckdb_columns()
                                 where schema_name in ('staging', 'intermediate', 'marts')
                                   and (data_type = 'VARCHAR' or data_type like 'VARCHAR[]%' or data_type like 'STRUCT%'
                                        or data_type = 'JSON')""").fetchall()
        assert columns
        for schema, table, column in columns:
            for phone in phones:
                hits = con.execute(f'select count(*) from {schema}."{table}" where "{column}"::varchar like ?',
                                   [f"%{phone}%"]).fetchone()[0]
                assert hits == 0, f"{schema}.{table}.{column} holds a plain phone number"
    finally:
        con.close()


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return write_landing(tmp_path_factory.mktemp("secrets_landing"))


@pytest.fixture(scope="module")
def salted_build(landing, tmp_path_factory) -> dict[str, Path]:
    """One build with SIYU_PII_SALT set, docs site included (the salt-leak scan reads every file):
    `work`, the folder the tests read, and `pristine`, a copy of it taken right after the build,
    that tests which go on building start from (a copy each), whatever ran on `work` before them."""
    work = tmp_path_factory.mktemp("salted")
    ok(siyu_build(landing, work, docs=True, SIYU_PII_SALT=SALT))
    pristine = tmp_path_factory.mktemp("salted_pristine") / "warehouse"
    copy_build(work, pristine)
    return {"work": work, "pristine": pristine}


@pytest.fixture(scope="module")
def salted(salted_build) -> Path:
    """A warehouse built with SIYU_PII_SALT set."""
    return salted_build["work"]


@pytest.fixture(scope="module")
def generated(landing, tmp_path_factory) -> dict:
    """Two builds with no salt configured at all: the first generates the salt file, the second reuses it."""
    work = tmp_path_factory.mktemp("generated")
    first = ok(siyu_build(landing, work))
    salt_file = work / ".siyu_pii_salt"
    after_first = {"salt": salt_file.read_text(), "mtime": salt_file.stat().st_mtime_ns,
                   "mode": stat.S_IMODE(salt_file.stat().st_mode), "hashes": phone_hashes(work)}
    second = ok(siyu_build(landing, work))
    return {"work": work, "salt_file": salt_file, "first": first, "second": second, "after_first": after_first,
            "hashes": phone_hashes(work)}


def test_strict_mode_without_salt_fails_clearly_and_changes_nothing(landing, tmp_path):
    work = tmp_path / "strict"
    work.mkdir()
    result = siyu_build(landing, work, SIYU_REQUIRE_PII_SALT="1")
    assert result.returncode != 0
    assert "SIYU_PII_SALT" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert tree_state(work) == {}, "a refused build wrote files"


def test_strict_mode_leaves_an_existing_warehouse_untouched(landing, salted):
    write_jsonl(landing, "tracking", "2026-05-11", [  # new data that would be loaded
        event("e3", "product_view", "2026-05-11 10:00", "mini_program", distinct_id="d_A", identities={"unionid": "u_A"})])
    try:
        before = tree_state(salted)
        published = (salted / "warehouse.duckdb").read_bytes()
        result = siyu_build(landing, salted, SIYU_REQUIRE_PII_SALT="1")
        assert result.returncode != 0 and "SIYU_PII_SALT" in result.stderr
        assert tree_state(salted) == before
        assert (salted / "warehouse.duckdb").read_bytes() == published
        assert not (salted / ".siyu_pii_salt").exists()
    finally:
        for path in (landing / "tracking" / "dt=2026-05-11").iterdir():
            path.unlink()
        (landing / "tracking" / "dt=2026-05-11").rmdir()


def test_env_salt_hash_is_hmac_sha256_of_the_normalised_phone(salted):
    order_hash, event_hash = phone_hashes(salted)
    assert order_hash == hmac_hex(SALT, PHONE)
    assert event_hash == hmac_hex(SALT, EVENT_PHONE_NORMALISED)
    assert not (salted / ".siyu_pii_salt").exists(), "a salt file was generated although SIYU_PII_SALT is set"


def test_phone_identifiers_and_member_ids_derive_from_the_hash(salted):
    con = duckdb.connect(str(salted / "warehouse.work.duckdb"), read_only=True)
    try:
        phones = {i for (i,) in con.execute(
            "select identifier from intermediate.int_identity_map where identifier_kind = 'phone'").fetchall()}
        lone = con.execute("select o.member_id, m.founding_identifier from marts.fct_orders o "
                           "join intermediate.int_identity_map m using (member_id) "
                           "where o.order_no = 'O-2'").fetchone()
    finally:
        con.close()
    assert phones == {"phone:" + hmac_hex(SALT, p) for p in (PHONE, EVENT_PHONE_NORMALISED, LONE_PHONE)}
    founding = "phone:" + hmac_hex(SALT, LONE_PHONE)
    assert lone == ("m_" + hashlib.sha256(founding.encode()).hexdigest()[:16], founding)


def test_no_plain_phone_outside_raw(salted):
    assert_no_plain_phone_beyond_raw(salted / "warehouse.duckdb", PHONE, EVENT_PHONE_NORMALISED, LONE_PHONE, "0013-8000")


def test_generated_salt_file_is_private_and_announced(generated):
    assert generated["after_first"]["mode"] == 0o600
    salt = generated["after_first"]["salt"].strip()
    assert len(salt) >= 32 and salt not in ("siyu-demo-salt-not-secret",)
    assert "SIYU_PII_SALT" in generated["first"].stderr and str(generated["salt_file"]) in generated["first"].stderr
    assert "generated" not in generated["second"].stderr, "the second build generated a salt again"
    assert not list(generated["work"].glob(".siyu_pii_salt.*")), "a temporary salt file was left behind"


def test_generated_salt_is_reused_and_hashes_are_stable(generated):
    assert generated["salt_file"].read_text() == generated["after_first"]["salt"]
    assert generated["salt_file"].stat().st_mtime_ns == generated["after_first"]["mtime"]
    assert generated["hashes"] == generated["after_first"]["hashes"]
    salt = generated["after_first"]["salt"].strip()
    assert generated["hashes"] == (hmac_hex(salt, PHONE), hmac_hex(salt, EVENT_PHONE_NORMALISED))
    assert generated["hashes"][0] != hmac_hex(SALT, PHONE)


def test_empty_salt_file_is_an_error_not_a_new_salt(landing, tmp_path):
    work = tmp_path / "empty"
    work.mkdir()
    (work / ".siyu_pii_salt").write_text("")
    result = siyu_build(landing, work)
    assert result.returncode != 0
    assert "salt" in result.stderr and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert (work / ".siyu_pii_salt").read_text() == ""
    assert not (work / "warehouse.duckdb").exists()


def test_salt_is_not_written_anywhere(salted):
    """Not into the warehouse, its logs, Dagster's run storage or the quality docs."""
    needle = SALT.encode()
    leaks = [str(p.relative_to(salted)) for p in salted.rglob("*") if p.is_file() and needle in p.read_bytes()]
    assert not leaks, f"the salt appears in {leaks}"


def test_a_changed_salt_is_refused_until_a_full_refresh(landing, salted_build, tmp_path):
    """contracts §4: another salt would silently re-hash phones and rename phone-founded members."""
    work = copy_build(salted_build["pristine"], tmp_path / "salt-change")  # built with SALT, as `salted`
    assert phone_hashes(work) == (hmac_hex(SALT, PHONE), hmac_hex(SALT, EVENT_PHONE_NORMALISED))
    hashes = phone_hashes(work)
    published = (work / "warehouse.duckdb").read_bytes()
    refused = siyu_build(landing, work, SIYU_PII_SALT="a-different-salt-0123456789abcdef")
    assert refused.returncode == 2
    assert "salt differs" in refused.stderr and "--full-refresh" in refused.stderr
    assert phone_hashes(work) == hashes
    assert (work / "warehouse.duckdb").read_bytes() == published
    ok(siyu_build(landing, work, "--full-refresh", SIYU_PII_SALT="a-different-salt-0123456789abcdef"))
    rehashed = phone_hashes(work)
    assert rehashed[0] != hashes[0] and rehashed[1] != hashes[1]
    ok(siyu_build(landing, work, SIYU_PII_SALT="a-different-salt-0123456789abcdef"))  # the new salt is now the one
