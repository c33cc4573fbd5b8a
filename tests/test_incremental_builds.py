"""An incremental build equals a full refresh over the same files, cell for
cell (docs/decisions.md, "Incremental builds"), for days off (several days'
drops at once, into a new month), a new day, a late drop, a re-delivered drop
and a backfill.

One generated landing is delivered to the pipeline in steps, each run in
process by `run_pipeline` as `aftersales run` does. After each run its working
copy is frozen, and a copy of it -- the same raw layer -- is rebuilt with
`dbt build --full-refresh`: every relation of schema marts must match, both
ways, row for row. The last state is also compared with `aftersales run
--full-refresh`. (That the files loaded late, corrected and backfilled give
the marts of one run from an empty warehouse is tests/test_publish.py's, on
the hand landing.)"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_runs import build_models, data_test_failures
from landing_edits import (
    RepairOrderCorrection,
    append_rows,
    append_rows_as_delivered,
    copy_landing_without,
    correct_repair_orders,
    correct_cell,
    correctable_pair,
    deliver,
    drops,
    is_revenue,
    ro_numbers_delivered,
    rows_as_delivered,
    rows_by_name,
)

from orchestration import settings
from sources.demo import generate_landing

EDITED_STORE = "S001"  # plain UTF-8 with LF: its files are edited in place
BACKFILLED_STORE = "S003"  # its history extract arrives after its daily drops
CASES = ("days_off", "new_day", "late_drop", "redelivered", "backfill")
SURVEY_DESTINATION = "chain_shop"


@dataclass
class Step:
    summary: object  # orchestration.pipeline.RunSummary
    incremental: Path  # the working copy after the run, frozen
    published: Path  # the published file after the run
    full: Path | None = None  # the same raw layer, every model rebuilt by dbt build --full-refresh


@dataclass
class Sequence:
    steps: dict[str, Step] = field(default_factory=dict)
    late_day: str = ""
    days_off: list[str] = field(default_factory=list)
    correction: RepairOrderCorrection | None = None
    survey: dict | None = None  # the response whose destination the re-delivery corrected
    owner: dict | None = None  # the customer whose district it corrected, with the vehicle's VIN
    contact: dict | None = None  # the finished campaign's contact it re-delivered as reached
    full_refresh: Step | None = None
    second_store_vin: str = ""  # a vehicle of one store the new day brings to another
    landing: Path | None = None


def _visit_a_second_store(working: Path, dms: Path, extract_day: str, day: str) -> str:
    """A vehicle seen at one store only, for a year or more, brought to
    another store on `day` (a closed repair order appended to that store's
    drop of the day, modelled on one of its history extract, its customer
    one of that store's; no vehicle record, which would change every month
    of the vehicle): from six months before the visit on it has rows of
    every scope. Its VIN.

    Churned in the month before the first the visit reaches: the region and
    group rows recomputed from there compare their status with that month's
    stored store row, which stands for them. Read as missing, the first
    month would count the vehicle newly churned in its region and group,
    which the full refresh does not."""
    with duckdb.connect(str(working), read_only=True) as con:
        # With months before the first the visit reaches (six before its own).
        (vin, home, mileage), = con.execute("""
            select vin, any_value(scope_code), max(max_mileage_km) from intermediate.int_customer_months_classified
            where stands_for_its_scopes
            group by vin
            having min(month_end) < last_day(?::date - interval 12 month)
                and bool_or(month_end = last_day(?::date - interval 7 month) and churn_status = 'churned')
            order by vin limit 1""", [day, day]).fetchall()
    store = next(folder for folder in sorted(dms.iterdir()) if folder.name != home and (folder / day).is_dir())
    order = next(ro for ro in rows_as_delivered(store / extract_day / "repair_orders.csv") if is_revenue(ro)) | {
        "ro_number": "RO9999999999", "vin": vin, "mileage_km": str(int(mileage or 0) + 5000),
        "opened_at": f"{day} 09:00:00", "closed_at": f"{day} 11:00:00", "updated_at": f"{day} 11:00:00"}
    append_rows_as_delivered(store / day / "repair_orders.csv", [order])
    return vin


def _frozen_copy(working: Path, dest: Path) -> Path:
    """The working copy as one file (write-ahead log folded in), copied."""
    duckdb.connect(str(working)).execute("checkpoint").close()
    shutil.copyfile(working, dest)
    return dest


def _busiest_middle_day(landing: Path, daily: list[str]) -> str:
    """The daily date of the middle third with the most repair orders: a late
    drop with something in it, with daily drops before and after it."""
    third = len(daily) // 3
    middle = daily[third: 2 * third]
    # Lines after the header: any store's encoding and line ends.
    count = Counter()
    for d in drops(landing):
        if d.source == "dms" and d.date in middle:
            count[d.date] += (landing / "dms" / d.store / d.date / "repair_orders.csv").read_bytes().count(b"\n") - 1
    return max(middle, key=lambda day: (count[day], day))


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> Sequence:
    from orchestration.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("incremental")
    generated, landing = root / "generated", root / "landing"
    # Seed 13: the edited store has a reached survey of a serviced vehicle in the
    # daily drops of the month before the new day.
    generate_landing(generated, seed=13, stores=3, years=2, vehicles_per_store=80, daily_days=40)
    dates = sorted({d.date for d in drops(generated)})
    extract_day, daily, new_day = dates[0], dates[1:], dates[-1]
    seq = Sequence(late_day=_busiest_middle_day(generated, daily[:-1]), landing=landing)
    # Days off: the drops of the last week of the month before the new day's
    # and of its month up to the new day, delivered at once. The data date
    # moves days within a month (some customers cross a threshold) and into
    # a new one (every customer gets a month).
    off_from = (date.fromisoformat(new_day).replace(day=1) - timedelta(days=7)).isoformat()
    seq.days_off = [day for day in daily[:-1] if day >= off_from and day != seq.late_day]
    copy_landing_without(generated, landing, lambda d: d.date in (new_day, seq.late_day, *seq.days_off)
                         or (d.store == BACKFILLED_STORE and d.date == extract_day))
    warehouse = root / "warehouse" / "warehouse.duckdb"
    (root / "reference").mkdir()

    def run(name: str, *, reference: bool = True, full_refresh: bool = False) -> Step:
        summary = run_pipeline(landing=landing, warehouse=warehouse, dashboards_dir=root / name / "dashboards",
                               data_docs_dir=root / name / "data_docs", full_refresh=full_refresh)
        (root / name).mkdir(exist_ok=True)
        step = Step(summary, _frozen_copy(summary.working_copy, root / name / "incremental.duckdb"),
                    shutil.copyfile(summary.warehouse, root / name / "published.duckdb"))
        if reference:
            # Every reference is built at one path, then moved: dbt re-parses
            # the whole project for a warehouse path it has not parsed for.
            building = shutil.copyfile(step.incremental, root / "reference" / "full.duckdb")
            build_models(building, root / name, settings.pseudonym_key(landing), full_refresh=True,
                         target=root / "reference" / "target")
            step.full = _frozen_copy(building, root / name / "full.duckdb")
        return step

    # run_pipeline exports the warehouse, landing and key for dbt: undo that after.
    with pytest.MonkeyPatch.context() as env:
        for name in (settings.WAREHOUSE_ENV, settings.LANDING_ENV, settings.PSEUDONYM_KEY_ENV,
                     settings.MEMORY_LIMIT_ENV, settings.THREADS_ENV, settings.SPILL_DIR_ENV):
            env.delenv(name, raising=False)
        seq.steps["initial"] = run("initial", reference=False)

        assert deliver(generated, landing, lambda d: d.date in seq.days_off)
        seq.steps["days_off"] = run("days_off")

        assert deliver(generated, landing, lambda d: d.date == new_day)
        seq.second_store_vin = _visit_a_second_store(seq.steps["days_off"].incremental, landing / "dms",
                                                     extract_day, new_day)
        seq.steps["new_day"] = run("new_day")

        assert deliver(generated, landing, lambda d: d.date == seq.late_day)
        seq.steps["late_drop"] = run("late_drop")

        # An earlier daily drop of the edited store, re-delivered corrected.
        delivered = ro_numbers_delivered(landing, EDITED_STORE)
        folder, (raised, removed) = next(
            (folder, pair) for day in daily[:-1]
            if (folder := landing / "dms" / EDITED_STORE / day).is_dir()
            and (pair := correctable_pair(folder, delivered))
        )
        seq.correction = correct_repair_orders(folder, raised, removed, raise_by=Decimal("100.00"))
        # A survey of a month before the new day's, which the data date alone would not
        # recompute, of a vehicle with repair orders (so it has customer-months).
        serviced_vins = {ro["vin"] for path in sorted((landing / "dms" / EDITED_STORE).glob("*/repair_orders.csv"))
                         for ro in rows_by_name(path)}
        survey_file, seq.survey = next(
            (path, response) for day in daily[:-1]
            if day[:7] < new_day[:7]
            and (path := landing / "survey" / EDITED_STORE / day / "responses.csv").is_file()
            for response in rows_by_name(path)
            if response["reached"] == "Y" and response["serviced_at"] != SURVEY_DESTINATION
            and response["vin"] in serviced_vins
        )
        correct_cell(survey_file, "response_id", seq.survey["response_id"], "serviced_at", SURVEY_DESTINATION)
        # The same drop's customers re-delivered with a newer record of the
        # owner of a vehicle serviced in the history extract, whose other rows
        # stay as they were: the district corrected.
        extract = landing / "dms" / EDITED_STORE / extract_day
        owners = {c["customer_id"]: c for c in rows_by_name(extract / "customers.csv")}
        serviced = {ro["vin"] for ro in rows_by_name(extract / "repair_orders.csv")}
        untouched = serviced - {raised["vin"], removed["vin"], seq.survey["vin"]} - {
            v["vin"] for day in daily for v in rows_by_name(landing / "dms" / EDITED_STORE / day / "vehicles.csv")}
        seq.owner = next(owners[v["customer_id"]] | {"vin": v["vin"]} for v in rows_by_name(extract / "vehicles.csv")
                         if v["vin"] in untouched and v["customer_id"] in owners)
        other_district = next(c["district"] for c in owners.values() if c["district"] != seq.owner["district"])
        append_rows(folder / "customers.csv",
                    [seq.owner | {"district": other_district, "updated_at": f"{folder.name} 12:00:00"}])
        # The history extract's contact file re-delivered with a contact of a
        # finished campaign now reached: only the crm rows can tell the build
        # to measure that campaign again.
        contacts_file = landing / "crm" / EDITED_STORE / extract_day / "campaign_contacts.csv"
        contacts = rows_by_name(contacts_file)
        seq.contact = next(c for c in contacts if c["reached"] == "N"
                           and [o["vin"] for o in contacts].count(c["vin"]) == 1)
        correct_cell(contacts_file, "vin", seq.contact["vin"], "reached", "Y")
        seq.steps["redelivered"] = run("redelivered")

        assert deliver(generated, landing, lambda d: d.store == BACKFILLED_STORE and d.date == extract_day)
        seq.steps["backfill"] = run("backfill")

        # `aftersales run --full-refresh` over the same warehouse: nothing new to
        # load, every model rebuilt from the whole raw layer.
        seq.full_refresh = run("full_refresh", reference=False, full_refresh=True)
    return seq


def _mart_differences(a: Path, b: Path, ignore: dict[str, str] | None = None) -> dict[str, str]:
    """Every relation of schema marts in `a` and `b` compared as multisets of
    rows (EXCEPT ALL both ways), less the columns `ignore` names per relation:
    {relation: how they differ, with a few of the differing rows}, empty when equal."""
    ignore = ignore or {}
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        tables = {
            db: {t for (t,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'marts'",
                [db]).fetchall()}
            for db in ("a", "b")
        }
        assert tables["a"] == tables["b"] and len(tables["a"]) >= 10, tables
        differences = {}
        for table in sorted(tables["a"]):
            columns = f"* exclude ({ignore[table]})" if table in ignore else "*"
            only = {}
            for x, y in (("a", "b"), ("b", "a")):
                only[x] = con.execute(f"""select {columns} from {x}.marts.{table}
                                          except all select {columns} from {y}.marts.{table}""").fetchall()
            (n_a,), = con.execute(f"select count(*) from a.marts.{table}").fetchall()
            (n_b,), = con.execute(f"select count(*) from b.marts.{table}").fetchall()
            if only["a"] or only["b"] or n_a != n_b:
                differences[table] = (f"{n_a} rows vs {n_b}; {len(only['a'])} only in the first, e.g. {only['a'][:2]}; "
                                      f"{len(only['b'])} only in the second, e.g. {only['b'][:2]}")
        return differences
    finally:
        con.close()


def _query(database: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def test_every_run_succeeds(sequence):
    for name, step in [*sequence.steps.items(), ("full_refresh", sequence.full_refresh)]:
        assert step.summary.success and not step.summary.errors, (name, step.summary.errors)
        assert not step.summary.failed_checks, (name, step.summary.failed_checks)


def test_the_first_build_is_a_full_build(sequence):
    (is_full,), = _query(sequence.steps["initial"].incremental,
                         "select is_full_rebuild from intermediate.int_builds_completed")
    assert is_full


@pytest.mark.parametrize("mart", ["fct_customer_month_stored", "fct_group_customer_month_stored", "churn_scores"])
def test_a_full_build_stores_the_customer_month_marts_month_by_month(sequence, mart):
    # In the order DuckDB stores the rows (rowid), every month's rows come
    # after the month before's (docs/decisions.md, "Customer-month marts
    # stored in month order").
    stored = [month for (month,) in _query(sequence.steps["initial"].incremental,
                                           f"select month_end from marts.{mart} order by rowid")]
    assert len(set(stored)) > 1
    assert stored == sorted(stored)


@pytest.mark.parametrize("case", CASES)
def test_marts_equal_a_full_refresh_over_the_same_files(sequence, case):
    step = sequence.steps[case]
    # The reference really was rebuilt whole.
    assert _query(step.full, "select is_full_rebuild from intermediate.int_builds_completed "
                             "order by completed_at desc limit 1") == [(True,)]
    assert _mart_differences(step.incremental, step.full) == {}


@pytest.mark.parametrize("case", CASES)
def test_the_published_marts_equal_a_full_refresh(sequence, case):
    """Publishing replaced only the rows the build wrote in the large marts
    (the previous build was the published one), and the result is whole."""
    step = sequence.steps[case]
    assert step.summary.published
    assert _query(step.published, "select is_full_rebuild from ops.build") == [(False,)]
    assert _mart_differences(step.published, step.full) == {}


@pytest.mark.parametrize("case", CASES)
def test_the_run_was_incremental(sequence, case):
    """Incremental, so the test above cannot pass by rebuilding everything."""
    database = sequence.steps[case].incremental
    builds = _query(database, "select is_full_rebuild from intermediate.int_builds_completed order by completed_at")
    assert len(builds) == CASES.index(case) + 2  # the initial build and one per case so far
    assert builds[-1] == (False,)
    (changed,), = _query(database, "select count(*) from intermediate.int_customer_months_changed_as_stored")
    (rows,), = _query(database, "select count(*) from intermediate.int_customer_months_classified")
    assert 0 < changed < rows, (changed, rows)
    # The changed keys in every scope (what the marts, the checks and the
    # publish read) hold every changed row's key, and each of their
    # customer-months is a changed row's: a store row's stood for its region
    # and group.
    keys = "scope_level, scope_code, vin, month_end"
    stored_changed = f"select {keys} from intermediate.int_customer_months_changed_as_stored"
    every_scope = f"select {keys} from intermediate.int_customer_months_changed"
    assert _query(database, f"select count(*) from (({stored_changed}) except ({every_scope}))") == [(0,)]
    assert _query(database, f"select count(*) from ((select vin, month_end from ({every_scope})) "
                            f"except (select vin, month_end from ({stored_changed})))") == [(0,)]
    # The rows the models downstream read as this build's new versions are
    # the classification's rows of the changed keys, looked up here.
    lookup = ("select * from intermediate.int_customer_months_classified semi join "
              "intermediate.int_customer_months_changed_as_stored using (scope_level, scope_code, vin, month_end)")
    written = "select * from intermediate.int_customer_months_written"
    (new_versions,), = _query(database, f"select count(*) from ({written})")
    assert new_versions > 0
    assert _query(database, f"select count(*) from (({lookup}) except all ({written}))") == [(0,)]
    assert _query(database, f"select count(*) from (({written}) except all ({lookup}))") == [(0,)]
    # Every row's hash is kept, so the next build reads the part's hashes,
    # not its rows (the first build writes them after its commit).
    classified_keys = f"select {keys} from intermediate.int_customer_months_classified"
    hashed_keys = f"select {keys} from intermediate.int_customer_months_hashes"
    assert _query(database, f"select count(*) from (({classified_keys}) except all ({hashed_keys}))") == [(0,)]
    assert _query(database, f"select count(*) from (({hashed_keys}) except all ({classified_keys}))") == [(0,)]
    # The rows the features read as the part the classification recomputed
    # are its rows of that part, changed or not: the new months, the months
    # of the changed vehicles and the window's month of the vehicles due.
    part = ("select * from intermediate.int_customer_months_classified"
            " where month_end > (select rebuild_from_month_end from intermediate.int_build_window)"
            " or (vin, month_end) in (select vin, month_end from intermediate.int_vin_months_rebuilt)"
            " or (month_end = (select rebuild_from_month_end from intermediate.int_build_window)"
            " and vin in (select vin from intermediate.int_vins_due))")
    recomputed = "select * from intermediate.int_customer_months_recomputed"
    (recomputed_rows,), = _query(database, f"select count(*) from ({recomputed})")
    assert recomputed_rows >= new_versions
    assert _query(database, f"select count(*) from (({part}) except all ({recomputed}))") == [(0,)]
    assert _query(database, f"select count(*) from (({recomputed}) except all ({part}))") == [(0,)]


@pytest.mark.parametrize("case", CASES)
def test_the_run_changed_the_marts(sequence, case):
    before = sequence.steps[("initial", *CASES)[CASES.index(case)]]
    assert _mart_differences(before.incremental, sequence.steps[case].incremental) != {}


@pytest.mark.parametrize("case", CASES)
def test_a_run_scores_the_churn_scores_it_can_change_not_all(sequence, case):
    """int_churn_scores_due, the customer-months a build scores, holds every
    churn score that differs between the previous build and a full refresh
    of this one (found by comparing every column, not by the rules that
    chose them), and fewer than all: a run scores what it can change. (A
    backfill refits every model, so it scores every month again.)"""
    previous, step = sequence.steps[("initial", *CASES)[CASES.index(case)]], sequence.steps[case]
    with duckdb.connect() as con:
        con.execute(f"attach '{previous.incremental}' as before (read_only)")
        con.execute(f"attach '{step.full}' as after (read_only)")
        con.execute(f"attach '{step.incremental}' as build (read_only)")
        (changed,), = con.execute(
            "select count(*) from (select * from after.marts.churn_scores except all "
            "select * from before.marts.churn_scores)").fetchall()
        missed = con.execute(
            """select store_code, vin, month_end from (
                   select * from after.marts.churn_scores except all select * from before.marts.churn_scores)
               except
               select store_code, vin, month_end from build.intermediate.int_churn_scores_due""").fetchall()
        (due,), = con.execute("select count(*) from build.intermediate.int_churn_scores_due").fetchall()
        (scores,), = con.execute("select count(*) from after.marts.churn_scores").fetchall()
    assert changed > 0 and not missed, (changed, missed[:5])
    if case != "backfill":  # a store's history delivered late changes every model's training rows
        assert due < scores, (due, scores)


@pytest.mark.parametrize("case", CASES)
def test_the_backtest_recomputes_the_store_months_whose_inputs_changed(sequence, case):
    """int_churn_score_store_months_changed, the store-months whose backtest
    and calibration a build recomputes (with their region and the group), is
    exactly the store-months with a churn score of complete outcomes that
    differs, in a column those marts read, between the previous build and a
    full refresh of this one (found by comparing the columns, not by the
    rules that chose them). A new owner's customer_key alone is not a change."""
    previous, step = sequence.steps[("initial", *CASES)[CASES.index(case)]], sequence.steps[case]
    read = "store_code, vin, month_end, label_complete, p_return, returned_within_6m, churn_status, " \
           "days_since_last_visit"
    with duckdb.connect() as con:
        con.execute(f"attach '{previous.incremental}' as before (read_only)")
        con.execute(f"attach '{step.full}' as after (read_only)")
        con.execute(f"attach '{step.incremental}' as build (read_only)")
        differing = set(con.execute(
            f"""with before_rows as (select {read} from before.marts.churn_scores where label_complete),
                     after_rows as (select {read} from after.marts.churn_scores where label_complete)
                select distinct store_code, month_end from (
                    (from before_rows except all from after_rows) union all (from after_rows except all from before_rows))
            """).fetchall())
        recomputed = set(con.execute(
            "select store_code, month_end from build.intermediate.int_churn_score_store_months_changed").fetchall())
    assert recomputed == differing, (sorted(recomputed - differing)[:5], sorted(differing - recomputed)[:5])


@pytest.mark.parametrize("case", CASES)
def test_a_run_measures_again_the_campaigns_it_can_change_not_all(sequence, case):
    """int_campaigns_remeasured, the campaigns a build measures again, holds
    every campaign whose measured customers differ between the previous build
    and a full refresh of this one (found by comparing every column, not by
    the rules that chose them), and fewer than all; the measured customers
    then equal the full refresh's."""
    previous, step = sequence.steps[("initial", *CASES)[CASES.index(case)]], sequence.steps[case]
    measured = "intermediate.int_campaign_customers_measured"
    with duckdb.connect() as con:
        con.execute(f"attach '{previous.incremental}' as before (read_only)")
        con.execute(f"attach '{step.full}' as after (read_only)")
        con.execute(f"attach '{step.incremental}' as build (read_only)")
        differing = set(con.execute(
            f"""select distinct store_code, campaign_id from (
                    (from after.{measured} except all from before.{measured})
                    union all (from before.{measured} except all from after.{measured}))""").fetchall())
        listed = set(con.execute(
            "select store_code, campaign_id from build.intermediate.int_campaigns_remeasured").fetchall())
        campaigns = set(con.execute(
            "select store_code, campaign_id from after.intermediate.int_campaigns_windowed").fetchall())
        running = set(con.execute(
            """select store_code, campaign_id from after.intermediate.int_campaigns_windowed
               where window_end > (select previous_data_as_of_date from build.intermediate.int_build_window)
            """).fetchall())
        (unequal,), = con.execute(
            f"""select count(*) from ((from after.{measured} except all from build.{measured})
                union all (from build.{measured} except all from after.{measured}))""").fetchall()
    whole_stores = {store for store, campaign in listed if campaign is None}
    remeasured = {pair for pair in campaigns | differing if pair[0] in whole_stores or pair in listed}
    assert differing <= remeasured, sorted(differing - remeasured)[:5]
    assert len(remeasured) < len(campaigns), (len(remeasured), len(campaigns))
    assert unequal == 0
    if case in ("days_off", "new_day"):  # the data date moved: every running campaign
        assert running and running <= remeasured, (running, remeasured)
    if case == "days_off":  # weeks of visits
        assert differing
    if case == "redelivered":
        assert (EDITED_STORE, sequence.contact["campaign_id"]) in differing


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("relation", ["int_survey_responses_classified", "int_customer_months_featured"])
def test_the_intermediate_relations_a_build_recomputes_in_part_equal_a_full_refresh(sequence, case, relation):
    """Relations no mart shows whole, which a build recomputes in part, equal
    a full refresh's row for row: the survey classification (the responses
    of the changed vehicles and the win-back windows the data date reaches)
    and the churn-score features (among others, the months a loaded
    insurance policy reaches, from its start)."""
    step = sequence.steps[case]
    classified = f"intermediate.{relation}"
    with duckdb.connect() as con:
        con.execute(f"attach '{step.full}' as after (read_only)")
        con.execute(f"attach '{step.incremental}' as build (read_only)")
        (unequal,), = con.execute(
            f"""select count(*) from ((from after.{classified} except all from build.{classified})
                union all (from build.{classified} except all from after.{classified}))""").fetchall()
        (rows,), = con.execute(f"select count(*) from build.{classified}").fetchall()
    assert rows > 0 and unequal == 0, (rows, unequal)


def test_the_days_off_recompute_the_month_of_the_customers_whose_row_the_date_moved(sequence):
    """Over the days off, a customer nothing was delivered for keeps the
    row of the previous data date's month unless the moved date changes it
    (int_vins_due). The vehicles due are exactly those whose row of that month
    differs between the previous build and a full refresh of this one, less
    the vehicles delivered for: found by comparing every column, not by the
    rules that chose them. Some are due, and the data date entered a new month."""
    previous, step = sequence.steps["initial"], sequence.steps["days_off"]
    (window, previous_date, data_date), = _query(
        step.incremental, "select rebuild_from_month_end, previous_data_as_of_date, data_as_of_date "
                          "from intermediate.int_build_window")
    assert previous_date < window < data_date
    due = {vin for (vin,) in _query(step.incremental, "select vin from intermediate.int_vins_due")}
    with duckdb.connect() as con:
        con.execute(f"attach '{previous.incremental}' as before (read_only)")
        con.execute(f"attach '{step.full}' as after (read_only)")
        con.execute(f"attach '{step.incremental}' as build (read_only)")
        changed_rows = con.execute(
            """with
               before_rows as (select * from before.intermediate.int_customer_months_classified where month_end = $1),
               after_rows as (select * from after.intermediate.int_customer_months_classified where month_end = $1)
               select vin from (from before_rows except all from after_rows)
               union
               select vin from (from after_rows except all from before_rows)
               except
               select vin from build.intermediate.int_vins_changed""", [window]).fetchall()
        (delivered,), = con.execute("select count(*) from build.intermediate.int_vins_changed").fetchall()
    assert due and due == {vin for (vin,) in changed_rows}, (due, changed_rows)
    assert delivered > 0


@pytest.mark.parametrize("case", ("late_drop", "redelivered"))
def test_a_run_whose_data_date_did_not_move_rewrites_the_changed_customer_months_only(sequence, case):
    """A late or re-delivered drop of a day already loaded moves no as-of
    date, so the customer-month marts change the rows of its vehicles, not
    the running month of every customer: the rows the checks and the publish
    take as written (expectations.suites.CHANGED_ROWS) are the changed
    customer-months, counted here against int_customer_months_changed: in
    the data date's month, some of its customers and not all."""
    from expectations.suites import CHANGED_ROWS

    database = sequence.steps[case].incremental
    (previous_date, data_date, moved_from), = _query(
        database, "select previous_data_as_of_date, data_as_of_date, as_of_moved_from_month_end "
                  "from intermediate.int_build_window")
    assert previous_date == data_date and moved_from == date(9999, 12, 31), (previous_date, data_date, moved_from)
    in_month = "month_end = last_day(?::date)"
    (written, written_in_month), = _query(
        database, f"select count(*), count(*) filter (where {in_month}) from marts.fct_customer_month "
                  f"where {CHANGED_ROWS['marts.fct_customer_month']}", [data_date])
    (changed, changed_in_month), = _query(
        database, f"select count(*), count(*) filter (where {in_month}) "
                  f"from intermediate.int_customer_months_changed where scope_level = 'store'", [data_date])
    (customers_in_month,), = _query(database, f"select count(*) from marts.fct_customer_month where {in_month}",
                                    [data_date])
    assert 0 < written <= changed, (written, changed)
    assert 0 < written_in_month <= changed_in_month < customers_in_month, (
        written_in_month, changed_in_month, customers_in_month)


def test_a_new_day_rewrites_the_changed_customer_months_not_every_running_month(sequence):
    """The data date moved a day within its month: the stored customer-month
    mart and the churn scores rewrite the running-month rows of the
    customers whose row changed, not those of every customer (the as-of
    date and the mileage are the views'; the running month is scored at its
    end). Counted with the conditions the checks and the publish take as the
    rows written (expectations.suites.CHANGED_ROWS)."""
    from expectations.suites import CHANGED_ROWS

    database = sequence.steps["new_day"].incremental
    (previous_date, data_date), = _query(
        database, "select previous_data_as_of_date, data_as_of_date from intermediate.int_build_window")
    assert previous_date < data_date and previous_date.replace(day=1) == data_date.replace(day=1)
    for relation in ("marts.fct_customer_month_stored", "marts.churn_scores"):
        (written, running_month), = _query(
            database, f"select count(*) filter (where {CHANGED_ROWS[relation]}), count(*) from {relation} "
                      "where month_end = last_day(?::date)", [data_date])
        assert 0 < written < running_month, (relation, written, running_month)


def test_a_late_drop_recomputes_a_changed_vehicle_from_six_months_before_its_change(sequence):
    """A repair order changes its vehicle's months from the one it was opened
    in (the visit), and the six before it (whose next six months it falls in),
    not the vehicle's earlier months. For the vehicles whose only news in the
    late drop is repair orders, worked out here from the rows loaded: the
    first month recomputed is six months before the month of the earliest
    opening date of any version of those orders, or the vehicle's first
    visit if later (int_customer_months_spined holds the part recomputed).
    Some of them have earlier months, kept as they were."""
    database, day = sequence.steps["late_drop"].incremental, date.fromisoformat(sequence.late_day)
    versions = {}  # (store, RO number) -> every version loaded: (VIN, opened, drop date)
    for store, ro_number, vin, opened_at, drop_date in _query(
            database, "select store_code, ro_number, vin, opened_at, _drop_date from raw.dms_repair_orders"):
        versions.setdefault((store, ro_number), []).append((vin, opened_at.date(), drop_date))
    other_news = {vin for (vin,) in _query(database, """
        select vin from raw.dms_vehicles where _drop_date = $1 union
        select vin from raw.survey_responses where _drop_date = $1 union
        select v.vin from raw.dms_vehicles as v join raw.dms_customers as c using (store_code, customer_id)
        where c._drop_date = $1 union
        select r.vin from raw.dms_repair_orders as r join raw.dms_customers as c using (store_code, customer_id)
        where c._drop_date = $1""", [day])}
    opened = {}  # VIN -> the earliest opening of any version of an order the drop delivered
    for rows in versions.values():
        if any(drop_date == day for _, _, drop_date in rows):
            for vin, opened_on, _ in rows:
                opened[vin] = min(opened.get(vin, opened_on), opened_on)
    expected = {vin: _month_end(first.replace(day=1), -6) for vin, first in opened.items() if vin not in other_news}
    changed = dict(_query(database, "select vin, changed_from_month_end from intermediate.int_vins_changed"))
    assert len(expected) >= 3 and {vin: changed.get(vin) for vin in expected} == expected
    first_recomputed = dict(_query(database, """
        select vin, min(month_end) from intermediate.int_customer_months_spined
        where scope_level = 'store' group by vin"""))
    first_visit = dict(_query(database, """
        select vin, min(last_day(first_visit_date)) from intermediate.int_customer_months_classified
        where scope_level = 'store' group by vin"""))
    visited = {vin: month for vin, month in expected.items() if vin in first_visit}  # has customer-months
    assert {vin: first_recomputed.get(vin) for vin in visited} == {
        vin: max(month, first_visit[vin]) for vin, month in visited.items()}
    assert any(first_visit[vin] < month for vin, month in visited.items())


def test_a_vehicle_first_seen_at_a_second_store_counts_in_every_scope(sequence):
    """A vehicle seen at one store only has store rows only, standing for its
    region and group (stands_for_its_scopes). The new day brings one to a
    second store: the build recomputes every month of it, which then has rows
    of every scope and no flagged row, as in a full refresh (where a partial
    recompute kept its earlier months flagged, and the stored marts differed
    from a full refresh's). The group mart has every month of the vehicle
    once, from its first visit on (and every mart equals the full refresh's,
    compared above)."""
    vin = sequence.second_store_vin
    sql = """select scope_level, count(*), count(*) filter (where stands_for_its_scopes)
             from intermediate.int_customer_months_classified where vin = ? group by all"""
    before = {level: (rows, flagged) for level, rows, flagged in
              _query(sequence.steps["days_off"].incremental, sql, [vin])}
    assert set(before) == {"store"} and before["store"][1] == before["store"][0] > 0, before
    step = sequence.steps["new_day"]
    incremental = {level: (rows, flagged) for level, rows, flagged in _query(step.incremental, sql, [vin])}
    full = {level: (rows, flagged) for level, rows, flagged in _query(step.full, sql, [vin])}
    assert incremental == full and incremental["store"][1] == 0 and incremental["group"][0] > 0, (incremental, full)
    (changed_from, first_month), = _query(step.incremental, """
        select changed_from_month_end, (select min(month_end) from intermediate.int_customer_months_classified
                                        where vin = ?)
        from intermediate.int_vins_changed where vin = ?""", [vin, vin])
    assert changed_from <= first_month, (changed_from, first_month)
    group_months = """select count(*), count(distinct month_end),
                          datediff('month', min(month_end), max(month_end)) + 1
                      from marts.fct_group_customer_month where vin = ?"""
    (rows, months, span), = _query(step.incremental, group_months, [vin])
    assert rows == months == span == full["group"][0], (rows, months, span, full)


def _month_end(month_start: date, months: int) -> date:
    """The last day of the month `months` after (or before) `month_start`'s."""
    index = month_start.year * 12 + month_start.month - 1 + months + 1
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def test_the_redelivered_drop_moves_revenue_by_its_correction(sequence):
    """Only the corrected store-month's revenue moves, by the raised labour less
    the removed order's total."""
    correction = sequence.correction
    sql = "select store_code, strftime(month_end, '%Y-%m'), revenue from marts.kpi_store_month"
    before = {(s, m): r for s, m, r in _query(sequence.steps["late_drop"].incremental, sql)}
    after = {(s, m): r for s, m, r in _query(sequence.steps["redelivered"].incremental, sql)}
    assert before.keys() == after.keys()
    moved = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    assert moved == {(EDITED_STORE, correction.month): correction.revenue_change}


def test_the_redelivered_survey_reaches_the_customer_months(sequence):
    """The corrected destination changed the survey's vehicle's customer-month
    of the survey's month (its loss destination), a month before the window
    the data date alone would recompute: the vehicle's months were recomputed
    because its survey was re-delivered. The destinations mart moves one
    response from the old destination to the new."""
    database = sequence.steps["redelivered"].incremental
    survey_month = sequence.survey["surveyed_at"][:7]
    changed = _query(database, """select strftime(month_end, '%Y-%m') from intermediate.int_customer_months_changed
                                  where scope_level = 'store' and scope_code = ? and vin = ?""",
                     [EDITED_STORE, sequence.survey["vin"]])
    (window_from,), = _query(database, "select strftime(rebuild_from_month_end, '%Y-%m') "
                                       "from intermediate.int_build_window")
    assert survey_month < window_from and (survey_month,) in changed, (survey_month, window_from, changed)
    sql = """select destination, responses from marts.kpi_survey_destinations_month
             where scope_level = 'store' and scope_code = ? and strftime(month_end, '%Y-%m') = ?"""
    params = [EDITED_STORE, survey_month]
    before = Counter(dict(_query(sequence.steps["late_drop"].incremental, sql, params)))
    after = Counter(dict(_query(database, sql, params)))
    after.subtract(before)
    assert {d: n for d, n in after.items() if n} == {SURVEY_DESTINATION: 1, sequence.survey["serviced_at"]: -1}


def test_the_redelivered_owner_record_changes_every_month_of_the_vehicle(sequence):
    """An owner's district is on every customer-month of the vehicle (for the
    breakdowns): a newer record of the owner in a re-delivered daily file
    changes all of them, back to the vehicle's first month, though nothing
    else of the vehicle was delivered since."""
    database = sequence.steps["redelivered"].incremental
    sql = "select month_end from intermediate.{} where scope_level = 'store' and scope_code = ? and vin = ?"
    params = [EDITED_STORE, sequence.owner["vin"]]
    months = _query(database, sql.format("int_customer_months_classified"), params)
    assert len(months) > 2
    assert sorted(_query(database, sql.format("int_customer_months_changed"), params)) == sorted(months)


def test_aftersales_run_full_refresh_rebuilds_everything_to_the_same_marts(sequence):
    step = sequence.full_refresh
    assert step.summary.success and not step.summary.failed_checks, step.summary.errors
    assert step.summary.files_loaded == 0
    assert _query(step.incremental, "select is_full_rebuild from intermediate.int_builds_completed "
                                    "order by completed_at desc limit 1") == [(True,)]
    assert _mart_differences(sequence.steps["backfill"].incremental, step.incremental) == {}
    assert _mart_differences(step.published, step.incremental) == {}


def test_the_checks_of_an_incremental_build_read_the_rows_it_wrote(sequence, tmp_path):
    """After a build by changed rows, a check of the customer-month mart reads
    the rows the build wrote, and those only: a bad value written by the
    build fails it, the same bad value in a row the build did not write does
    not count, and the rows validated are the changed ones."""
    from expectations.runner import validate_all
    from expectations.suites import CHANGED_ROWS, WRITTEN_ROWS

    changed = CHANGED_ROWS["marts.fct_customer_month"]
    database = tmp_path / "warehouse.work.duckdb"
    shutil.copyfile(sequence.steps["new_day"].incremental, database)
    with duckdb.connect(str(database)) as con:
        (written,), = con.execute(f"select count(*) from marts.fct_customer_month where {changed}").fetchall()
        for kind in ("", "not "):  # one row the build wrote, one it did not
            (store, vin, month), = con.execute(
                f"select store_code, vin, month_end from marts.fct_customer_month where {kind}({changed}) "
                "order by all limit 1").fetchall()
            # The build writes its rows into the mart and the table it keeps them in.
            for table in ["marts.fct_customer_month_stored", *([WRITTEN_ROWS["marts.fct_customer_month_stored"]]
                                                              if not kind else [])]:
                con.execute(f"update {table} set visits = -1 where store_code = ? and vin = ? and month_end = ?",
                            [store, vin, month])

    outcome, = validate_all(database, ["marts.fct_customer_month"], changed_only=True)

    assert outcome.row_count == written > 0
    failed = {f.name: f for f in outcome.failed}
    assert list(failed) == ["non_negative:visits"], outcome.failed
    assert failed["non_negative:visits"].unexpected_count == 1


@pytest.mark.parametrize("case", CASES)
def test_the_tables_a_build_keeps_its_rows_in_hold_the_rows_it_changed(sequence, case):
    """WRITTEN_ROWS: after each build by change, the table a mart's model
    keeps its written rows in holds exactly the mart's rows that the
    changed-rows condition selects (EXCEPT ALL both ways), which the checks
    and the publish read there instead. A case may change no churn score,
    and no customer-month of a vehicle seen at several stores but the new
    day's, which brings one to a second store."""
    from expectations.suites import CHANGED_ROWS, WRITTEN_ROWS

    with duckdb.connect(str(sequence.steps[case].incremental), read_only=True) as con:
        for mart, written in WRITTEN_ROWS.items():
            plain = f"select * from {mart} where {CHANGED_ROWS[mart]}"
            (count,), = con.execute(f"select count(*) from {written}").fetchall()
            may_write_none = mart == "marts.churn_scores" or (
                mart == "marts.fct_group_customer_month_stored" and case != "new_day")
            assert count > 0 or may_write_none, mart
            for one, other in ((f"select * from {written}", plain), (plain, f"select * from {written}")):
                assert con.execute(f"select count(*) from ({one} except all {other})").fetchall() == [(0,)], mart


def test_the_dbt_tests_of_an_incremental_build_read_the_rows_it_kept(sequence, tmp_path):
    """After a build by change, a model's data tests read the rows the build
    kept (its written_rows table), not the model's rows: a value the test
    refuses in a kept row fails it, two others in rows the build did not
    write are not seen. (Reading the model's rows by the changed-rows
    condition would find none of the three, reading them all two.)"""
    from expectations.suites import WRITTEN_ROWS

    written = WRITTEN_ROWS["marts.fct_customer_month_stored"]
    database = tmp_path / "warehouse.work.duckdb"
    shutil.copyfile(sequence.steps["new_day"].incremental, database)
    keys = "store_code = ? and vin = ? and month_end = ?"
    with duckdb.connect(str(database)) as con:
        kept, = con.execute(f"select store_code, vin, month_end from {written} order by all limit 1").fetchall()
        others = con.execute(f"select store_code, vin, month_end from marts.fct_customer_month_stored "
                             f"anti join {written} using (store_code, vin, month_end) order by all limit 2").fetchall()
        con.execute(f"update {written} set churn_status = 'lost' where {keys}", kept)
        for key, status in zip(others, ("gone", "left")):
            con.execute(f"update marts.fct_customer_month_stored set churn_status = ? where {keys}", [status, *key])

    failures = data_test_failures(database, tmp_path, settings.pseudonym_key(sequence.landing),
                                  "fct_customer_month_stored")

    status_test = "accepted_values_fct_customer_month_stored_churn_status__active__at_risk__churned"
    assert failures.pop(status_test) == 1  # the values refused: 'lost' only
    assert failures and set(failures.values()) == {0}, failures


def test_the_checks_read_a_customer_month_views_changed_rows_through_its_tables(sequence):
    """A customer-month view has no row ids: the checks run its query over
    the rows the build kept of its tables, and get exactly the rows a filter
    of the view itself selects (EXCEPT ALL both ways)."""
    from expectations.changed_rows import qualified, rows_last_written
    from expectations.suites import CHANGED_ROWS, VALIDATED_THROUGH_VIEWS, WRITTEN_ROWS

    with duckdb.connect(str(sequence.steps["new_day"].incremental), read_only=True) as con:
        kinds = {f"{schema}.{name}": kind for schema, name, kind in con.execute(
            "select table_schema, table_name, table_type from information_schema.tables").fetchall()}
        queries = rows_last_written(con, kinds)
        for view, tables in VALIDATED_THROUGH_VIEWS.items():
            query = queries[view]
            assert all(qualified(WRITTEN_ROWS[table]) in query for table in tables), query
            assert qualified(view) not in query, query
            plain = f"select * from {view} where {CHANGED_ROWS[view]}"
            (count,), = con.execute(f"select count(*) from ({plain})").fetchall()
            assert count > 0
            for one, other in ((query, plain), (plain, query)):
                assert con.execute(f"select count(*) from ({one} except all {other})").fetchall() == [(0,)], view
