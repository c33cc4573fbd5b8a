"""Independent correctness test: KPIs of a hand-built landing, worked out by hand.

The landing is tests/fixtures/hand_landing (its README.md tells each vehicle's
story). The whole pipeline runs over it once; then four rows of
marts.kpi_store_month and a set of marts.fct_customer_month rows are compared
with figures computed BY HAND from SPEC sections 5-7. Nothing here runs or
mirrors the project's SQL: each expected value is written as the arithmetic,
with the repair orders (ROs) and vehicles it comes from.

Decisions taken where the SPEC leaves room (the implementation must match):

* revenue of an RO = its total_amount (结算金额, = labor + parts + other -
  discount); labor_amount / parts_amount / parts_cost are the RO columns.
  Only S1-0011 has other/discount amounts, so only there do the two differ.
* annual spend = revenue of the revenue ROs (payer customer or insurance)
  whose visit date lies in (L - 365 days, L], L the last visit on or before D:
  the 365 days ending at L, L counted as the first of them. A visit exactly
  365 days before L is outside (vehicle G).
* renewal: "within 30 days either side" is inclusive: |start - end_date| <= 30
  (policy PS1-2023-005, successor starts exactly 30 days after its end).
* money columns are 0.00, not NULL, when nothing happened (revenue,
  labor_amount, parts_amount, parts_cost, gross_profit, churned_annual_spend,
  value_at_risk); per_ticket_value (a ratio of money) is NULL when
  paid_visits = 0.
* per-store customers: a VIN's visits at one store never touch its status at
  another (vehicle A visits S2 in March 2024 and still churns at S1).
* thresholds are the defaults 6 / 12 months (both fixture brands are absent
  from any threshold seed); hidden_churn is 0 because no vehicle with two
  qualifying visits carries a mileage.

Legend (VINs; see the fixture README): S1 vehicles W, A, G, D, C, E, H, K, I;
S2 vehicles Q, P, R, A (the same VIN as at S1), T.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest
from conftest import HAND_LANDING as FIXTURE

VIN = {
    "A": "LHASA15F5NH100001",
    "C": "LHASA15F9NH100003",
    "D": "LHASA15F2MH100004",
    "E": "LHASA15F9PH100005",
    "G": "LHASA15F8MH100007",
    "H": "LHASA15F4PH100008",
    "I": "LHASA15F2RH100009",
    "K": "LHASA15F4PH100011",
    "W": "LHASA15F8LH100023",
    "X": "LHASA15F7NH199999",  # only on a policy; in no vehicles file
    "P": "LBBSB26G7NJ200016",
    "Q": "LBBSB26G0MJ200017",
    "R": "LBBSB26G7PJ200018",
    "T": "LBBSB26G1RJ200020",
}

D_ = Decimal  # money literals read as D_("300.00")
ZERO = D_("0.00")


def cents(x: Decimal) -> Decimal:
    return x.quantize(D_("0.01"))


# ---------------------------------------------------------------------------
# The pipeline, run once
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_run(hand_run):
    """The pipeline over the hand landing, run once for the session (conftest.py)."""
    wh, summary, hashes_before, hashes_after = hand_run
    # SPEC 4: raw files are never modified or deleted by the pipeline.
    assert hashes_after == hashes_before, "the pipeline modified the landing tree"
    assert wh.exists(), f"run_pipeline built no warehouse file: {summary!r}"
    c = duckdb.connect(str(wh), read_only=True)
    try:
        marts = {
            r[0]
            for r in c.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    finally:
        c.close()
    missing = {"kpi_store_month", "fct_customer_month"} - marts
    assert not missing, f"marts {sorted(missing)} were not built; run summary: {summary!r}"
    return wh, summary


@pytest.fixture(scope="module")
def con(pipeline_run):
    c = duckdb.connect(str(pipeline_run[0]), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def raw_con(pipeline_run):
    """The working copy, which holds the raw layer (the published file does not)."""
    from orchestration.publish import working_copy_path

    c = duckdb.connect(str(working_copy_path(pipeline_run[0])), read_only=True)
    yield c
    c.close()


def _one_row(con, sql: str, params: list) -> dict:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, f"expected exactly one row for {params}, got {len(rows)}"
    return dict(zip(cols, rows[0]))


def _mismatches(row: dict, expected: dict) -> list[str]:
    """Compare every expected column; return all mismatches, not just the first."""
    bad = []
    for col, exp in expected.items():
        if col not in row:
            bad.append(f"{col}: column missing")
            continue
        got = row[col]
        if exp is None:
            ok = got is None
        elif isinstance(exp, bool):
            ok = got is not None and bool(got) is exp and isinstance(got, bool)
        elif isinstance(exp, Decimal):  # money: DECIMAL, to the cent
            ok = isinstance(got, Decimal) and got == exp
        elif isinstance(exp, Fraction):  # rate: DOUBLE
            ok = got is not None and float(got) == pytest.approx(float(exp), abs=1e-9)
        elif isinstance(exp, int):  # count: BIGINT, never NULL
            ok = isinstance(got, int) and not isinstance(got, bool) and got == exp
        else:  # date, str
            ok = got == exp
        if not ok:
            shown = f"{float(exp)!r} (= {exp})" if isinstance(exp, Fraction) else repr(exp)
            bad.append(f"{col}: expected {shown}, got {got!r}")
    return bad


# ---------------------------------------------------------------------------
# The fixture loads clean
# ---------------------------------------------------------------------------


def test_pipeline_run_over_hand_landing_succeeds(pipeline_run):
    """A clean landing: the run succeeds, rejects no file and no row."""
    summary = pipeline_run[1]
    assert getattr(summary, "success", True) is True, repr(summary)
    assert not getattr(summary, "errors", []), repr(summary)
    assert not getattr(summary, "rejected", []), repr(summary)
    assert not getattr(summary, "failed_store_dates", []), repr(summary)
    assert getattr(summary, "rows_quarantined", 0) == 0, repr(summary)
    # every step ran, the publish among them
    assert summary.published and summary.skipped_steps == [] and summary.exit_code == 0, repr(summary)


def test_the_run_says_where_the_checks_and_the_publish_spent_their_time(pipeline_run):
    """Per table validated, and per part of the publish (the bench prints them).
    A first run publishes into a new file: there is nothing to start from."""
    from expectations.suites import SUITES

    summary = pipeline_run[1]
    assert set(summary.validation_seconds) == set(SUITES)
    assert all(seconds >= 0 for seconds in summary.validation_seconds.values())
    assert summary.published_from == "new file"
    assert set(summary.publish_seconds) == {"base", "write", "sync"}
    assert sum(summary.publish_seconds.values()) <= summary.step_seconds["warehouse__published"]


def test_hand_landing_loads_without_quarantine(raw_con):
    """Every row of the fixture is valid: nothing may be quarantined.

    (Policy end_dates lie after their drop dates by nature, a policy being sold
    for a year ahead: that is not 'a date in the future of the drop'.)
    """
    rows = raw_con.execute("select * from raw.quarantine").fetchall()
    assert rows == [], f"hand_landing rows were quarantined: {rows}"


def test_raw_keeps_every_delivered_version(raw_con):
    """Deltas: S1-0010 and S1-0011 (open, then closed in a later drop) and
    S2-0006 (re-delivered with the same updated_at) are each delivered twice;
    raw keeps both versions (the marts use the latest, checked below)."""
    n = raw_con.execute(
        "select count(*) from raw.dms_repair_orders where ro_number in ('S1-0010', 'S1-0011', 'S2-0006')"
    ).fetchone()[0]
    assert n == 6  # two delivered versions each


# ---------------------------------------------------------------------------
# marts.kpi_store_month: four rows worked out by hand
# ---------------------------------------------------------------------------

# ---- S1, 2024-02-29 --------------------------------------------------------
# Customers with a visit on or before D = 2024-02-29, with L = last visit <= D
# and annual spend = revenue in (L - 365 days, L]:
#   W  L 2023-02-20  L+12m 2024-02-20 <= D            churned   spend 500.00 (S1-0001)
#   A  L 2023-07-31  L+6m 2024-01-31 <= D < 2024-07-31 at_risk  spend 400.00 + 1000.00 (S1-0002, S1-0004)
#   G  L 2023-06-10  L+6m 2023-12-10 <= D < 2024-06-10 at_risk  spend 800.00 (S1-0003)
#   C  L 2023-08-31  L+6m = 2024-02-29 (clamped) <= D  at_risk  spend 3000.00 (S1-0006)
#   D  L 2024-01-31  (S1-0010 opened Jan 31 23:00)     active   spend 300.00 + 250.00 + 600.00 (S1-0005/0007/0010)
#   E  L 2024-02-01                                    active   spend 400.00 + 780.00 (S1-0008, S1-0011 closed version)
#   H  L 2024-01-20                                    active   spend 350.00 (S1-0009)
#   K  L 2024-02-20                                    active   spend 2000.00 (S1-0012)
# February's qualifying ROs: S1-0011 (E, visit 02-01, customer, total 780.00 =
# 300 + 450 + 50 - 20, parts_cost 270) and S1-0012 (K, visit 02-20, insurance,
# 800 / 1200 / 2000.00, parts_cost 750). S1-0010 closed on Feb 1 but was opened
# Jan 31: a January visit, not February.
S1_FEB_ON_FILE_SPEND = (
    D_("500.00")  # W
    + (D_("400.00") + D_("1000.00"))  # A
    + D_("800.00")  # G
    + D_("3000.00")  # C
    + (D_("300.00") + D_("250.00") + D_("600.00"))  # D
    + (D_("400.00") + D_("780.00"))  # E
    + D_("350.00")  # H
    + D_("2000.00")  # K
)  # = 10380.00
S1_FEB_REVENUE = D_("780.00") + D_("2000.00")  # S1-0011 + S1-0012 = 2780.00
S1_FEB_LABOR = D_("300.00") + D_("800.00")  # = 1100.00
S1_FEB_PARTS = D_("450.00") + D_("1200.00")  # = 1650.00
S1_FEB_PARTS_COST = D_("270.00") + D_("750.00")  # = 1020.00

S1_2024_02 = dict(
    as_of_date=date(2024, 2, 29),  # complete month: as_of = month_end
    on_file=8,  # W, A, G, C, D, E, H, K (I first visits in July)
    active=4,  # D, E, H, K
    at_risk=3,  # A, G, C (C by the Aug-31 -> Feb-29 clamp)
    churned=1,  # W
    base_customers=7,  # active 4 + at_risk 3
    new_customers=1,  # K: first visit ever 2024-02-20 (E's first was in January)
    won_back=0,  # nobody churned at 2024-01-31 (W was at_risk then: L+12m = 2024-02-20)
    hidden_churn=0,  # no mileage-due dates in this fixture
    churn_rate=Fraction(1, 8),  # churned 1 / on file 8
    churned_annual_spend=D_("500.00"),  # W
    on_file_annual_spend=S1_FEB_ON_FILE_SPEND,  # 10380.00
    value_weighted_churn_rate=Fraction(500, 10380),  # W 500.00 / 10380.00
    # cohort for Feb 2024 = visits in Aug 2023: D (08-10, S1-0005), C (08-31, S1-0006);
    # returned in Sep 2023 .. Feb 2024: D (S1-0007 Nov 15, S1-0010 Jan 31); C not.
    cohort_size=2,
    cohort_returned=1,
    cohort_churn_rate=Fraction(1, 2),  # 1 - 1/2
    cohort_retention_rate=Fraction(1, 2),
    visits=2,  # (E, 02-01), (K, 02-20)
    paid_visits=2,  # both are revenue ROs
    revenue=S1_FEB_REVENUE,  # 2780.00
    per_ticket_value=cents(S1_FEB_REVENUE / 2),  # 1390.00
    labor_amount=S1_FEB_LABOR,  # 1100.00
    parts_amount=S1_FEB_PARTS,  # 1650.00
    labor_parts_ratio=Fraction(1650, 1100),  # = 1.5
    labor_share=Fraction(1100, 1100 + 1650),  # = 0.4
    parts_cost=S1_FEB_PARTS_COST,  # 1020.00
    gross_profit=S1_FEB_REVENUE - S1_FEB_PARTS_COST,  # 2780.00 - 1020.00 = 1760.00
    gross_margin=Fraction(1760, 2780),
    # commercial policies of S1 vehicles ending in Feb 2024: PS1-2023-001 (A),
    # -003 (G), -004 (C), -005 (W); not -002 (compulsory), not -006 (VIN X is
    # not an S1 vehicle). Renewed: -001 (PS1-2024-001 starts +1 day, Y) and
    # -005 (PS1-2024-005 starts +30 days, Y). Not: -003 (successor sold
    # elsewhere, N), -004 (successor starts +40 days).
    policies_expiring=4,
    policies_renewed=2,
    renewal_rate=Fraction(2, 4),
    value_at_risk=D_("1400.00") + D_("800.00") + D_("3000.00"),  # A + G + C = 5200.00
)

# ---- S1, 2024-07-31 --------------------------------------------------------
# At D = 2024-07-31 (S1-0014 internal, S1-0017 cancelled and S1-0020 open never count):
#   W  L 2024-07-05                           active   spend 1200.00 (S1-0015; S1-0001 of 2023-02-20 is outside)
#   A  L 2023-07-31  L+12m = 2024-07-31 = D   churned  spend 1400.00 (S1-0002 + S1-0004)
#   G  L 2024-06-09                           active   spend 460.00 (S1-0013; S1-0003 of 2023-06-10 is
#                                                      exactly 365 days before L, outside (L-365, L])
#   C  L 2023-08-31  L+6m 2024-02-29 <= D < L+12m 2024-08-31   at_risk  spend 3000.00
#   D  L 2024-01-31  L+6m = 2024-07-31 = D    at_risk  spend 1150.00
#   E  L 2024-02-01  L+6m = 2024-08-01 > D    active   spend 1180.00
#   H  L 2024-07-20                           active   spend 350.00 + 400.00 + 1500.00 = 2250.00
#   K  L 2024-02-20  L+6m = 2024-08-20 > D    active   spend 2000.00
#   I  L 2024-07-08                           active   spend 0.00 (warranty only)
# July's qualifying ROs: S1-0015 (W, customer 500/700/1200.00, cost 420),
# S1-0016 (I, warranty: a visit only), S1-0018 + S1-0019 (H, the same day:
# one visit; customer 160/240/400.00 cost 140, insurance 600/900/1500.00 cost 540).
S1_JUL_ON_FILE_SPEND = (
    D_("1200.00")  # W
    + D_("1400.00")  # A
    + D_("460.00")  # G
    + D_("3000.00")  # C
    + D_("1150.00")  # D
    + D_("1180.00")  # E
    + (D_("350.00") + D_("400.00") + D_("1500.00"))  # H
    + D_("2000.00")  # K
    + ZERO  # I
)  # = 12640.00
S1_JUL_REVENUE = D_("1200.00") + D_("400.00") + D_("1500.00")  # S1-0015 + S1-0018 + S1-0019 = 3100.00
S1_JUL_LABOR = D_("500.00") + D_("160.00") + D_("600.00")  # = 1260.00
S1_JUL_PARTS = D_("700.00") + D_("240.00") + D_("900.00")  # = 1840.00
S1_JUL_PARTS_COST = D_("420.00") + D_("140.00") + D_("540.00")  # = 1100.00

S1_2024_07 = dict(
    as_of_date=date(2024, 7, 31),  # the last drop is 2024-07-31: July is complete
    on_file=9,  # W, A, G, C, D, E, H, K, I
    active=6,  # W, G, E, H, K, I
    at_risk=2,  # C, D (D exactly 6 months)
    churned=1,  # A (exactly 12 months)
    base_customers=8,  # 6 + 2
    new_customers=1,  # I: first visit ever 2024-07-08 (S1-0016, warranty)
    won_back=1,  # W: churned at 2024-06-30 (L 2023-02-20), visit 2024-07-05
    hidden_churn=0,
    churn_rate=Fraction(1, 9),
    churned_annual_spend=D_("1400.00"),  # A
    on_file_annual_spend=S1_JUL_ON_FILE_SPEND,  # 12640.00
    value_weighted_churn_rate=Fraction(1400, 12640),
    # cohort for Jul 2024 = visits in Jan 2024: E (01-10), H (01-20), D (01-31 23:00);
    # returned in Feb .. Jul 2024: E (02-01), H (07-20); D not.
    cohort_size=3,
    cohort_returned=2,
    cohort_churn_rate=Fraction(1, 3),  # 1 - 2/3
    cohort_retention_rate=Fraction(2, 3),
    visits=3,  # (W, 07-05), (I, 07-08), (H, 07-20) -- H's two ROs are one visit
    paid_visits=2,  # (W, 07-05), (H, 07-20); I's is warranty
    revenue=S1_JUL_REVENUE,  # 3100.00
    per_ticket_value=cents(S1_JUL_REVENUE / 2),  # 1550.00
    labor_amount=S1_JUL_LABOR,  # 1260.00
    parts_amount=S1_JUL_PARTS,  # 1840.00
    labor_parts_ratio=Fraction(1840, 1260),
    labor_share=Fraction(1260, 1260 + 1840),
    parts_cost=S1_JUL_PARTS_COST,  # 1100.00
    gross_profit=S1_JUL_REVENUE - S1_JUL_PARTS_COST,  # 3100.00 - 1100.00 = 2000.00
    gross_margin=Fraction(2000, 3100),
    policies_expiring=0,  # no S1 policy ends in July 2024
    policies_renewed=0,
    renewal_rate=None,  # denominator 0
    value_at_risk=D_("3000.00") + D_("1150.00"),  # C + D = 4150.00
)

# ---- S2, 2024-02-29 (a quiet month: no visit, no expiring policy) ------------
#   Q  L 2023-07-15  L+6m 2024-01-15 <= D < L+12m 2024-07-15   at_risk  spend 550.00 (S2-0001)
#   P  L 2023-09-05  L+6m 2024-03-05 > D                        active   spend 360.00 (S2-0002)
#   R  L 2024-01-20  (S2-0003, opened Jan 20, closed Jan 22)    active   spend 2800.00
S2_2024_02 = dict(
    as_of_date=date(2024, 2, 29),
    on_file=3,  # Q, P, R (A and T first visit S2 later)
    active=2,  # P, R
    at_risk=1,  # Q
    churned=0,
    base_customers=3,
    new_customers=0,
    won_back=0,
    hidden_churn=0,
    churn_rate=Fraction(0, 3),  # 0.0, not NULL: on file is 3
    churned_annual_spend=ZERO,
    on_file_annual_spend=D_("550.00") + D_("360.00") + D_("2800.00"),  # Q + P + R = 3710.00
    value_weighted_churn_rate=Fraction(0, 3710),  # 0.0
    cohort_size=0,  # no S2 visit in Aug 2023 (Q 2023-07-15, P 2023-09-05)
    cohort_returned=0,
    cohort_churn_rate=None,  # cohort 0 -> NULL
    cohort_retention_rate=None,
    visits=0,
    paid_visits=0,
    revenue=ZERO,
    per_ticket_value=None,  # paid_visits 0
    labor_amount=ZERO,
    parts_amount=ZERO,
    labor_parts_ratio=None,  # labor 0
    labor_share=None,  # labor + parts 0
    parts_cost=ZERO,
    gross_profit=ZERO,  # 0.00 - 0.00
    gross_margin=None,  # revenue 0
    policies_expiring=0,  # S2 policies end in July 2024
    policies_renewed=0,
    renewal_rate=None,
    value_at_risk=D_("550.00"),  # Q
)

# ---- S2, 2024-07-31 --------------------------------------------------------
# S2-0008 (P, 作废 cancelled), S2-0009 (R, 内部 internal) and S2-0010 (Q, 在修 open) never count.
#   Q  L 2023-07-15  L+12m = 2024-07-15 <= D   churned  spend 550.00
#   P  L 2024-03-05                            active   spend 360.00 + 720.00 = 1080.00 (S2-0002, S2-0004)
#   R  L 2024-01-20  L+6m = 2024-07-20 <= D    at_risk  spend 2800.00
#   A  L 2024-03-15  (its S1 history is another store's)  active  spend 450.00 (S2-0005)
#   T  L 2024-07-10                            active   spend 650.00 (S2-0006, the later drop's version)
# July's qualifying ROs: S2-0006 (T, 自费, 200/450/650.00, cost 200 -- the
# 2024-07-11 re-delivery with the same updated_at wins over 200/400/600.00) and
# S2-0007 (T, 厂家 warranty, same day): one visit, one paid visit.
S2_JUL_REVENUE = D_("650.00")  # S2-0006
S2_2024_07 = dict(
    as_of_date=date(2024, 7, 31),
    on_file=5,  # Q, P, R, A, T
    active=3,  # P, A, T
    at_risk=1,  # R
    churned=1,  # Q
    base_customers=4,
    new_customers=1,  # T
    won_back=0,  # Q was at_risk at 2024-06-30 and has no July visit
    hidden_churn=0,
    churn_rate=Fraction(1, 5),
    churned_annual_spend=D_("550.00"),  # Q
    on_file_annual_spend=D_("550.00") + D_("1080.00") + D_("2800.00") + D_("450.00") + D_("650.00"),  # = 5530.00
    value_weighted_churn_rate=Fraction(550, 5530),
    # cohort for Jul 2024 = visits in Jan 2024: R (01-20); R's only later RO is
    # internal (S2-0009), so it did not return.
    cohort_size=1,
    cohort_returned=0,
    cohort_churn_rate=Fraction(1, 1),  # 1 - 0/1
    cohort_retention_rate=Fraction(0, 1),
    visits=1,  # (T, 07-10): S2-0006 + S2-0007
    paid_visits=1,  # S2-0006
    revenue=S2_JUL_REVENUE,  # 650.00
    per_ticket_value=cents(S2_JUL_REVENUE / 1),  # 650.00
    labor_amount=D_("200.00"),  # S2-0006
    parts_amount=D_("450.00"),  # S2-0006 (corrected version)
    labor_parts_ratio=Fraction(450, 200),  # 2.25: may exceed 1
    labor_share=Fraction(200, 200 + 450),
    parts_cost=D_("200.00"),  # S2-0006
    gross_profit=S2_JUL_REVENUE - D_("200.00"),  # = 450.00
    gross_margin=Fraction(450, 650),
    # commercial policies of S2 vehicles ending in July 2024: PS2-2023-001 (P,
    # 07-09), -003 (Q, 07-19), -004 (R, 07-28); -002 is 交强险 (compulsory).
    # Renewed: -001 by PS2-2024-001 (starts 07-10, 是), -004 by PS2-2024-004
    # (starts 07-29, 是). Q has no successor.
    policies_expiring=3,
    policies_renewed=2,
    renewal_rate=Fraction(2, 3),
    value_at_risk=D_("2800.00"),  # R
)

KPI_ROWS = {
    ("S1", date(2024, 2, 29)): S1_2024_02,
    ("S1", date(2024, 7, 31)): S1_2024_07,
    ("S2", date(2024, 2, 29)): S2_2024_02,
    ("S2", date(2024, 7, 31)): S2_2024_07,
}


@pytest.mark.parametrize("store_code,month_end", list(KPI_ROWS), ids=lambda v: str(v))
def test_kpi_store_month_hand_worked(con, store_code, month_end):
    expected = KPI_ROWS[(store_code, month_end)]
    # the identities section 7 states, checked on the expectations themselves
    assert expected["active"] + expected["at_risk"] + expected["churned"] == expected["on_file"]
    assert expected["base_customers"] == expected["active"] + expected["at_risk"]
    row = _one_row(
        con,
        "select * from marts.kpi_store_month where store_code = ? and month_end = ?",
        [store_code, month_end],
    )
    bad = _mismatches(row, expected)
    assert not bad, f"kpi_store_month {store_code} {month_end}:\n  " + "\n  ".join(bad)


# ---------------------------------------------------------------------------
# marts.fct_customer_month: rows at the rule boundaries
# ---------------------------------------------------------------------------

FCT_ROWS = [
    # --- exactly 12 months (A at S1; L = 2023-07-31) ---
    ("S1", "A", date(2024, 6, 30), dict(churn_status="at_risk", last_visit_date=date(2023, 7, 31), visits=0)),
    (
        "S1",
        "A",
        date(2024, 7, 31),
        # L + 12 months = 2024-07-31 = D -> churned; S1-0020 (open) is no visit
        dict(
            churn_status="churned",
            last_visit_date=date(2023, 7, 31),
            visits=0,
            is_new=False,
            is_won_back=False,
            annual_spend=D_("400.00") + D_("1000.00"),  # S1-0002 + S1-0004
            as_of_date=date(2024, 7, 31),
        ),
    ),
    # A's S2 visit (2024-03-15) does not touch its S1 history
    ("S1", "A", date(2024, 3, 31), dict(churn_status="at_risk", last_visit_date=date(2023, 7, 31), visits=0, is_new=False)),
    # --- month-end clamp (C; L = 2023-08-31, L + 6 months = 2024-02-29) ---
    ("S1", "C", date(2024, 1, 31), dict(churn_status="active", last_visit_date=date(2023, 8, 31))),
    ("S1", "C", date(2024, 2, 29), dict(churn_status="at_risk", last_visit_date=date(2023, 8, 31), visits=0)),
    # S1-0017 (cancelled, 2024-07-12) is no visit
    ("S1", "C", date(2024, 7, 31), dict(churn_status="at_risk", last_visit_date=date(2023, 8, 31), visits=0)),
    # --- cross-midnight RO (D; S1-0010 opened 2024-01-31 23:00, closed 02-01) ---
    (
        "S1",
        "D",
        date(2024, 1, 31),
        dict(
            visits=1,
            paid_visits=1,
            revenue=D_("600.00"),  # S1-0010 closed version
            labor_amount=D_("250.00"),
            parts_amount=D_("350.00"),
            last_visit_date=date(2024, 1, 31),
            churn_status="active",
            is_new=False,
        ),
    ),
    ("S1", "D", date(2024, 2, 29), dict(visits=0, last_visit_date=date(2024, 1, 31), churn_status="active")),
    # --- exactly 6 months: L + 6 months = 2024-07-31 = D ---
    (
        "S1",
        "D",
        date(2024, 7, 31),
        dict(
            churn_status="at_risk",
            last_visit_date=date(2024, 1, 31),
            annual_spend=D_("300.00") + D_("250.00") + D_("600.00"),  # S1-0005 + S1-0007 + S1-0010
        ),
    ),
    # --- delta open -> closed (E; S1-0011, the closed version of drop 2024-02-03) ---
    (
        "S1",
        "E",
        date(2024, 2, 29),
        dict(
            visits=1,
            paid_visits=1,
            revenue=D_("780.00"),  # total_amount = 300 + 450 + 50 - 20
            labor_amount=D_("300.00"),
            parts_amount=D_("450.00"),
            parts_cost=D_("270.00"),
            last_visit_date=date(2024, 2, 1),
            is_new=False,  # first visit 2024-01-10
            churn_status="active",
        ),
    ),
    # --- one day less than 6 months: L + 6 months = 2024-08-01 > D ---
    ("S1", "E", date(2024, 7, 31), dict(churn_status="active", last_visit_date=date(2024, 2, 1), visits=0)),
    # --- 365-day window (G): 2023-06-10 is exactly 365 days before L = 2024-06-09 ---
    ("S1", "G", date(2024, 2, 29), dict(churn_status="at_risk", annual_spend=D_("800.00"))),  # S1-0003
    (
        "S1",
        "G",
        date(2024, 7, 31),
        # S1-0014 (internal, 2024-07-03) is no visit
        dict(churn_status="active", last_visit_date=date(2024, 6, 9), visits=0, annual_spend=D_("460.00")),
    ),
    # --- won back (W) ---
    ("S1", "W", date(2024, 2, 29), dict(churn_status="churned", last_visit_date=date(2023, 2, 20))),
    ("S1", "W", date(2024, 6, 30), dict(churn_status="churned", is_won_back=False, visits=0)),
    (
        "S1",
        "W",
        date(2024, 7, 31),
        dict(
            churn_status="active",
            is_won_back=True,
            is_new=False,
            visits=1,
            revenue=D_("1200.00"),  # S1-0015
            last_visit_date=date(2024, 7, 5),
            annual_spend=D_("1200.00"),  # S1-0001 (2023-02-20) is outside the 365 days
        ),
    ),
    # --- two ROs the same day (H, S1-0018 + S1-0019) ---
    (
        "S1",
        "H",
        date(2024, 7, 31),
        dict(
            visits=1,
            paid_visits=1,
            revenue=D_("400.00") + D_("1500.00"),
            labor_amount=D_("160.00") + D_("600.00"),
            parts_amount=D_("240.00") + D_("900.00"),
            parts_cost=D_("140.00") + D_("540.00"),
            annual_spend=D_("350.00") + D_("400.00") + D_("1500.00"),
            is_new=False,
        ),
    ),
    # --- warranty only, new (I, S1-0016) ---
    (
        "S1",
        "I",
        date(2024, 7, 31),
        dict(
            is_new=True,
            is_won_back=False,
            visits=1,
            paid_visits=0,
            revenue=ZERO,
            labor_amount=ZERO,
            parts_amount=ZERO,
            annual_spend=ZERO,
            churn_status="active",
            last_visit_date=date(2024, 7, 8),
        ),
    ),
    # --- new in February, insurance payer (K, S1-0012) ---
    ("S1", "K", date(2024, 2, 29), dict(is_new=True, visits=1, revenue=D_("2000.00"), last_visit_date=date(2024, 2, 20))),
    # --- S2 (GB18030, Chinese labels) ---
    (
        "S2",
        "A",
        date(2024, 3, 31),
        dict(is_new=True, visits=1, revenue=D_("450.00"), churn_status="active", last_visit_date=date(2024, 3, 15)),
    ),
    ("S2", "Q", date(2024, 6, 30), dict(churn_status="at_risk", last_visit_date=date(2023, 7, 15))),
    # L + 12 months = 2024-07-15 <= D; S2-0010 (在修, open) is no visit
    ("S2", "Q", date(2024, 7, 31), dict(churn_status="churned", last_visit_date=date(2023, 7, 15), visits=0)),
    # S2-0009 (内部, internal) is no visit
    ("S2", "R", date(2024, 7, 31), dict(churn_status="at_risk", last_visit_date=date(2024, 1, 20), visits=0)),
    # S2-0008 (作废, cancelled) is no visit
    (
        "S2",
        "P",
        date(2024, 7, 31),
        dict(churn_status="active", last_visit_date=date(2024, 3, 5), visits=0, annual_spend=D_("360.00") + D_("720.00")),
    ),
    (
        "S2",
        "T",
        date(2024, 7, 31),
        dict(
            is_new=True,
            visits=1,  # S2-0006 + S2-0007 the same day
            paid_visits=1,
            revenue=D_("650.00"),  # the 2024-07-11 re-delivery (same updated_at) wins
            labor_amount=D_("200.00"),
            parts_amount=D_("450.00"),
            parts_cost=D_("200.00"),
            annual_spend=D_("650.00"),
            churn_status="active",
        ),
    ),
]


@pytest.mark.parametrize(
    "store_code,vin_name,month_end,expected",
    FCT_ROWS,
    ids=[f"{s}-{v}-{m}" for s, v, m, _ in FCT_ROWS],
)
def test_fct_customer_month_boundaries(con, store_code, vin_name, month_end, expected):
    row = _one_row(
        con,
        "select * from marts.fct_customer_month where store_code = ? and vin = ? and month_end = ?",
        [store_code, VIN[vin_name], month_end],
    )
    bad = _mismatches(row, expected)
    assert not bad, f"fct_customer_month {store_code} {vin_name} {month_end}:\n  " + "\n  ".join(bad)


def test_fct_customer_month_spans_first_visit_to_last_month_of_data(con):
    def months(store, name):
        return con.execute(
            "select min(month_end), max(month_end), count(*) from marts.fct_customer_month"
            " where store_code = ? and vin = ?",
            [store, VIN[name]],
        ).fetchone()

    # A at S1: first visit 2023-05-10 -> May 2023 .. Jul 2024 = 15 month ends
    assert months("S1", "A") == (date(2023, 5, 31), date(2024, 7, 31), 15)
    # A at S2: first visit 2024-03-15 -> Mar .. Jul 2024 = 5
    assert months("S2", "A") == (date(2024, 3, 31), date(2024, 7, 31), 5)
    # W: first visit 2023-02-20 -> Feb 2023 .. Jul 2024 = 18
    assert months("S1", "W") == (date(2023, 2, 28), date(2024, 7, 31), 18)
    # I: first (and only) visit 2024-07-08 -> one row
    assert months("S1", "I") == (date(2024, 7, 31), date(2024, 7, 31), 1)
    # X has a policy but no repair order: never a customer
    assert months("S1", "X")[2] == 0
    # one row per store x vin x month_end
    dup = con.execute(
        "select count(*) from (select store_code, vin, month_end from marts.fct_customer_month"
        " group by all having count(*) > 1)"
    ).fetchone()[0]
    assert dup == 0
    # customers per store: 9 at S1 (W A G D C E H K I), 5 at S2 (Q P R A T)
    per_store = dict(
        con.execute(
            "select store_code, count(distinct vin) from marts.fct_customer_month group by 1 order by 1"
        ).fetchall()
    )
    assert per_store == {"S1": 9, "S2": 5}


# --------------------------------------------------------------------------- freshness


def test_source_freshness_follows_the_drop_folders(con, pipeline_run):
    """The hand landing's data date is 2024-07-31 (its last drop folder). Each
    store's last drop per source, read here from the folder names: S1's
    insurance stops at 2024-03-31 (122 days behind) and S2's at 2024-07-29 (2
    days behind): both late; dms and survey are on time."""
    sources = ("dms", "insurance", "survey")
    last = {
        (store.name, source): max(d.name for d in store.iterdir() if d.is_dir())
        for source in sources
        for store in (FIXTURE / source).iterdir()
    }
    data_date = max(last.values())
    assert data_date == "2024-07-31"
    rows = con.execute(
        "select store_code, source, last_drop_date, days_behind, is_late from marts.source_freshness"
    ).fetchall()
    got = {(s, src): (str(d), behind, late) for s, src, d, behind, late in rows}
    expected = {}
    for key, day in last.items():
        behind = (date.fromisoformat(data_date) - date.fromisoformat(day)).days
        expected[key] = (day, behind, behind >= 1)
    assert got == expected
    assert {k for k, v in got.items() if v[2]} == {("S1", "insurance"), ("S2", "insurance")}
    # the Dagster check warns and the run's summary names the late store sources
    summary = pipeline_run[1]
    assert "marts/source_freshness: drops_on_time" in summary.warned_checks
    assert summary.late_drops == [
        "S1 insurance: last drop 2024-03-31, 122 days behind the data date 2024-07-31",
        "S2 insurance: last drop 2024-07-29, 2 days behind the data date 2024-07-31",
    ]
