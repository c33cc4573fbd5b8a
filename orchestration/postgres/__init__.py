"""The group's server warehouse: the published DuckDB relations served from
PostgreSQL, with a role per store, per region and for group HQ limited by
row-level security (SPEC sections 9 and 10).

- publish.py:      a whole publish (staging schemas swapped in) or an update in place
- relations.py:    the published relations, their tables on the server
- types.py:        DuckDB column types -> PostgreSQL column types
- bulk.py:         DuckDB -> CSV -> COPY FROM STDIN
- fingerprints.py: what the server holds, so that only changed months are sent
- access.py:       the roles, the scopes they cover, each relation's grants and policies
- roles.py:        `aftersales postgres-roles`, from reference/stores.csv
- cluster.py:      a throwaway local server, for the tests and the bench
"""
