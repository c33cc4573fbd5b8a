"""The `aftersales` command.

    aftersales run   [--landing PATH] [--warehouse PATH] [--full-refresh] [--engine duckdb|spark]
                                                                             the whole daily job
    aftersales demo  --out PATH [--seed N --end-date D --stores N ...]        write a demo landing
    aftersales bench [--stores N --years N --vehicles-per-store N] [--throwaway-postgres | --postgres DSN]
                                                                             time `run` at a scale
    aftersales call-list --store CODE --out FILE [--warehouse PATH]         a store's call list, real phones
    aftersales docs  [--warehouse PATH] [--out DIR]                          the dbt docs site in one file
    aftersales postgres-roles [--dsn DSN] [--landing PATH]                   the server's store/region/HQ roles
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration import settings


def _warehouse_arg(args: argparse.Namespace) -> Path:
    """--warehouse, else the published warehouse of the settings."""
    return Path(args.warehouse) if args.warehouse else settings.warehouse_path()


def _cmd_run(args: argparse.Namespace) -> int:
    from orchestration.pipeline import run_pipeline
    from orchestration.progress import LiveProgress
    from orchestration.run_output import print_summary, quiet_run_output

    # Made before the output goes to the log file, so it still reaches the
    # terminal; off with -v, where Dagster and dbt show their own output.
    progress = LiveProgress(sys.stdout, enabled=not args.verbose)
    landing = Path(args.landing) if args.landing else settings.landing_path()
    if not args.landing and not landing.exists():
        from sources.demo import generate_landing

        print(f"No landing given and none at {landing}: generating the demo landing there first.")
        with progress:
            progress.phase("generating the demo landing")
            generate_landing(landing, progress=lambda done, stores: progress.update(
                f"generating the demo landing: {done}/{stores} stores written"))
            progress.done("  written the demo landing")
    warehouse = _warehouse_arg(args)
    try:
        settings.pseudonym_key(landing)
    except settings.SettingsError as e:
        print(f"aftersales run: {e}", file=sys.stderr)
        return 2
    with quiet_run_output(warehouse, verbose=args.verbose) as log_file, progress:
        summary = run_pipeline(
            landing=landing,
            warehouse=warehouse,
            dashboards_dir=Path(args.dashboards) if args.dashboards else None,
            data_docs_dir=Path(args.data_docs) if args.data_docs else None,
            full_refresh=args.full_refresh,
            postgres_dsn=args.postgres,
            engine=args.engine,
            progress=progress,
        )
    print_summary(summary, log_file)
    return summary.exit_code


def _cmd_demo(args: argparse.Namespace) -> int:
    from sources.demo import run_from_args

    return run_from_args(args)


def _cmd_bench(args: argparse.Namespace) -> int:
    from orchestration.bench import run_bench

    return run_bench(args)


def _cmd_call_list(args: argparse.Namespace) -> int:
    from orchestration.call_list import CallListError, export_call_list

    warehouse = _warehouse_arg(args)
    try:
        result = export_call_list(warehouse, args.store, Path(args.out))
    except CallListError as e:
        print(f"aftersales call-list: {e}", file=sys.stderr)
        return 2
    as_of = f" as of {result.as_of_date}" if result.as_of_date else ""
    if result.rows:
        print(
            f"aftersales call-list: {result.rows} customers to call at {result.store_code}{as_of} written to "
            f"{result.path}. It holds real phone numbers: keep it private and delete it after use."
        )
    else:
        print(
            f"aftersales call-list: no customers to call at {result.store_code}{as_of}; "
            f"wrote the header only to {result.path}."
        )
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from orchestration.dbt_docs import DEFAULT_OUT_DIR, DbtDocsError, build_dbt_docs

    warehouse = _warehouse_arg(args)
    try:
        index = build_dbt_docs(warehouse, Path(args.out) if args.out else DEFAULT_OUT_DIR)
    except DbtDocsError as e:
        print(f"aftersales docs: {e}", file=sys.stderr)
        return 2
    print(f"aftersales docs: the dbt docs site is {index}")
    return 0


def _cmd_postgres_roles(args: argparse.Namespace) -> int:
    from orchestration.postgres.roles import RolesError, create_roles

    dsn = args.dsn or settings.postgres_dsn()
    if not dsn:
        print(f"aftersales postgres-roles: give --dsn or set {settings.POSTGRES_DSN_ENV}", file=sys.stderr)
        return 2
    landing = Path(args.landing) if args.landing else settings.landing_path()
    try:
        stores, created = create_roles(dsn, landing)
    except RolesError as e:
        print(f"aftersales postgres-roles: {e}", file=sys.stderr)
        return 2
    print(f"aftersales postgres-roles: {len(stores)} stores in {len(set(s.region for s in stores))} regions; "
          f"created {', '.join(created) if created else 'no new role'}. Grant one to a person: "
          "GRANT store_<code> TO <login>;")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aftersales", description="The aftersales retention warehouse.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="Load every drop under the landing, build and check the marts, render dashboards.")
    run.add_argument("--landing", help=f"landing root (SPEC section 3); default {settings.landing_path()}")
    run.add_argument("--warehouse", help=f"DuckDB warehouse file; default {settings.warehouse_path()}")
    run.add_argument("--dashboards", help=f"dashboard output folder; default {settings.dashboards_path()}")
    run.add_argument("--data-docs", help=f"Great Expectations Data Docs folder; default {settings.data_docs_path()}")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild every model from the whole raw layer, not only what the new drops change")
    run.add_argument("--postgres", metavar="DSN",
                     help=f"also publish to this PostgreSQL server (default ${settings.POSTGRES_DSN_ENV}, if set)")
    run.add_argument("--engine", choices=settings.ENGINES,
                     help=f"what the dbt models build on (docs/spark.md); default ${settings.ENGINE_ENV}, else duckdb")
    run.add_argument("-v", "--verbose", action="store_true", help="show Dagster and dbt output as it runs")
    run.set_defaults(func=_cmd_run)

    from sources.demo import add_arguments as add_demo_arguments

    demo = sub.add_parser("demo", help="Write a deterministic demo landing tree.")
    add_demo_arguments(demo)
    demo.set_defaults(func=_cmd_demo)

    from orchestration.bench import add_arguments as add_bench_arguments

    bench = sub.add_parser("bench", help="Generate a landing at a scale and measure `aftersales run` on it "
                                         "against a hand-written SQL reference.")
    add_bench_arguments(bench, settings.VAR_DIR / "bench")
    bench.set_defaults(func=_cmd_bench)

    call_list = sub.add_parser(
        "call-list", help="Export one store's call list with real names and phone numbers (CSV for Excel)."
    )
    call_list.add_argument("--store", required=True, help="store code, e.g. S001")
    call_list.add_argument("--out", required=True, help="CSV file to write (UTF-8 with BOM, Chinese headers)")
    call_list.add_argument(
        "--warehouse",
        help=f"the published DuckDB warehouse file; default {settings.warehouse_path()}. The names and phones "
        "come from its working copy beside it (owner-only: run as the account that runs the job)",
    )
    call_list.set_defaults(func=_cmd_call_list)

    from orchestration.dbt_docs import DEFAULT_OUT_DIR

    docs = sub.add_parser("docs", help="Build the dbt docs site as one HTML file (dbt docs generate --static).")
    docs.add_argument("--warehouse", help=f"DuckDB warehouse file; default {settings.warehouse_path()}")
    docs.add_argument("--out", help=f"folder for index.html; default {DEFAULT_OUT_DIR}")
    docs.set_defaults(func=_cmd_docs)

    roles = sub.add_parser("postgres-roles", help="Create or update the PostgreSQL roles group_hq, region_<code> "
                                                  "and store_<code> from the landing's reference/stores.csv.")
    roles.add_argument("--dsn", help=f"the server (libpq string or URI); default ${settings.POSTGRES_DSN_ENV}")
    roles.add_argument("--landing", help=f"landing root holding reference/stores.csv; default {settings.landing_path()}")
    roles.set_defaults(func=_cmd_postgres_roles)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
