"""The generated landing the churn score tests run the pipeline on: two
stores, three years (long enough to score: a model needs 12 month ends with
complete outcomes, so scores start in a landing's 18th month), 300 vehicles
a store, seed 7."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sources.demo import DEFAULT_END_DATE, generate_landing

SCORE_LANDING = {"seed": 7, "stores": 2, "years": 3, "vehicles_per_store": 300}

# Scores of month ends up to LAST_COMPARED_MONTH must be the same without the
# drops after CUT_DATE (tests/test_churn_score.py). The cut is 15 days after
# that month end: a repair order opened before a month end counts as a visit
# on its opening day once it is closed, and the demo closes every order
# within 10 days. The history extract is dated before the cut.
LAST_COMPARED_MONTH = date(2026, 6, 30)
CUT_DATE = LAST_COMPARED_MONTH + timedelta(days=15)
SCORE_DAILY_DAYS = (DEFAULT_END_DATE - CUT_DATE).days + 2


def generate_score_landing(root: Path, *, daily_days: int = SCORE_DAILY_DAYS) -> None:
    """Write the landing to `root` with `daily_days` daily drops after the
    history extract."""
    generate_landing(root, daily_days=daily_days, **SCORE_LANDING)
