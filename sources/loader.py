"""Loading landing files into the raw layer of the warehouse.

A file's rows land in `raw.<table>` typed, with load metadata; rows that do
not parse land in `raw.quarantine` with the reason; a file that cannot be read
at all is rejected and logged. Every file load is logged in `raw.load_log`.
Its rows_read is counted apart from DuckDB's reader (sources.encoding.
count_records), so that rows read = rows loaded + rows quarantined, which the
`rows_reconciled` check proves for every loaded file, means no row was lost.

Loading is idempotent per file: a file whose bytes were already loaded is
skipped; a re-delivered file (same path, new bytes) replaces the rows of its
earlier version, never adds to them. Files are read by DuckDB in batches of
the same table and header layout, so a three-year landing of tens of
thousands of small files loads in a few DuckDB scans, not one per file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sources.contract import LANDING_TABLES, LOAD_METADATA_COLUMNS, LandingTable
from sources.encoding import (
    GB18030,
    FileProblem,
    Inspection,
    count_records,
    inspect,
    read_lines,
    transcode_to_utf8,
)
from sources.landing import LandingFile
from sources.parsing import (
    QUOTE_TEXT_MACRO,
    SQL_TYPES,
    map_header,
    problem_sqls,
    quote_ident,
    quote_literal,
    text_sql,
    typed_sql,
)

RAW_SCHEMA = "raw"
BATCH_FILES = 2000  # files per DuckDB scan; bounds the SQL size and memory
# Files read at once before loading (hash, encoding, record count): reading
# and hashing release the GIL, so a landing's first read uses more than one
# core (docs/decisions.md, "Files are read on every core before they load").
INSPECT_WORKERS = max(1, min(4, os.cpu_count() or 1))

LOAD_LOG_DDL = f"""
create table if not exists {RAW_SCHEMA}.load_log (
    source_file varchar not null,
    table_name varchar not null,
    store_code varchar,
    drop_date date,
    file_hash varchar not null,
    file_size bigint,                 -- size and modification time when loaded:
    file_mtime_ns bigint,             -- a file whose stat is unchanged is not re-read
    encoding varchar,
    status varchar not null,          -- loaded | rejected
    message varchar,
    rows_read bigint,                 -- data records in the file, counted apart from the reader
    rows_loaded bigint,
    rows_quarantined bigint,
    loaded_at timestamp not null
)"""

QUARANTINE_DDL = f"""
create table if not exists {RAW_SCHEMA}.quarantine (
    table_name varchar not null,
    source_file varchar not null,
    line_number bigint,
    raw_line varchar,
    reason varchar not null,
    store_code varchar,
    drop_date date,
    file_hash varchar not null,
    loaded_at timestamp not null
)"""

# A re-delivered file replaces the rows of its earlier version. An incremental
# build recomputes the customers whose rows changed, and the replaced rows are
# gone from raw: their customers (store, VIN, owner) are logged here first.
REPLACED_ROWS_DDL = f"""
create table if not exists {RAW_SCHEMA}.replaced_rows (
    table_name varchar not null,
    source_file varchar not null,
    store_code varchar,
    vin varchar,
    customer_id varchar,
    row_key varchar,                  -- the row's key columns joined by '|'
    replaced_at timestamp not null
)"""


@dataclass
class FileLoad:
    """What happened to one landing file in this load."""

    file: LandingFile
    status: str  # loaded | unchanged | rejected
    message: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0


@dataclass
class LoadResult:
    files: list[FileLoad] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == "rejected"]


def raw_table_ddl(table: LandingTable) -> str:
    cols = [f"{quote_ident(c.name)} {SQL_TYPES[c.kind]}" for c in table.columns]
    meta_types = {
        "_source_file": "varchar not null",
        "_line_number": "bigint not null",
        "_drop_date": "date",
        "_file_hash": "varchar not null",
        "_loaded_at": "timestamp not null",
    }
    cols += [f"{m} {meta_types[m]}" for m in LOAD_METADATA_COLUMNS]
    return f"create table if not exists {RAW_SCHEMA}.{table.name} (\n    " + ",\n    ".join(cols) + "\n)"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table in LANDING_TABLES:
        con.execute(raw_table_ddl(table))
    con.execute(LOAD_LOG_DDL)
    con.execute(QUARANTINE_DDL)
    con.execute(REPLACED_ROWS_DDL)


@dataclass(frozen=True)
class _Version:
    """A loaded version of a file: its hash, and its size and mtime then."""

    sha256: str
    size: int | None
    mtime_ns: int | None


def _loaded_versions(con: duckdb.DuckDBPyConnection) -> dict[str, _Version]:
    """The version of each file whose rows are in raw now."""
    has_log = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = 'load_log'",
        [RAW_SCHEMA],
    ).fetchone()[0]
    if not has_log:
        return {}
    rows = con.execute(
        f"""select source_file, arg_max((file_hash, file_size, file_mtime_ns), loaded_at)
            from {RAW_SCHEMA}.load_log where status = 'loaded' group by source_file"""
    ).fetchall()
    return {source_file: _Version(*version) for source_file, version in rows}


def _is_loaded(version: _Version | None, path: Path) -> tuple[bool, os.stat_result, Inspection | None]:
    """Whether `path` is the version whose rows are in raw, its stat, and its
    inspection when the file had to be read to tell. Unchanged size and
    modification time settle it without reading the file, so a daily run over
    years of history reads only the new day's files (a rewritten file changes
    its mtime); otherwise the bytes' hash does."""
    stat = path.stat()
    if version is not None and (version.size, version.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        return True, stat, None
    info = inspect(path)
    return version is not None and version.sha256 == info.sha256, stat, info


def changed_drop_dates(con: duckdb.DuckDBPyConnection | None, files: list[LandingFile]) -> list[dt.date]:
    """Drop dates with a file that is new, changed or not yet loaded
    successfully (judged by size and mtime, then by the bytes' hash, against
    raw.load_log). With no warehouse yet (con is None) every drop date is."""
    known = _loaded_versions(con) if con is not None else {}
    dates = set()
    for lf in files:
        if lf.drop_date is None or lf.drop_date in dates:
            continue
        try:
            unchanged = _is_loaded(known.get(lf.relative_path), lf.path)[0]
        except (FileProblem, OSError):
            unchanged = False
        if not unchanged:
            dates.add(lf.drop_date)
    return sorted(dates)


def unchanged_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> bool:
    """Whether every file, the reference file included, is the version whose
    rows are in raw (judged as changed_drop_dates judges)."""
    known = _loaded_versions(con)
    for lf in files:
        try:
            if not _is_loaded(known.get(lf.relative_path), lf.path)[0]:
                return False
        except (FileProblem, OSError):
            return False
    return True


@dataclass
class _Pending:
    file: LandingFile
    file_hash: str
    size: int
    mtime_ns: int
    encoding: str
    read_path: Path
    names: tuple[str | None, ...]
    records: int  # data records, counted independently of DuckDB's reader


def load_files(
    con: duckdb.DuckDBPyConnection,
    files: list[LandingFile],
    *,
    loaded_at: dt.datetime | None = None,
    force: bool = False,
) -> LoadResult:
    """Load the given landing files into raw. `force` reloads unchanged files."""
    loaded_at = loaded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    ensure_raw_schema(con)
    con.execute(QUOTE_TEXT_MACRO)
    known = {} if force else _loaded_versions(con)
    result = LoadResult()
    with tempfile.TemporaryDirectory(prefix="aftersales-load-") as scratch, \
            ThreadPoolExecutor(INSPECT_WORKERS) as pool:
        groups: dict[tuple, list[_Pending]] = defaultdict(list)
        # In the files' order, whichever thread read each.
        for prepared in pool.map(
            lambda item: _prepare(item[1], known.get(item[1].relative_path), Path(scratch) / f"{item[0]}.csv"),
            enumerate(files),
        ):
            if prepared.unchanged:
                result.files.append(FileLoad(prepared.file, "unchanged"))
            elif prepared.problem is not None:
                load = FileLoad(prepared.file, "rejected", prepared.problem)
                result.files.append(load)
                _log_rejected(con, load, prepared.file_hash, loaded_at)
            else:
                groups[(prepared.file.table.name, prepared.pending.names)].append(prepared.pending)
        for (_, _), pending in sorted(groups.items(), key=lambda kv: kv[0][0]):
            for start in range(0, len(pending), BATCH_FILES):
                batch = pending[start : start + BATCH_FILES]
                result.files.extend(_load_batch(con, batch, loaded_at))
    return result


@dataclass(frozen=True)
class _Prepared:
    """One file, read before its batch loads: unchanged, rejected (problem:
    why), or pending its load."""

    file: LandingFile
    problem: str | None = None
    file_hash: str = ""
    pending: _Pending | None = None

    @property
    def unchanged(self) -> bool:
        """Already loaded: neither rejected nor pending."""
        return self.problem is None and self.pending is None


def _prepare(lf: LandingFile, version: _Version | None, transcoded: Path) -> _Prepared:
    """Whether `lf` is already loaded; if not, its hash, encoding, header and
    record count (a GB18030 file transcoded to `transcoded`). Reads the file
    only, never the warehouse: it runs on INSPECT_WORKERS threads."""
    info = None
    try:
        loaded, stat, info = _is_loaded(version, lf.path)
        if loaded:
            return _Prepared(lf)
        names = tuple(map_header(lf.table, info.header_line))
    except (FileProblem, OSError) as problem:
        reason = problem if isinstance(problem, FileProblem) else f"cannot read file ({problem.strerror})"
        return _Prepared(lf, problem=f"{lf.relative_path}: {reason}", file_hash=info.sha256 if info else "")
    read_path = lf.path
    if info.encoding == GB18030:
        read_path = transcode_to_utf8(lf.path, GB18030, transcoded)
    return _Prepared(lf, pending=_Pending(
        lf, info.sha256, stat.st_size, stat.st_mtime_ns, info.encoding, read_path, names, count_records(read_path),
    ))


def _log_rejected(con: duckdb.DuckDBPyConnection, load: FileLoad, file_hash: str, loaded_at: dt.datetime) -> None:
    """Log a rejected file. Rows of an earlier good version of it stay in raw:
    a bad re-delivery must not lose what was loaded."""
    lf = load.file
    con.execute(
        f"delete from {RAW_SCHEMA}.load_log where source_file = ? and status = 'rejected'", [lf.relative_path]
    )
    con.execute(
        f"insert into {RAW_SCHEMA}.load_log values (?, ?, ?, ?, ?, null, null, null, 'rejected', ?, null, null, null, ?)",
        [lf.relative_path, lf.table.name, lf.store_code, lf.drop_date, file_hash, load.message, loaded_at],
    )


def _parse_batch(con: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> list[tuple]:
    """Read the batch's files into the temporary table _parsed: every row
    typed, numbered by its line and with its problems; return the lines
    DuckDB could not read (file, line, reason, raw line).

    Outside the load's transaction (_load_batch): DuckDB reads a table
    created in the transaction that reads it with one thread (the inserts
    into raw took twice as long), and these temporary tables hold nothing
    the raw layer keeps."""
    table = batch[0].file.table
    names = batch[0].names
    header_columns = {
        (name if name else f"_ignored_{i}"): "VARCHAR" for i, name in enumerate(names)
    }
    present = {n for n in names if n}
    con.execute(
        "create or replace temp table _batch (read_path varchar, source_file varchar, "
        "store_code varchar, drop_date date, file_hash varchar, encoding varchar)"
    )
    _insert_rows(
        con,
        "_batch",
        [
            (str(p.read_path), p.file.relative_path, p.file.store_code, p.file.drop_date, p.file_hash, p.encoding)
            for p in batch
        ],
    )
    columns_sql = "{" + ", ".join(f"{quote_literal(k)}: 'VARCHAR'" for k in header_columns) + "}"
    paths_sql = "[" + ", ".join(quote_literal(str(p.read_path)) for p in batch) + "]"
    # Every contract column exists in the scan; ones the header lacks are NULL.
    select_text = ", ".join(
        f"{quote_ident(c.name) if c.name in present else 'null::varchar'} as {quote_ident(c.name)}"
        for c in table.columns
    )
    typed = ", ".join(
        f"{text_sql(c)} as {quote_ident(c.name + '__text')}, {typed_sql(c)} as {quote_ident(c.name)}"
        for c in table.columns
    )
    texts = ", ".join(quote_ident(c.name + "__text") for c in table.columns)
    checks = ", ".join(problem_sqls(table))
    # One statement from the files to the typed rows: the scan is not
    # stored apart, and the text columns only serve the checks.
    con.execute(
        f"""create or replace temp table _parsed as
            with scan as (
                select filename as _read_path, ordinality as _ordinality, {select_text}
                from read_csv({paths_sql}, header = true, columns = {columns_sql}, delim = ',',
                              quote = '"', escape = '"', filename = true, auto_detect = false,
                              store_rejects = true, rejects_table = '_rejects', rejects_scan = '_reject_scans')
                     with ordinality
            ),
            firsts as (
                select _read_path, min(_ordinality) as _first from scan group by _read_path
            ),
            scanned as (
                select s.*, b.source_file, b.store_code as _folder_store, b.drop_date as _drop_date,
                       b.file_hash,
                       s._ordinality - f._first + 2 as _line_number
                from scan s join _batch b on b.read_path = s._read_path join firsts f on f._read_path = s._read_path
            ),
            typed as (
                select source_file, _folder_store, _drop_date, file_hash, _line_number, {typed}
                from scanned
            )
            select * exclude ({texts}), list_filter([{checks}], x -> x is not null) as _problems from typed"""
    )
    rejects = con.execute(
        """select b.source_file, e.line,
                  'unreadable CSV line: ' || string_agg(distinct e.error_type, ', ')
                    || ' (' || arg_max(e.error_message, coalesce(e.column_idx, 0)) || ')',
                  any_value(e.csv_line)
           from _rejects e join _reject_scans s using (scan_id, file_id)
           join _batch b on b.read_path = s.file_path
           group by b.source_file, e.line"""
    ).fetchall()
    rejected_lines: dict[str, set[int]] = defaultdict(set)
    for source_file, line, _, _ in rejects:
        rejected_lines[source_file].add(int(line))
    _renumber_around_rejects(con, rejected_lines)
    return rejects


def _load_batch(con: duckdb.DuckDBPyConnection, batch: list[_Pending], loaded_at: dt.datetime) -> list[FileLoad]:
    table = batch[0].file.table
    try:
        rejects = _parse_batch(con, batch)
    except Exception:
        _drop_batch_tables(con)
        raise
    con.execute("begin transaction")
    try:
        sources_sql = "(select source_file from _batch)"
        _log_replaced_rows(con, table, sources_sql, loaded_at)
        con.execute(f"delete from {RAW_SCHEMA}.{table.name} where _source_file in {sources_sql}")
        con.execute(f"delete from {RAW_SCHEMA}.quarantine where source_file in {sources_sql}")
        con.execute(f"delete from {RAW_SCHEMA}.load_log where source_file in {sources_sql}")
        data_cols = ", ".join(quote_ident(c.name) for c in table.columns)
        con.execute(
            f"""insert into {RAW_SCHEMA}.{table.name}
                select {data_cols}, source_file, _line_number, _drop_date, file_hash, ?
                from _parsed where len(_problems) = 0""",
            [loaded_at],
        )
        con.execute(
            f"""insert into {RAW_SCHEMA}.quarantine
                select {quote_literal(table.name)}, source_file, _line_number, null,
                       array_to_string(_problems, '; '), _folder_store, _drop_date, file_hash, ?
                from _parsed where len(_problems) > 0""",
            [loaded_at],
        )
        if rejects:
            con.executemany(
                f"""insert into {RAW_SCHEMA}.quarantine
                    select {quote_literal(table.name)}, b.source_file, ?, ?, ?, b.store_code, b.drop_date,
                           b.file_hash, ?
                    from _batch b where b.source_file = ?""",
                [(line, raw, reason, loaded_at, source_file) for source_file, line, reason, raw in rejects],
            )
        _fill_quarantine_raw_lines(con, batch, table)
        # Counted from this batch's own rows, not from the raw tables, which
        # grow with every day of history.
        counts = {
            source_file: [loaded, quarantined]
            for source_file, loaded, quarantined in con.execute(
                """select source_file, count(*) filter (where len(_problems) = 0),
                          count(*) filter (where len(_problems) > 0)
                   from _parsed group by source_file"""
            ).fetchall()
        }
        for source_file, *_ in rejects:
            counts.setdefault(source_file, [0, 0])[1] += 1
        loads = []
        for p in batch:
            loaded, quarantined = counts.get(p.file.relative_path, (0, 0))
            loads.append(
                FileLoad(p.file, "loaded", rows_read=p.records, rows_loaded=loaded, rows_quarantined=quarantined)
            )
        _insert_rows(
            con,
            f"{RAW_SCHEMA}.load_log",
            [
                (
                    p.file.relative_path,
                    table.name,
                    p.file.store_code,
                    p.file.drop_date,
                    p.file_hash,
                    p.size,
                    p.mtime_ns,
                    p.encoding,
                    "loaded",
                    None,
                    load.rows_read,
                    load.rows_loaded,
                    load.rows_quarantined,
                    loaded_at,
                )
                for p, load in zip(batch, loads)
            ],
        )
        _drop_batch_tables(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        _drop_batch_tables(con)
        raise
    return loads


def _drop_batch_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("_parsed", "_batch", "_rejects", "_reject_scans"):
        con.execute(f"drop table if exists {name}")


def _log_replaced_rows(con: duckdb.DuckDBPyConnection, table: LandingTable, sources_sql: str, at: dt.datetime) -> None:
    """Before a re-delivery's earlier rows are deleted, log whose they were."""
    names = {c.name for c in table.columns}
    who = ", ".join(quote_ident(c) if c in names else "null" for c in ("store_code", "vin", "customer_id"))
    row_key = "concat_ws('|', " + ", ".join(quote_ident(c) for c in table.key) + ")"
    con.execute(
        f"""insert into {RAW_SCHEMA}.replaced_rows
            select {quote_literal(table.name)}, _source_file, {who}, {row_key}, ?
            from {RAW_SCHEMA}.{table.name} where _source_file in {sources_sql}""",
        [at],
    )


def _sql_literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    return quote_literal(str(value))


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert bookkeeping rows (one per file) in one statement: DuckDB's
    executemany runs a statement per row, far too slow for thousands of files."""
    if rows:
        values = ",\n".join("(" + ", ".join(_sql_literal(v) for v in row) + ")" for row in rows)
        con.execute(f"insert into {table} values {values}")


def _renumber_around_rejects(con: duckdb.DuckDBPyConnection, rejected_lines: dict[str, set[int]]) -> None:
    """Rows DuckDB rejected (wrong number of fields) take no ordinal, so the
    good rows of such a file are renumbered to the physical lines they sit
    on: the k-th good row is on the k-th line (from 2) not rejected."""
    if not rejected_lines:
        return
    mapping = []
    for source_file, rejected in rejected_lines.items():
        good_rows = con.execute("select count(*) from _parsed where source_file = ?", [source_file]).fetchone()[0]
        line, provisional = 2, 2
        for _ in range(good_rows):
            while line in rejected:
                line += 1
            mapping.append((source_file, provisional, line))
            line += 1
            provisional += 1
    con.execute("create or replace temp table _line_map (source_file varchar, provisional bigint, line bigint)")
    con.executemany("insert into _line_map values (?, ?, ?)", mapping)
    con.execute(
        """update _parsed set _line_number = m.line from _line_map m
           where m.source_file = _parsed.source_file and m.provisional = _parsed._line_number"""
    )
    con.execute("drop table _line_map")


def _fill_quarantine_raw_lines(con: duckdb.DuckDBPyConnection, batch: list[_Pending], table: LandingTable) -> None:
    """Quarantined rows keep the delivered line's text, read back from the
    original file (only for files that have quarantined rows)."""
    wanted = con.execute(
        "select source_file, list(_line_number) from _parsed where len(_problems) > 0 group by source_file"
    ).fetchall()
    if not wanted:
        return
    by_source = {p.file.relative_path: p for p in batch}
    updates = []
    for source_file, lines in wanted:
        p = by_source[source_file]
        encoding = p.encoding
        for number, text in read_lines(p.file.path, encoding, set(lines)).items():
            updates.append((text, source_file, number))
    con.executemany(
        f"""update {RAW_SCHEMA}.quarantine set raw_line = ?
            where source_file = ? and line_number = ? and raw_line is null
              and table_name = {quote_literal(table.name)}""",
        updates,
    )


@dataclass(frozen=True)
class Unreconciled:
    """A loaded file whose rows in raw do not add up to the rows it holds."""

    source_file: str
    rows_read: int | None
    rows_in_raw: int
    rows_in_quarantine: int

    def describe(self) -> str:
        return (
            f"{self.source_file}: {self.rows_read} rows read <> {self.rows_in_raw} in raw "
            f"+ {self.rows_in_quarantine} in raw.quarantine"
        )


def unreconciled_files(
    con: duckdb.DuckDBPyConnection, loaded_since: dt.datetime | None = None
) -> tuple[int, list[Unreconciled]]:
    """SPEC section 4 for every loaded file (or those loaded at or after
    `loaded_since`): rows read (raw.load_log, counted apart from the reader) =
    its rows in its raw table + its rows in raw.quarantine, counted now from
    the tables themselves. Returns the number of loaded files checked and the
    ones that do not add up."""
    since = "timestamp '0001-01-01'" if loaded_since is None else _sql_literal(loaded_since)
    in_raw = " union all ".join(
        f"select _source_file as source_file, count(*) as n from {RAW_SCHEMA}.{t.name} "
        f"where _loaded_at >= {since} group by 1"
        for t in LANDING_TABLES
    )
    rows = con.execute(
        f"""with in_raw as ({in_raw}),
                 in_quarantine as (
                     select source_file, count(*) as n from {RAW_SCHEMA}.quarantine
                     where loaded_at >= {since} group by 1
                 ),
                 files as (
                     select l.source_file, l.rows_read, coalesce(r.n, 0) as rows_in_raw,
                            coalesce(q.n, 0) as rows_in_quarantine
                     from {RAW_SCHEMA}.load_log l
                     left join in_raw r using (source_file)
                     left join in_quarantine q using (source_file)
                     where l.status = 'loaded' and l.loaded_at >= {since}
                 )
            select * from files
            where rows_read is distinct from rows_in_raw + rows_in_quarantine
            order by source_file"""
    ).fetchall()
    (checked,) = con.execute(
        f"select count(*) from {RAW_SCHEMA}.load_log where status = 'loaded' and loaded_at >= {since}"
    ).fetchone()
    return checked, [Unreconciled(*row) for row in rows]
