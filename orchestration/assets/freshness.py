"""Freshness of the stores' drops as a Dagster asset check (SPEC sections 1
and 3): a store and source whose last loaded drop is behind the data date is
a warning that names them, in the Dagster UI and in the summary of
`aftersales run`. The figures are marts.source_freshness."""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from orchestration.resources import WarehouseResource

FRESHNESS_CHECK = "drops_on_time"


def _describe(store: str, source: str, last_drop, days_behind, data_date) -> str:
    if last_drop is None:
        return f"{store} {source}: no drop loaded yet (data date {data_date})"
    return f"{store} {source}: last drop {last_drop}, {days_behind} days behind the data date {data_date}"


@asset_check(
    asset=AssetKey(["marts", "source_freshness"]),
    name=FRESHNESS_CHECK,
    description="Every store's dms, insurance and survey drops are loaded up to the data date.",
)
def drops_on_time(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        late = con.execute(
            """select store_code, source, last_drop_date, days_behind, data_as_of_date
               from marts.source_freshness where is_late
               order by store_code, source"""
        ).fetchall()
        (pairs,) = con.execute("select count(*) from marts.source_freshness").fetchone()
    lines = [_describe(*row) for row in late]
    return AssetCheckResult(
        passed=not late,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "late": MetadataValue.text("\n".join(lines) or "none"),
            "late_count": len(late),
            "store_sources": pairs,
        },
    )
