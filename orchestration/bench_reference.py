"""The bench's reference: benchmarks/reference_kpi_store_month.sql, one
hand-written DuckDB script computing the kpi_store_month columns straight
from the landing CSVs, and a cell-by-cell comparison of its result with the
mart.

DuckDB 1.5.6 reads UTF-8 only (its encodings extension is not installed), so
the script reads a UTF-8 copy of the landing: UTF-8 files are hard links,
GB18030 files are transcoded. The copy is made outside the timed run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from orchestration.bench_report import children_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_SQL = ROOT / "benchmarks" / "reference_kpi_store_month.sql"
CHURN_RULES = ROOT / "dbt_project" / "seeds" / "churn_rules.csv"

KEY_COLUMNS = ("store_code", "month_end")
COUNT_COLUMNS = ("on_file", "active", "at_risk", "churned", "cohort_size", "cohort_returned", "visits",
                 "paid_visits", "policies_expiring", "policies_renewed")
MONEY_COLUMNS = ("revenue", "per_ticket_value", "labor_amount", "parts_amount")
RATE_COLUMNS = ("churn_rate", "value_weighted_churn_rate", "cohort_churn_rate", "labor_parts_ratio", "renewal_rate")
COMPARED_COLUMNS = COUNT_COLUMNS + MONEY_COLUMNS + RATE_COLUMNS
RATE_TOLERANCE = 1e-9  # both sides divide in floating point


def utf8_copy(landing: Path, dest: Path) -> Path:
    """`dest` holds the landing's tree with every file in UTF-8."""
    shutil.rmtree(dest, ignore_errors=True)
    for folder, _, names in os.walk(landing):
        target = dest / Path(folder).relative_to(landing)
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            src = Path(folder) / name
            raw = src.read_bytes()
            try:
                raw.decode("utf-8")
                os.link(src, target / name)
            except UnicodeDecodeError:
                (target / name).write_bytes(raw.decode("gb18030").encode("utf-8"))
    return dest


def compute(landing_utf8: Path, result: Path) -> None:
    """Run the script over a UTF-8 landing and write its rows to `result` (Parquet)."""
    import duckdb

    con = duckdb.connect()
    con.execute("set variable landing = ?", [str(landing_utf8)])
    con.execute("set variable churn_rules = ?", [str(CHURN_RULES)])
    *build, final = duckdb.extract_statements(REFERENCE_SQL.read_text(encoding="utf-8"))
    for statement in build:  # the temp tables
        con.execute(statement.query)
    con.sql(final.query).write_parquet(str(result))


CHILD = """
import json, resource, sys, time
from pathlib import Path
from orchestration.bench_reference import compute
started = time.monotonic()
compute(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"query_seconds": time.monotonic() - started,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure_reference(landing: Path, workdir: Path, name: str) -> dict:
    """Time the script in a fresh child process on a UTF-8 copy of `landing`
    (copied first, untimed); its rows go to workdir/<name>.parquet."""
    copy = utf8_copy(landing, workdir / "landing_utf8")
    result = workdir / f"{name}.parquet"
    started, cpu_before = time.monotonic(), children_cpu_seconds()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(copy), str(result)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall, cpu = time.monotonic() - started, children_cpu_seconds() - cpu_before
    if proc.returncode != 0:
        raise SystemExit(f"the reference script failed:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(copy, ignore_errors=True)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "query_seconds": report["query_seconds"],
            "peak_rss_mib": report["peak_kib"] / 1024, "result": str(result)}


def disagreements(reference: Path, warehouse: Path) -> dict:
    """Cells of marts.kpi_store_month that differ from the reference's: per
    column, the store-months where they differ (counts exactly, money beyond a
    cent, rates beyond 1e-9; NULL only equals NULL). A store-month on one side
    only counts as a disagreement in every column."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    cols = ", ".join(KEY_COLUMNS + COMPARED_COLUMNS)
    tests = []
    for c in COMPARED_COLUMNS:
        if c in MONEY_COLUMNS:
            differ = f"abs(r.{c} - m.{c}) > 0.01"
        elif c in RATE_COLUMNS:
            differ = f"abs(r.{c} - m.{c}) > {RATE_TOLERANCE}"
        else:
            differ = f"r.{c} <> m.{c}"
        tests.append(f"count(*) filter (where r.store_code is null or m.store_code is null "
                     f"or (r.{c} is null) <> (m.{c} is null) or {differ}) as {c}")
    row = con.execute(f"""
        select count(*) as store_months, {', '.join(tests)}
        from (select {cols} from read_parquet('{reference}')) r
        full join (select {cols} from wh.marts.kpi_store_month) m using (store_code, month_end)
    """).fetchone()
    con.close()
    by_column = {c: n for c, n in zip(COMPARED_COLUMNS, row[1:]) if n}
    return {"store_months": row[0], "cells": row[0] * len(COMPARED_COLUMNS),
            "disagreeing_cells": sum(by_column.values()), "by_column": by_column}
