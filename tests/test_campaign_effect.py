"""marts.kpi_campaign_effect against the SPEC's campaign-effect rule (section
7) computed again in plain Python from the landing CSVs.

A small generated landing gets crm drops (tests/campaign_landing.py) for
four campaigns chosen from its own customers: one with a contact file, a
second one that contacts some of the first one's customers within its window,
one without a contact file (compared with the same strata a year earlier) and
one still running. The real pipeline builds
the warehouse once for the module; each campaign's contacted, returned,
strata, expected returns and uplift are then worked out here, without the
project's SQL, and compared with the mart.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import duckdb
import pytest
from campaign_landing import (
    TARGET_STATUSES,
    WIN_BACK_DAYS,
    Campaign,
    build_campaign_landing,
    month_end_before,
    strata_at,
    visit_days,
)
from independent import Landing, month_end, read_landing_csv

Z = 1.96  # dbt var campaign_interval_z


def _expected(model: Landing, campaigns: list[Campaign], campaign: Campaign) -> dict:
    """The rule of SPEC 7 / docs/metrics.md 3.26, from the landing."""
    store, data_date = campaign.store, model.data_date
    window_end = campaign.end + dt.timedelta(days=WIN_BACK_DAYS)
    through = min(window_end, data_date)
    strata = strata_at(model, store, month_end_before(campaign.start))
    if campaign.contacts:
        # Concurrent comparison: on file at the same month end, over the same window.
        treated = {vin: day for vin, day, _ in campaign.contacts}
        shift = 0
    else:
        # Everyone of the target statuses is treated: the same strata a year earlier.
        treated = {vin: campaign.start for vin, (status, _) in strata.items() if status in TARGET_STATUSES}
        shift = 12

    def back(d: dt.date) -> dt.date:
        year, month = divmod(d.year * 12 + d.month - 1 - shift, 12)
        day = min(d.day, month_end(dt.date(year, month + 1, 1)).day)
        return dt.date(year, month + 1, day)

    # Out of the comparison: the campaign's own contacts, and whoever a campaign
    # of the store contacted within the comparison window.
    excluded = {vin for vin, _, _ in campaign.contacts} | {
        vin for c in campaigns if c.store == store for vin, day, _ in c.contacts
        if back(campaign.start) <= day <= back(window_end)}

    comparison_strata = strata_at(model, store, month_end(back(month_end_before(campaign.start))))
    first, last = back(campaign.start), back(through)
    by_stratum = defaultdict(lambda: [0, 0, 0, 0])  # contacted, returned, comparison, comparison returned
    returned = returned_after = 0
    for vin, contact_day in treated.items():
        days = visit_days(model, store, vin, campaign.start, through)
        returned += bool(days)
        returned_after += any(d >= contact_day for d in days)
        if vin in strata:
            by_stratum[strata[vin]][0] += 1
            by_stratum[strata[vin]][1] += bool(days)
    for vin, stratum in comparison_strata.items():
        if vin not in excluded and stratum in by_stratum:
            by_stratum[stratum][2] += 1
            by_stratum[stratum][3] += bool(visit_days(model, store, vin, first, last))
    matched = [(n, r, m, c) for n, r, m, c in by_stratum.values() if m > 0]
    n_total = sum(n for n, _, _, _ in matched)
    expected = sum(n * c / m for n, _, m, c in matched) if matched else None
    variance = sum(n * (r / n) * (1 - r / n) + n * n * (c / m) * (1 - c / m) / m for n, r, m, c in matched)
    uplift = (sum(r for _, r, _, _ in matched) - expected) / n_total if matched else None
    return {
        "contacted": len(treated),
        "returned": returned,
        "returned_after_contact": returned_after,
        "matched_contacted": n_total,
        "unmatched_contacted": len(treated) - n_total,
        "matched_returned": sum(r for _, r, _, _ in matched),
        "comparison_customers": sum(m for _, _, m, _ in matched),
        "expected_returns": expected,
        "uplift": uplift,
        "uplift_ci_low": None if uplift is None else uplift - Z * math.sqrt(variance) / n_total,
        "is_running": window_end > data_date,
        "measured_through": through,
    }


@pytest.fixture(scope="module")
def campaign_build(tmp_path_factory):
    """(landing model, campaigns, the mart's rows by campaign id) after one real run."""
    from orchestration.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("campaign_effect")
    landing = root / "landing"
    model, campaigns = build_campaign_landing(landing)
    summary = run_pipeline(landing=landing, warehouse=root / "wh.duckdb", dashboards_dir=root / "dash",
                           data_docs_dir=root / "docs")
    assert summary.exit_code == 0 and summary.rows_quarantined == 0, summary
    with duckdb.connect(str(root / "wh.duckdb"), read_only=True) as con:
        cursor = con.execute("select * from marts.kpi_campaign_effect")
        names = [d[0] for d in cursor.description]
        rows = {r[names.index("campaign_id")]: dict(zip(names, r)) for r in cursor.fetchall()}
    return model, campaigns, rows, landing


def test_the_crm_files_written_here_are_what_the_mart_measures(campaign_build):
    model, campaigns, rows, landing = campaign_build
    assert set(rows) == {c.campaign_id for c in campaigns}
    contacts = [r for p in landing.glob("crm/*/*/campaign_contacts.csv")
                for r in read_landing_csv(p, "crm_campaign_contacts")]
    assert len(contacts) == sum(len(c.contacts) for c in campaigns)
    # The landing gives every design something to measure.
    by_id = {c.campaign_id: c for c in campaigns}
    assert not by_id["PRICE-3"].contacts and rows["PRICE-3"]["comparison_design"] == "year_before"
    assert rows["RUN-4"]["is_running"] and not rows["CALL-1"]["is_running"]
    call = {vin for vin, _, _ in by_id["CALL-1"].contacts}
    assert call & {vin for vin, _, _ in by_id["SMS-2"].contacts}, "no customer of two campaigns"


@pytest.mark.parametrize("campaign_id", ["CALL-1", "SMS-2", "PRICE-3", "RUN-4"])
def test_each_campaign_equals_the_independent_computation(campaign_build, campaign_id):
    model, campaigns, rows, _ = campaign_build
    campaign = next(c for c in campaigns if c.campaign_id == campaign_id)
    expected = _expected(model, campaigns, campaign)
    row = rows[campaign_id]
    for column, value in expected.items():
        if isinstance(value, float):
            assert row[column] == pytest.approx(value, abs=1e-9), column
        else:
            assert row[column] == value, column
    # Each figure is a real measurement, not an empty one.
    assert expected["contacted"] > 0 and expected["matched_contacted"] > 0, expected
