"""Serving the published warehouse from the group's PostgreSQL server: after
the publish step has swapped a checked build in, its relations are sent to
the server (orchestration/postgres/publish.py), where a role per store,
region and group HQ sees what its scope covers. With no server configured
(AFTERSALES_POSTGRES_DSN, `aftersales run --postgres`) the step records no
materialization."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.assets.publish import PUBLISHED_KEY
from orchestration.resources import PostgresResource, WarehouseResource

POSTGRES_KEY = AssetKey(["warehouse", "postgres"])


@asset(
    key=POSTGRES_KEY,
    deps=[PUBLISHED_KEY],
    group_name="publish",
    kinds={"postgres"},
    output_required=False,
    description="The published relations on the group's PostgreSQL server, swapped in whole or updated in place "
    "(the changed months, or the rows an incremental build changed), with row-level security per store, region "
    "and group role; skipped when no server is configured.",
)
def postgres_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource, postgres: PostgresResource):
    from orchestration.postgres.publish import publish_to_postgres, server_address

    if not postgres.dsn:
        context.log.info("no PostgreSQL server configured (AFTERSALES_POSTGRES_DSN): nothing sent")
        return
    # A PostgresPublishError fails the step, named; the server keeps its last good marts.
    # The working copy the file was published from names the rows an incremental build changed.
    result = publish_to_postgres(Path(warehouse.published_path), postgres.dsn, working=Path(warehouse.path))
    yield MaterializeResult(
        metadata={
            "server": server_address(postgres.dsn),
            "relations": result.relations,
            "updated_in_place": result.in_place,
            "rows_copied": result.rows_copied,
            "rows_kept_server_side": result.rows_kept,
            "seconds": round(result.seconds, 2),
            "copy_seconds": round(result.copy_seconds, 2),
            "fingerprint_seconds": round(result.fingerprint_seconds, 2),
            "delete_seconds": round(result.delete_seconds, 2),
            "rows_per_second": round(result.rows_per_second),
            "relations_by_changed_rows": sum(way == "changed rows" for way in result.sent_as.values()),
            "sent_as": MetadataValue.json(result.sent_as),
        }
    )

