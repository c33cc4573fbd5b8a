"""`aftersales call-list`: one store's call list with real names and phone
numbers, for the service manager who exports it on purpose (SPEC section 9).

The marts carry pseudonyms and masked contacts only. This export takes the
store's rows of marts.call_list in call order from the published warehouse
(the audited build the dashboards show), each with the owner's DMS customer
id as the marts attribute it, and adds the name and phone of that customer's
latest version in the raw layer of the working copy (which keeps every
delivered version of a key; the published file holds no raw layer). The
working copy is owner-only: the export runs as the account that runs the
job. Both files are opened read-only and the file is written by DuckDB in one
COPY: UTF-8 with a BOM and Chinese headers, so Excel on a Chinese desktop
opens it as it is.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sources.contract import ENUMERATIONS


class CallListError(Exception):
    """A problem the command reports in one line (exit code 2)."""


@dataclass(frozen=True)
class ExportResult:
    store_code: str
    rows: int
    path: Path
    as_of_date: dt.date | None  # the data date of the list; None when the warehouse has no list at all


# The file's columns, in order: source column -> Chinese header. `name`,
# `phone` come from the working copy's raw layer, the rest from marts.call_list.
COLUMNS: dict[str, str] = {
    "call_rank": "序号",
    "store_code": "门店代码",
    "call_reason": "回访原因",
    "churn_status": "流失状态",
    "name": "客户姓名",
    "phone": "手机号码",
    "customer_id": "客户编号",
    "customer_type": "客户类型",
    "vin": "车架号",
    "brand": "品牌",
    "model": "车型",
    "last_visit_date": "最后进厂日期",
    "last_service_type": "最后维修类型",
    "days_since_last_visit": "距今天数",
    "estimated_mileage_km": "估算里程(公里)",
    "mileage_due_date": "里程保养到期日",
    "annual_spend": "年消费金额",
    "lifetime_revenue": "累计产值",
    "total_visits": "进厂次数",
    "churned_on": "流失日期",
    "last_survey_date": "最近回访日期",
    "loss_type": "流失类型",
    "loss_destination": "流失去向",
    "as_of_date": "数据日期",
}

# Codes shown as the Chinese labels a service manager reads; a code not
# listed here is written as it is.
LABELS: dict[str, dict[str, str]] = {
    "call_reason": {"at_risk": "流失风险", "churned": "已流失", "hidden_churn": "隐性流失(里程超期)"},
    "churn_status": {"active": "在保", "at_risk": "流失风险", "churned": "流失"},
    "customer_type": ENUMERATIONS["customer_type"],
    "last_service_type": ENUMERATIONS["service_type"],
    "loss_type": {
        "natural": "自然流失",
        "insurer_assigned": "保险指定",
        "competitor": "流失至他店",
        "group_transfer": "集团内转店",
        "unknown": "原因不明",
    },
    "loss_destination": {**ENUMERATIONS["serviced_at"], "group_transfer": "集团内其他门店"},
}

# Most-recent first, as the dbt macro latest_version orders a key's versions
# (SPEC section 3): latest updated_at, then the later drop, load and line.
_LATEST_FIRST = "updated_at desc, _drop_date desc nulls last, _loaded_at desc, _line_number desc"

_QUERY = f"""
with

call_list as (
    select * from published.marts.call_list where store_code = $store
),

customers as (
    select customer_id, name, phone
    from working.raw.dms_customers
    where store_code = $store
    qualify row_number() over (partition by customer_id order by {_LATEST_FIRST}) = 1
),

final as (
    select call_list.*, customers.name, customers.phone
    from call_list
    left join customers using (customer_id)
)

select {{columns}}
from final
order by call_rank
"""


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _select_list() -> str:
    items = []
    for i, (column, header) in enumerate(COLUMNS.items()):
        expression = column
        if column in LABELS:
            pairs = ", ".join(f"{_sql_string(k)}: {_sql_string(v)}" for k, v in LABELS[column].items())
            expression = f"coalesce(map {{{pairs}}}[{column}], {column})"
        # DuckDB writes no byte-order mark, so the first header carries it:
        # the file then starts with the UTF-8 BOM Excel looks for.
        alias = ("\ufeff" if i == 0 else "") + header
        items.append(f'{expression} as "{alias}"')
    return ",\n       ".join(items)


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, what: str) -> None:
    try:
        con.execute(f"attach {_sql_string(str(path))} as {alias} (read_only)")
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise CallListError(
                f"cannot read {what} {path}: a run is writing it; try again when the run has finished"
            ) from e
        raise CallListError(f"cannot read {what} {path} ({str(e).splitlines()[0]}); it is readable by the "
                            "account that runs the job only: export the call list as that account") from e


def _connect(published: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the published file attached read-only as `published`."""
    if not published.is_file():
        raise CallListError(f"no warehouse at {published}: run `aftersales run` first")
    con = duckdb.connect()
    try:
        _attach(con, published, "published", "the published warehouse")
    except CallListError:
        con.close()
        raise
    return con


def _attach_working_copy(con: duckdb.DuckDBPyConnection, working: Path, published: Path) -> None:
    """The working copy, where the names and phones are, attached read-only as `working`."""
    if not working.is_file():
        raise CallListError(
            f"no working copy at {working} (the warehouse with the raw layer, where the names and phones are, "
            f"beside the published {published.name}): run `aftersales run` first"
        )
    _attach(con, working, "working", "the working copy")


def _check_store(con: duckdb.DuckDBPyConnection, warehouse: Path, store_code: str) -> str:
    """The store's code as the warehouse spells it; an error naming the known
    codes when there is no such store."""
    tables = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'published' and table_schema = 'marts'"
        ).fetchall()
    }
    missing = {"call_list", "dim_stores"} - tables
    if missing:
        raise CallListError(
            f"{warehouse} has no {', '.join(f'marts.{t}' for t in sorted(missing))}: run `aftersales run` first"
        )
    known = [code for (code,) in con.execute(
        "select store_code from published.marts.dim_stores order by 1").fetchall()]
    for code in known:
        if code.casefold() == store_code.strip().casefold():
            return code
    raise CallListError(f"unknown store {store_code!r}; the stores in {warehouse} are: {', '.join(known) or 'none'}")


def export_call_list(warehouse: Path, store_code: str, out: Path) -> ExportResult:
    """Write the store's call list to `out` and say how many customers it
    holds; `warehouse` is the published file, the working copy is beside it."""
    from orchestration.publish import working_copy_path

    warehouse, out = Path(warehouse).resolve(), Path(out).resolve()
    if out.is_dir():
        raise CallListError(f"{out} is a folder: give a file name for the call list, e.g. {out / 'call_list.csv'}")
    con = _connect(warehouse)
    try:
        code = _check_store(con, warehouse, store_code)
        _attach_working_copy(con, working_copy_path(warehouse), warehouse)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        query = _QUERY.format(columns=_select_list())
        try:
            # Real phone numbers: readable by the owner only, and the finished
            # file appears at `out` in one step or not at all.
            partial.unlink(missing_ok=True)
            partial.touch(mode=0o600)
            try:
                (rows,) = con.execute(
                    f"copy ({query}) to {_sql_string(str(partial))} (format csv, header)", {"store": code}
                ).fetchone()
            except (duckdb.BinderException, duckdb.CatalogException) as e:
                raise CallListError(
                    f"{warehouse} lacks what this export reads ({str(e).splitlines()[0]}); "
                    "rebuild it with `aftersales run`"
                ) from e
            os.chmod(partial, 0o600)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        (as_of,) = con.execute("select max(as_of_date) from published.marts.call_list").fetchone()
    finally:
        con.close()
    return ExportResult(store_code=code, rows=rows, path=out, as_of_date=as_of)
