"""The generated landing the churn score tests run the pipeline on: two
stores, three years (long enough to score: a model needs 12 month ends with
complete outcomes, so scores start in a landing's 18th month), 300 vehicles
a store, seed 7."""

from __future__ import annotations

from pathlib import Path

from sources.demo import generate_landing

SCORE_LANDING = {"seed": 7, "stores": 2, "years": 3, "vehicles_per_store": 300}


def generate_score_landing(root: Path, *, daily_days: int = 30) -> None:
    """Write the landing to `root` with `daily_days` daily drops after the
    history extract."""
    generate_landing(root, daily_days=daily_days, **SCORE_LANDING)
