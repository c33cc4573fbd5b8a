"""The bench's output: a readable table on stdout and the same figures as
JSON beside it."""

from __future__ import annotations

import json
import os
import platform
import resource
from pathlib import Path


def children_cpu_seconds() -> float:
    """User and system CPU seconds of this process's finished children (and
    theirs): read before and after a measured child, the difference is what
    that child cost the machine's cores (dbt's subprocesses and DuckDB's
    threads included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu(r: dict) -> str:
    """CPU seconds, and the cores they kept busy on average over the wall time."""
    if r.get("cpu_seconds") is None:
        return ""
    return f"   CPU {r['cpu_seconds']:,.1f} s ({r['cpu_seconds'] / r['wall_seconds']:.2f} cores)"


def machine() -> dict:
    import duckdb

    memory_gib = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
        memory_gib = round(kib / 2**20, 1)
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "memory_gib": memory_gib, "platform": platform.platform(),
            "python": platform.python_version(), "duckdb": duckdb.__version__}


def _is_load_step(step: str) -> bool:
    return step == "raw_landing_drops"  # the loader (orchestration/assets/raw.py); its checks load nothing


def _is_publish_step(step: str) -> bool:
    return step == "warehouse__published"  # orchestration/assets/publish.py


def _is_postgres_step(step: str) -> bool:
    return step == "warehouse__postgres"  # orchestration/assets/postgres.py


def _postgres_figures(pg: dict) -> str:
    how = "updated in place" if pg["updated_in_place"] else "whole publish"
    if pg.get("relations_by_changed_rows"):
        how += f" ({pg['relations_by_changed_rows']} relations by changed rows)"
    return (f"{pg['rows_copied']:>12,} rows sent, {pg['rows_per_second']:,} rows/s over the "
            f"{pg['copy_seconds']:.1f} s of CSV and COPY; {how}, {pg['rows_kept_server_side']:,} rows kept; "
            f"fingerprints {pg.get('fingerprint_seconds', 0):.1f} s, deletes {pg.get('delete_seconds', 0):.1f} s")


def _postgres_held(held: dict) -> str:
    if not held["differing"]:
        return f"the server holds the published file's {held['rows_published']:,} rows"
    return (f"! the server holds {held['rows_held']:,} rows, the published file {held['rows_published']:,}: "
            + ", ".join(held["differing"]) + " differ")


def _run_lines(name: str, r: dict) -> list[str]:
    by_process = r.get("peak_rss_by_process_mib") or {}
    lines = [f"{name:<11} wall {r['wall_seconds']:8.1f} s{_cpu(r)}   peak RSS {r['peak_rss_mib']:8,.0f} MiB"
             + (" (" + ", ".join(f"{p} {mib:,.0f}" for p, mib in by_process.items()) + ")" if by_process else "")
             + f"   loaded {r['files_loaded']:,} files, {r['rows_loaded']:,} rows"
             + ("" if r["exit_code"] == 0 else f"   EXIT {r['exit_code']}")]
    for step, seconds in r["steps"].items():
        rate = ""
        if _is_load_step(step) and seconds > 0:
            rate = f"   {r['rows_loaded'] / seconds:>12,.0f} rows/s"
        if _is_publish_step(step) and r.get("publish_seconds"):
            parts = ", ".join(f"{part} {sec:.1f} s" for part, sec in r["publish_seconds"].items())
            rate = f"   {parts} (from {r.get('published_from')})"
        if _is_postgres_step(step) and r.get("postgres"):
            rate = "   " + _postgres_figures(r["postgres"])
        lines.append(f"    {step:<40} {seconds:8.1f} s{rate}")
        if _is_postgres_step(step) and r.get("postgres_held"):
            lines.append(f"    {'':<40}            {_postgres_held(r['postgres_held'])}")
    if r.get("slowest_models"):
        slowest = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in r["slowest_models"][:6])
        lines.append(f"    slowest dbt nodes: {slowest}")
    if r.get("validation_seconds"):
        timed = sorted(r["validation_seconds"].items(), key=lambda item: -item[1])
        slowest = ", ".join(f"{table} {seconds:.1f} s" for table, seconds in timed[:6])
        lines.append(f"    slowest validations: {slowest} (of {sum(s for _, s in timed):.1f} s)")
    for problem in (r.get("errors") or []) + (r.get("failed_checks") or []) + (r.get("rejected") or []):
        lines.append(f"    ! {problem}")
    return lines


def format_report(report: dict) -> str:
    p, m, land = report["parameters"], report["machine"], report["landing"]
    rows = land["rows"]
    out = [
        f"aftersales bench ({report.get('engine', 'duckdb')}): {p['stores']} stores x {p['years']} years x "
        f"{p['vehicles_per_store']} vehicles/store, seed {p['seed']}; machine: {m['cores']} cores, {m['memory_gib']} GiB",
        f"landing: {land['files']:,} files, {land['mib']:,.0f} MiB; history extracts dated {land['first_drop']} "
        f"(since {land['history_start']}), daily drops to {land['last_drop']}",
        "  rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()),
        *([f"postgres: every run also publishes to {report['postgres']}"] if report.get("postgres") else []),
        f"cases: late = {report['cases']['held_back']}; corrected = {report['cases']['corrected']}",
        "",
    ]
    for name, r in report["runs"].items():
        out += _run_lines(name, r)
    out.append("(CPU: user and system seconds of the run and its subprocesses, and the cores they kept busy "
               "on average; peak RSS: the largest single process of that run, the run itself (job) or its dbt "
               "subprocess; rows/s: rows loaded over the load step's seconds"
               + ("; warehouse__postgres: the whole step, fingerprints, deletes and swap included, its rows/s "
                  "the rows sent over the seconds of their CSV export and COPY" if report.get("postgres") else "")
               + ")")
    out.append("")
    for name, ref in report["reference"].items():
        out.append(f"reference SQL over the {name} landing: wall {ref['wall_seconds']:.1f} s{_cpu(ref)} "
                   f"(query {ref['query_seconds']:.1f} s), peak RSS {ref['peak_rss_mib']:,.0f} MiB")
    if report.get("full_build_over_reference") is not None:
        out.append(f"full build / reference: {report['full_build_over_reference']:.1f}x")
    if report.get("stopped_after"):
        out.append(f"STOPPED: the {report['stopped_after']} failed; the cases after it were not run")
    for name, c in report["reference_vs_mart"].items():
        detail = ", ".join(f"{col} {n}" for col, n in c["by_column"].items())
        out.append(f"kpi_store_month cells where reference and mart disagree ({name}): "
                   f"{c['disagreeing_cells']} of {c['cells']:,} ({c['store_months']} store-months)"
                   + (f": {detail}" if detail else ""))
    return "\n".join(out)


def write_report(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print()
    print(format_report(report))
    print(f"\nfigures as JSON: {path}")
