"""`aftersales call-list` on a warehouse the real pipeline built (SPEC
section 9): the file holds exactly the store's rows of the published
marts.call_list in call order, with each owner's real name and phone from the
working copy's raw layer (the published file has none), which are found here
again independently from the landing CSVs; the marts themselves hold only the
masked phone. A missing or busy working copy is a clear error."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from independent import Landing

from orchestration.call_list import COLUMNS, LABELS
from orchestration.publish import working_copy_path

BOM = b"\xef\xbb\xbf"
CONTACT_COLUMNS = ("name", "phone", "customer_id")  # from raw, not from the mart


def _call_list(warehouse: Path, store: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "call-list",
         "--store", store, "--out", str(out), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
    )


def _read_export(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture(scope="module")
def exported(demo_build, tmp_path_factory):
    """Every store's call list, exported through the CLI."""
    out_dir = tmp_path_factory.mktemp("call_lists")
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        stores = [r[0] for r in con.execute("select store_code from marts.dim_stores order by 1").fetchall()]
    return {store: (_call_list(demo_build.warehouse, store, out_dir / f"{store}.csv"), out_dir / f"{store}.csv")
            for store in stores}


def _owners_contacts(landing: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(store, vin) -> (customer_id, name, phone) of the vehicle's owner, found
    again from the landing files by the independent model of tests/independent.py."""
    model = Landing(landing)
    contacts = {}
    for key in set(model.vehicles) | set(model.ro_owner):
        owner = model.owner(*key)
        contacts[key] = (owner.get("customer_id", ""), owner.get("name", ""), owner.get("phone", ""))
    return contacts


def _masked(phone: str) -> str:
    """SPEC section 9's mask: 13812345678 -> 138****5678."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def _text(value) -> str:
    """A value as DuckDB's CSV writer spells it."""
    return "" if value is None else str(value)


# ------------------------------------------------------------------- the tests


def test_each_export_says_how_many_where_and_that_the_phones_are_real(exported):
    for store, (proc, path) in exported.items():
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.strip().splitlines()
        assert len(lines) == 1, proc.stdout
        _, rows = _read_export(path)
        if rows:
            assert f"{len(rows)} customers to call at {store}" in lines[0]
            assert str(path) in lines[0] and "real phone numbers" in lines[0]
        else:
            assert f"no customers to call at {store}" in lines[0]


def test_file_is_utf8_with_bom_chinese_headers_and_private(exported):
    for _, path in exported.values():
        assert path.read_bytes().startswith(BOM)
        header, _ = _read_export(path)
        assert header == list(COLUMNS.values())
        assert path.stat().st_mode & 0o077 == 0, "the file must be readable by its owner only"
        assert not list(path.parent.glob(".*partial"))


def test_rows_are_the_marts_rows_in_call_order(demo_build, exported):
    mart_columns = [c for c in COLUMNS if c not in CONTACT_COLUMNS]
    total = 0
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        for store, (_, path) in exported.items():
            cursor = con.execute(
                f"select {', '.join(mart_columns)} from marts.call_list where store_code = ? order by call_rank",
                [store],
            )
            expected = [dict(zip(mart_columns, r)) for r in cursor.fetchall()]
            _, rows = _read_export(path)
            assert [r[COLUMNS["call_rank"]] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
            assert len(rows) == len(expected), store
            for got, want in zip(rows, expected):
                for column in mart_columns:
                    value = _text(want[column])
                    value = LABELS.get(column, {}).get(value, value)
                    assert got[COLUMNS[column]] == value, (store, want["call_rank"], column)
            total += len(rows)
    assert total > 0, "the demo should give someone to call"


def test_names_and_phones_are_the_owners_latest_in_the_landing(demo_build, exported):
    contacts = _owners_contacts(demo_build.landing)
    phones = 0
    for store, (_, path) in exported.items():
        _, rows = _read_export(path)
        for row in rows:
            owner, name, phone = contacts[(store, row[COLUMNS["vin"]])]
            assert row[COLUMNS["customer_id"]] == owner, row
            assert row[COLUMNS["name"]] == name, row
            assert row[COLUMNS["phone"]] == phone, row
            phones += bool(phone)
    assert phones > 0


def test_the_marts_hold_only_the_masked_phone(demo_build, exported):
    phones = {}
    for store, (_, path) in exported.items():
        for row in _read_export(path)[1]:
            if row[COLUMNS["phone"]]:
                phones[(store, row[COLUMNS["vin"]])] = row[COLUMNS["phone"]]
    assert phones
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        masked = dict(
            ((store, vin), mask)
            for store, vin, mask in con.execute("select store_code, vin, phone_masked from marts.call_list").fetchall()
        )
        text_columns = con.execute(
            """select table_name, column_name from information_schema.columns
               where table_schema = 'marts' and data_type = 'VARCHAR'"""
        ).fetchall()
        values = set()
        for table, column in text_columns:
            values |= {v for (v,) in con.execute(f'select distinct "{column}" from marts."{table}"').fetchall() if v}
    for key, phone in phones.items():
        assert masked[key] == _masked(phone), key
    leaked = {p for p in phones.values() if any(p in v for v in values)}
    assert not leaked, f"real phone numbers in the marts: {sorted(leaked)[:5]}"


def test_unknown_store_exits_2_naming_the_known_stores(demo_build, exported, tmp_path):
    proc = _call_list(demo_build.warehouse, "NOPE", tmp_path / "x.csv")
    assert proc.returncode == 2
    assert "unknown store 'NOPE'" in proc.stderr
    for store in exported:
        assert store in proc.stderr
    assert not (tmp_path / "x.csv").exists()


def test_store_with_no_one_to_call_gets_the_header_only(demo_build, exported, tmp_path):
    store = sorted(exported)[0]
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    shutil.copyfile(working_copy_path(demo_build.warehouse), working_copy_path(warehouse))
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from marts.call_list where store_code = ?", [store])
    out = tmp_path / "empty.csv"
    proc = _call_list(warehouse, store, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"no customers to call at {store}" in proc.stdout
    header, rows = _read_export(out)
    assert out.read_bytes().startswith(BOM)
    assert header == list(COLUMNS.values()) and rows == []


def test_missing_warehouse_or_mart_says_run_first(tmp_path):
    proc = _call_list(tmp_path / "none.duckdb", "S001", tmp_path / "x.csv")
    assert proc.returncode == 2
    assert "no warehouse at" in proc.stderr and "aftersales run" in proc.stderr

    warehouse = tmp_path / "old.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_stores as select 'S001' as store_code")
    proc = _call_list(warehouse, "S001", tmp_path / "x.csv")
    assert proc.returncode == 2
    assert "marts.call_list" in proc.stderr and "aftersales run" in proc.stderr
    assert not (tmp_path / "x.csv").exists()


def test_the_names_come_from_the_working_copy_and_a_missing_or_busy_one_is_a_clear_error(
    demo_build, exported, tmp_path
):
    store = next(store for store, (_, path) in exported.items() if _read_export(path)[1])
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:  # the published file has no names to give
        assert not con.execute("select count(*) from duckdb_tables() where schema_name = 'raw'").fetchone()[0]
    proc = _call_list(warehouse, store, tmp_path / "x.csv")
    assert proc.returncode == 2
    assert f"no working copy at {working_copy_path(warehouse)}" in proc.stderr and "aftersales run" in proc.stderr
    assert not (tmp_path / "x.csv").exists()

    shutil.copyfile(working_copy_path(demo_build.warehouse), working_copy_path(warehouse))
    with duckdb.connect(str(working_copy_path(warehouse))):  # a run writing the working copy holds its lock
        proc = _call_list(warehouse, store, tmp_path / "x.csv")
    assert proc.returncode == 2
    assert "a run is writing it; try again when the run has finished" in proc.stderr, proc.stderr
    assert str(working_copy_path(warehouse)) in proc.stderr
    assert not (tmp_path / "x.csv").exists()

    proc = _call_list(warehouse, store, tmp_path / "x.csv")  # the run has finished
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x.csv").read_bytes() == exported[store][1].read_bytes()
