"""From landing text to typed raw values, as DuckDB SQL built from the contract.

Each column of a landing table becomes a SQL expression that parses the
trimmed text (English or Chinese enumerations, every flag form, both date
forms) and a condition that is true when the text is present but does not
parse. The loader runs these set-based over whole batches of files; no row
goes through Python.
"""

from __future__ import annotations

import csv

from sources.contract import (
    AMOUNT,
    DATE,
    ENUM,
    ENUM_LIST,
    ENUMERATIONS,
    FLAG,
    FLAG_FALSE,
    FLAG_TRUE,
    INTEGER,
    NUMBER,
    TEXT,
    TIMESTAMP,
    Column,
    LandingTable,
)
from sources.encoding import FileProblem

SQL_TYPES = {
    TEXT: "VARCHAR",
    ENUM: "VARCHAR",
    ENUM_LIST: "VARCHAR",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMP",
    AMOUNT: "DECIMAL(18,2)",
    NUMBER: "DECIMAL(18,3)",
    INTEGER: "BIGINT",
    FLAG: "BOOLEAN",
}

DATE_FORMATS = "['%Y-%m-%d', '%Y/%m/%d']"
TIMESTAMP_FORMATS = (
    "['%Y-%m-%d %H:%M:%S', '%Y/%m/%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y/%m/%d %H:%M', '%Y-%m-%d', '%Y/%m/%d']"
)
VIN_PATTERN = "^[A-HJ-NPR-Z0-9]{17}$"  # ISO 3779: 17 characters, no I, O or Q


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def map_header(table: LandingTable, header_line: str) -> list[str | None]:
    """English column name for each field of the header (None: not in the
    contract, ignored). Raises FileProblem for a header that is not CSV or
    lacks a required column."""
    try:
        fields = next(csv.reader([header_line]))
    except (csv.Error, StopIteration):
        raise FileProblem("not a CSV file: the first line is not a CSV header") from None
    by_label: dict[str, str] = {}
    for col in table.columns:
        by_label[col.name.lower()] = col.name
        by_label[col.zh] = col.name
    names = [by_label.get(f.strip().lstrip("\ufeff").lower()) for f in fields]
    present = {n for n in names if n}
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise FileProblem(f"header names column(s) twice: {', '.join(duplicated)}")
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        if not present:
            raise FileProblem(
                f"not a {table.file_name} file: no known column in header {header_line[:120]!r}"
            )
        raise FileProblem(f"missing required column(s): {', '.join(missing)}")
    return names


def _enum_case(value_sql: str, enum: str) -> str:
    whens = []
    for code, zh in ENUMERATIONS[enum].items():
        whens.append(f"when {quote_literal(code.lower())} then {quote_literal(code)}")
        whens.append(f"when {quote_literal(zh.lower())} then {quote_literal(code)}")
    return f"(case lower({value_sql}) {' '.join(whens)} end)"


def text_sql(col: Column) -> str:
    """The trimmed text of a column, NULL when empty."""
    return f"nullif(trim({quote_ident(col.name)}), '')"


def typed_sql(col: Column) -> str:
    """Expression parsing the column's text to its typed raw value."""
    v = text_sql(col)
    kind = col.kind
    if kind == TEXT:
        return v
    if kind == DATE:
        return f"cast(try_strptime({v}, {DATE_FORMATS}) as DATE)"
    if kind == TIMESTAMP:
        return f"try_strptime({v}, {TIMESTAMP_FORMATS})"
    if kind in (AMOUNT, NUMBER, INTEGER):
        return f"try_cast({v} as {SQL_TYPES[kind]})"
    if kind == FLAG:
        trues = ", ".join(quote_literal(x) for x in FLAG_TRUE)
        falses = ", ".join(quote_literal(x) for x in FLAG_FALSE)
        return f"(case when upper({v}) in ({trues}) then true when upper({v}) in ({falses}) then false end)"
    if kind == ENUM:
        return _enum_case(v, col.enum)
    if kind == ENUM_LIST:
        # ';' or the full-width '；' between values; blanks between separators ignored.
        items = f"list_filter(string_split(replace({v}, '；', ';'), ';'), x -> trim(x) <> '')"
        mapped = f"list_transform({items}, x -> {_enum_case('trim(x)', col.enum)})"
        return (
            f"(case when list_bool_or(list_transform({mapped}, x -> x is null)) then null "
            f"else nullif(array_to_string({mapped}, ';'), '') end)"
        )
    raise ValueError(f"unknown column kind {kind!r}")


def problem_sqls(table: LandingTable) -> list[str]:
    """SQL expressions, each yielding a reason text or NULL for one row.

    They read the parsed columns (named after the contract) of a relation that
    also holds the text as `<name>__text` and the folder's `_drop_date` and
    `_folder_store`."""
    checks: list[str] = []
    for col in table.columns:
        name = quote_ident(col.name)
        text = quote_ident(col.name + "__text")
        if col.required:
            checks.append(f"case when {text} is null then {quote_literal(f'{col.name}: required value missing')} end")
        if col.kind != TEXT:
            what = {
                DATE: "a date (YYYY-MM-DD or YYYY/MM/DD)",
                TIMESTAMP: "a timestamp (YYYY-MM-DD HH:MM:SS)",
                AMOUNT: "an amount",
                NUMBER: "a number",
                INTEGER: "a whole number",
                FLAG: "a flag (Y/N, 是/否, 1/0, true/false)",
                ENUM: f"a {col.enum} value",
                ENUM_LIST: f"a ';'-separated list of {col.enum} values",
            }[col.kind]
            checks.append(
                f"case when {text} is not null and {name} is null then "
                f"{quote_literal(f'{col.name}: cannot read ')} || quote_text({text}) || {quote_literal(' as ' + what)} end"
            )
        if col.kind == AMOUNT:
            checks.append(f"case when {name} < 0 then {quote_literal(f'{col.name}: negative amount ')} || {name} end")
        if col.name == "vin" or col.name.endswith("_vin"):
            checks.append(
                f"case when {text} is not null and not regexp_matches({text}, {quote_literal(VIN_PATTERN)}) then "
                f"{quote_literal('vin: invalid VIN ')} || quote_text({text}) || ' (17 characters, no I/O/Q)' end"
            )
        if col.not_after_drop and table.partitioned:
            checks.append(
                f"case when cast({name} as DATE) > _drop_date then "
                f"{quote_literal(f'{col.name}: ')} || cast({name} as VARCHAR) || ' is after the drop date ' || _drop_date end"
            )
    if table.partitioned and "store_code" in {c.name for c in table.columns}:
        checks.append(
            "case when store_code is not null and store_code <> _folder_store then "
            "'store_code: ' || quote_text(store_code) || ' does not match the drop folder ' || quote_text(_folder_store) end"
        )
    if table.name == "dms_repair_orders":
        checks.append(
            "case when abs(total_amount - (labor_amount + parts_amount + coalesce(other_amount, 0)"
            " - coalesce(discount_amount, 0))) > 0.01 then 'total_amount: ' || total_amount"
            " || ' <> labor + parts + other - discount = ' || (labor_amount + parts_amount"
            " + coalesce(other_amount, 0) - coalesce(discount_amount, 0)) end"
        )
    return checks


QUOTE_TEXT_MACRO = "create or replace temp macro quote_text(t) as '''' || t || ''''"
