"""Who sees what on the server (SPEC section 9): one NOLOGIN role per store
(`store_<code>`), per region (`region_<code>`) and for the group (`group_hq`),
codes lower-cased; people log in as themselves and are granted one of them
(`GRANT store_s001 TO alice`).

The scopes a role covers are rows of `aftersales_access.scope_roles`
(scope_level, scope_code, role_name): a store is covered by its store role,
its region's role and group_hq; a region by its role and group_hq. The
row-level security policies ask that table which store and region codes the
current user is a member of a role for; they are created with the relations
on every publish, so they cannot be lost by a publish.

What each relation shows (`relation_access`):
- a relation with scope_level/scope_code columns (the roll-ups): the rows of
  the scopes the user covers; a store role sees its store's rows only, never a
  region's or the group's (those count other stores' customers);
- a relation with a store_code column: the rows of the stores the user covers;
- the call list: its store's role and group_hq only (regions do not get it);
- marts.data_date (the last data date, which the customer-month views read):
  every role;
- any other relation of marts (fct_group_customer_month: customers across
  stores): group_hq only;
- ops and seeds (validation results, rules): every role.

A view (the customer-month marts) is granted like a table with its columns,
without a policy of its own: it reads its tables as the querying user
(security_invoker), so their policies filter it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import sql

ACCESS_SCHEMA = "aftersales_access"
GROUP_ROLE = "group_hq"
# Every scope role is a member of ANALYST_ROLE (schema usage, the shared
# relations); store roles and group_hq of CALL_LIST_ROLE.
ANALYST_ROLE = "aftersales_analyst"
CALL_LIST_ROLE = "aftersales_call_list"
CALL_LISTS = {("marts", "call_list")}
# Schemas whose relations without a store or scope column every role reads,
# and such relations of other schemas.
SHARED_SCHEMAS = {"ops", "seeds"}
SHARED_RELATIONS = {("marts", "data_date")}
STORE_COLUMN = "store_code"
SCOPE_COLUMNS = ("scope_level", "scope_code")
# Role names are identifiers: at most 63 bytes.
_MAX_ROLE_BYTES = 63


@dataclass(frozen=True)
class Store:
    code: str
    region: str


def store_role(code: str) -> str:
    return _role_name("store_", code)


def region_role(region: str) -> str:
    return _role_name("region_", region)


def _role_name(prefix: str, code: str) -> str:
    name = prefix + code.strip().lower()
    if not code.strip() or len(name.encode()) > _MAX_ROLE_BYTES:
        raise ValueError(f"cannot name a role {name!r} after code {code!r}: empty, or longer than 63 bytes")
    return name


def scope_roles(stores: Iterable[Store]) -> list[tuple[str, str, str]]:
    """(scope_level, scope_code, role_name): who covers each store and region."""
    rows: set[tuple[str, str, str]] = set()
    for store in stores:
        for role in (store_role(store.code), region_role(store.region), GROUP_ROLE):
            rows.add(("store", store.code, role))
        for role in (region_role(store.region), GROUP_ROLE):
            rows.add(("region", store.region, role))
    return sorted(rows)


def sync_roles(conn, stores: Iterable[Store]) -> list[str]:
    """Create the missing roles for `stores` and set the scopes each covers,
    in the caller's transaction; return the roles created. Roles of stores no
    longer listed stay (people may be granted them) but cover nothing."""
    stores = list(stores)
    if not stores:
        raise ValueError("no stores to create roles for")
    rows = scope_roles(stores)
    wanted = sorted({role for _, _, role in rows} | {ANALYST_ROLE, CALL_LIST_ROLE})
    existing = {name for (name,) in conn.execute("select rolname from pg_roles where rolname = any(%s)", [wanted])}
    created = [role for role in wanted if role not in existing]
    for role in created:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    for role in sorted({role for _, _, role in rows}):
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(ANALYST_ROLE), sql.Identifier(role)))
    for role in sorted({store_role(s.code) for s in stores} | {GROUP_ROLE}):
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(CALL_LIST_ROLE), sql.Identifier(role)))
    _create_access_schema(conn)
    conn.execute(f"delete from {ACCESS_SCHEMA}.scope_roles")
    with conn.cursor() as cur:
        cur.executemany(f"insert into {ACCESS_SCHEMA}.scope_roles values (%s, %s, %s)", rows)
    return created


def _create_access_schema(conn) -> None:
    """The scope table and the function the policies call. The function runs
    as the querying user, who may read the table (it maps stores to regions
    and roles, nothing more)."""
    conn.execute(f"create schema if not exists {ACCESS_SCHEMA}")
    conn.execute(
        f"""create table if not exists {ACCESS_SCHEMA}.scope_roles (
                scope_level text not null, scope_code text not null, role_name text not null,
                primary key (scope_level, scope_code, role_name))"""
    )
    conn.execute(
        f"""create or replace function {ACCESS_SCHEMA}.visible_codes(level text) returns text[]
            language sql stable as $$
                select coalesce(array_agg(scope_code), '{{}}') from {ACCESS_SCHEMA}.scope_roles
                where scope_level = level and pg_has_role(current_user, role_name, 'member')
            $$"""
    )
    conn.execute(sql.SQL("grant usage on schema {} to {}").format(
        sql.Identifier(ACCESS_SCHEMA), sql.Identifier(ANALYST_ROLE)))
    conn.execute(sql.SQL("grant select on {}.scope_roles to {}").format(
        sql.Identifier(ACCESS_SCHEMA), sql.Identifier(ANALYST_ROLE)))


# The codes are computed once per query: a scalar subquery is an InitPlan,
# where a bare function call in the policy would run once per row.
_VISIBLE = "(select " + ACCESS_SCHEMA + ".visible_codes('{level}'))::text[]"
_STORE_POLICY = f"{STORE_COLUMN} = any({_VISIBLE.format(level='store')})"
_SCOPE_POLICY = (
    f"(scope_level = 'store' and scope_code = any({_VISIBLE.format(level='store')}))"
    f" or (scope_level = 'region' and scope_code = any({_VISIBLE.format(level='region')}))"
    f" or (scope_level = 'group' and (select pg_has_role(current_user, '{GROUP_ROLE}', 'member')))"
)


@dataclass(frozen=True)
class RelationAccess:
    readers: str  # the role granted SELECT
    policy: str | None  # the row filter, None when every granted role reads every row


def relation_access(schema: str, table: str, columns: Iterable[str]) -> RelationAccess:
    """Who may read the relation and which of its rows (see the module's docstring)."""
    columns = set(columns)
    policies = []
    if set(SCOPE_COLUMNS) <= columns:
        policies.append(f"({_SCOPE_POLICY})")
    if STORE_COLUMN in columns:
        policies.append(f"({_STORE_POLICY})")
    policy = " and ".join(policies) or None
    if (schema, table) in CALL_LISTS:
        return RelationAccess(CALL_LIST_ROLE, policy)
    if policy is None and schema not in SHARED_SCHEMAS and (schema, table) not in SHARED_RELATIONS:
        return RelationAccess(GROUP_ROLE, None)
    return RelationAccess(ANALYST_ROLE, policy)


def apply_access(conn, schema: str, table: str, columns: Iterable[str], *, loaded_in: str,
                 view: bool = False) -> None:
    """Grant and restrict the relation schema.table (a view: grant only),
    loaded in the schema `loaded_in` (it takes `schema`'s name at the swap),
    in the caller's transaction. Schema usage is granted by the caller."""
    access = relation_access(schema, table, columns)
    name = sql.Identifier(loaded_in, table)
    conn.execute(sql.SQL("grant select on {} to {}").format(name, sql.Identifier(access.readers)))
    if access.policy is not None and not view:
        conn.execute(sql.SQL("alter table {} enable row level security").format(name))
        conn.execute(sql.SQL("create policy scope_rows on {} for select using (" + access.policy + ")").format(name))

