"""marts.kpi_campaign_effect against the SPEC's campaign-effect rule (section
7) computed again in plain Python from the landing CSVs.

A small generated landing gets crm drops (tests/campaign_landing.py) for
four campaigns chosen from its own customers: one with a contact file, a
second one that contacts some of the first one's customers within its window,
one without a contact file (compared with the same strata a year earlier) and
one still running. The real pipeline builds the warehouse once for the
session (the campaigns pages' tests read the same run); each campaign's
contacted, returned, strata, expected returns and uplift are then worked out
here, without the project's SQL, and compared with the mart.
"""

from __future__ import annotations


import duckdb
import pytest
from campaign_landing import independent_effect
from independent import read_landing_csv


@pytest.fixture(scope="module")
def campaign_build(campaign_run):
    """(landing model, campaigns, the mart's rows by campaign id, landing)
    after the shared campaign run (tests/conftest.py)."""
    with duckdb.connect(str(campaign_run.warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.kpi_campaign_effect")
        names = [d[0] for d in cursor.description]
        rows = {r[names.index("campaign_id")]: dict(zip(names, r)) for r in cursor.fetchall()}
    return campaign_run.model, campaign_run.campaigns, rows, campaign_run.landing


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
    expected = independent_effect(model, campaigns, campaign)
    row = rows[campaign_id]
    for column, value in expected.items():
        if isinstance(value, float):
            assert row[column] == pytest.approx(value, abs=1e-9), column
        else:
            assert row[column] == value, column
    # Each figure is a real measurement, not an empty one.
    assert expected["contacted"] > 0 and expected["matched_contacted"] > 0, expected
