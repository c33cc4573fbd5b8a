"""The group's server warehouse: the published DuckDB relations served from
PostgreSQL, with a role per store, per region and for group HQ limited by
row-level security (SPEC sections 9 and 10).

- types.py:   DuckDB column types -> PostgreSQL column types
- access.py:  the roles, the scope each covers, and the grants and policies of a relation
- publish.py: copy the published relations into fresh schemas and swap them in
"""
