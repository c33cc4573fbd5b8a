{#- Functions DuckDB and Spark spell differently. Each macro renders
    DuckDB's form (default__) or Spark's (spark__); the models call the
    macro, so one model runs on both engines. Spark runs with
    spark.sql.parser.escapedStringLiterals=true, so a backslash in a string
    literal means what it means to DuckDB. -#}

{#- The SHA-256 of a text, as 64 lowercase hex digits. -#}
{% macro sha256_hex(text) -%}
    {{ return(adapter.dispatch('sha256_hex')(text)) }}
{%- endmacro %}
{% macro default__sha256_hex(text) -%} sha256({{ text }}) {%- endmacro %}
{% macro spark__sha256_hex(text) -%} sha2({{ text }}, 256) {%- endmacro %}

{% macro text_starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('text_starts_with')(text, prefix)) }}
{%- endmacro %}
{% macro default__text_starts_with(text, prefix) -%} starts_with({{ text }}, {{ prefix }}) {%- endmacro %}
{% macro spark__text_starts_with(text, prefix) -%} startswith({{ text }}, {{ prefix }}) {%- endmacro %}

{#- Does the regular expression match somewhere in the text? -#}
{% macro text_matches(text, pattern) -%}
    {{ return(adapter.dispatch('text_matches')(text, pattern)) }}
{%- endmacro %}
{% macro default__text_matches(text, pattern) -%} regexp_matches({{ text }}, {{ pattern }}) {%- endmacro %}
{% macro spark__text_matches(text, pattern) -%} regexp_like({{ text }}, {{ pattern }}) {%- endmacro %}

{#- The text cut at each separator into a list. On Spark the separator is
    a regular expression: ours (';', '; ') mean themselves. -#}
{% macro split_text(text, separator) -%}
    {{ return(adapter.dispatch('split_text')(text, separator)) }}
{%- endmacro %}
{% macro default__split_text(text, separator) -%} string_split({{ text }}, {{ separator }}) {%- endmacro %}
{% macro spark__split_text(text, separator) -%} split({{ text }}, {{ separator }}) {%- endmacro %}

{#- A list's texts joined by a separator. -#}
{% macro join_list(list, separator) -%}
    {{ return(adapter.dispatch('join_list')(list, separator)) }}
{%- endmacro %}
{% macro default__join_list(list, separator) -%} array_to_string({{ list }}, {{ separator }}) {%- endmacro %}
{% macro spark__join_list(list, separator) -%} array_join({{ list }}, {{ separator }}) {%- endmacro %}

{#- One row per element of a list, in a select list. -#}
{% macro unnest_list(list) -%}
    {{ return(adapter.dispatch('unnest_list')(list)) }}
{%- endmacro %}
{% macro default__unnest_list(list) -%} unnest({{ list }}) {%- endmacro %}
{% macro spark__unnest_list(list) -%} explode({{ list }}) {%- endmacro %}

{#- A 64-bit hash of a row's columns, to tell a changed row from an unchanged
    one (the replace_changed strategy). Spark's hash() is 32-bit: xxhash64. -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash')(columns)) }}
{%- endmacro %}
{% macro default__row_hash(columns) -%} hash({{ columns }}) {%- endmacro %}
{% macro spark__row_hash(columns) -%} xxhash64({{ columns }}) {%- endmacro %}

{#- Days from `earlier` to `later` (dates), as an integer. -#}
{% macro days_between(later, earlier) -%}
    {{ return(adapter.dispatch('days_between')(later, earlier)) }}
{%- endmacro %}
{% macro default__days_between(later, earlier) -%} ({{ later }} - {{ earlier }}) {%- endmacro %}
{% macro spark__days_between(later, earlier) -%} cast(datediff({{ later }}, {{ earlier }}) as bigint) {%- endmacro %}

{#- The list of first days of the months from `first` to `last` (dates). -#}
{% macro month_starts(first, last) -%}
    {{ return(adapter.dispatch('month_starts')(first, last)) }}
{%- endmacro %}
{% macro default__month_starts(first, last) -%}
    generate_series(date_trunc('month', {{ first }}), date_trunc('month', {{ last }}), interval 1 month)
{%- endmacro %}
{% macro spark__month_starts(first, last) -%}
    sequence(trunc({{ first }}, 'MM'), trunc({{ last }}, 'MM'), interval 1 month)
{%- endmacro %}

{#- One row per element of a list, joined to each row of the FROM clause
    before it (the last item of a FROM clause). -#}
{% macro cross_join_unnest(list, alias, column) -%}
    {{ return(adapter.dispatch('cross_join_unnest')(list, alias, column)) }}
{%- endmacro %}
{% macro default__cross_join_unnest(list, alias, column) -%}
    cross join unnest({{ list }}) as {{ alias }}({{ column }})
{%- endmacro %}
{% macro spark__cross_join_unnest(list, alias, column) -%}
    lateral view explode({{ list }}) {{ alias }} as {{ column }}
{%- endmacro %}

{#- Does the list hold any of the values (a list of SQL literals)? -#}
{% macro list_has_any_of(list, values) -%}
    {{ return(adapter.dispatch('list_has_any_of')(list, values)) }}
{%- endmacro %}
{% macro default__list_has_any_of(list, values) -%}
    list_has_any({{ list }}, {{ list_of(values) }})
{%- endmacro %}
{% macro spark__list_has_any_of(list, values) -%}
    arrays_overlap({{ list }}, {{ list_of(values) }})
{%- endmacro %}

{#- Texts joined by a separator in the order of an expression. -#}
{% macro ordered_string_agg(text, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg')(text, separator, order_by)) }}
{%- endmacro %}
{% macro default__ordered_string_agg(text, separator, order_by) -%}
    string_agg({{ text }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__ordered_string_agg(text, separator, order_by) -%}
    string_agg({{ text }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- An as-of join clause: each row so far takes the row of `relation` with
    equal `keys` (pairs: its column, the row's expression) and the latest
    `time` on or before `as_of` (inner, or `left` to keep rows without one).
    DuckDB has ASOF joins. On Spark each row of `relation` is valid until the
    next one's time, and the join is an equi-join on the keys with the
    as-of date inside that span: exactly one match, as the ASOF join. The
    relation's rows must have distinct times per key. -#}
{% macro asof_join(relation, alias, keys, time, as_of, kind='inner') -%}
    {{ return(adapter.dispatch('asof_join')(relation, alias, keys, time, as_of, kind)) }}
{%- endmacro %}
{% macro default__asof_join(relation, alias, keys, time, as_of, kind) -%}
    asof {{ 'left ' if kind == 'left' }}join {{ relation }} as {{ alias }}
        on {% for column, expression in keys %}{{ alias }}.{{ column }} = {{ expression }} and {% endfor -%}
        {{ alias }}.{{ time }} <= {{ as_of }}
{%- endmacro %}
{% macro spark__asof_join(relation, alias, keys, time, as_of, kind) -%}
    {{ 'left ' if kind == 'left' }}join (
        select *, lead({{ time }}) over (
            partition by {% for column, _ in keys %}{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
            order by {{ time }}
        ) as _valid_until
        from {{ relation }}
    ) as {{ alias }}
        on {% for column, expression in keys %}{{ alias }}.{{ column }} = {{ expression }} and {% endfor -%}
        {{ alias }}.{{ time }} <= {{ as_of }}
        and ({{ alias }}._valid_until > {{ as_of }} or {{ alias }}._valid_until is null)
{%- endmacro %}

{#- Integer division, rounding toward zero (DuckDB's //, Spark's div). -#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide')(numerator, denominator)) }}
{%- endmacro %}
{% macro default__integer_divide(numerator, denominator) -%} ({{ numerator }}) // ({{ denominator }}) {%- endmacro %}
{% macro spark__integer_divide(numerator, denominator) -%} ({{ numerator }}) div ({{ denominator }}) {%- endmacro %}

{#- The widest integer type: DuckDB's 128-bit hugeint; Spark's is 64-bit
    (amounts in cents stay far below 2^62). -#}
{% macro wide_integer() -%}
    {{ return(adapter.dispatch('wide_integer')()) }}
{%- endmacro %}
{% macro default__wide_integer() -%} hugeint {%- endmacro %}
{% macro spark__wide_integer() -%} bigint {%- endmacro %}

{#- A list of values (SQL literals). -#}
{% macro list_of(values) -%}
    {{ return(adapter.dispatch('list_of')(values)) }}
{%- endmacro %}
{% macro default__list_of(values) -%} [{{ values | join(', ') }}] {%- endmacro %}
{% macro spark__list_of(values) -%} array({{ values | join(', ') }}) {%- endmacro %}

{#- A date plus a number of months (an expression), as a date; a day past
    the new month's end becomes its last day on both engines. -#}
{% macro add_months(date, months) -%}
    {{ return(adapter.dispatch('add_months')(date, months)) }}
{%- endmacro %}
{% macro default__add_months(date, months) -%} cast({{ date }} + to_months({{ months }}) as date) {%- endmacro %}
{% macro spark__add_months(date, months) -%} add_months({{ date }}, {{ months }}) {%- endmacro %}

{#- The number of elements of a list. -#}
{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length')(list)) }}
{%- endmacro %}
{% macro default__list_length(list) -%} len({{ list }}) {%- endmacro %}
{% macro spark__list_length(list) -%} size({{ list }}) {%- endmacro %}

{#- The list of integers from `first` to `last`, both included (last >= first). -#}
{% macro integers_from_to(first, last) -%}
    {{ return(adapter.dispatch('integers_from_to')(first, last)) }}
{%- endmacro %}
{% macro default__integers_from_to(first, last) -%} range({{ first }}, ({{ last }}) + 1) {%- endmacro %}
{% macro spark__integers_from_to(first, last) -%} sequence({{ first }}, {{ last }}) {%- endmacro %}

{#- The hint that a CTE read several times is inlined, not materialized
    once (DuckDB's; Spark inlines CTEs anyway). -#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized')()) }}
{%- endmacro %}
{% macro default__cte_not_materialized() -%} not materialized {%- endmacro %}
{% macro spark__cte_not_materialized() -%} {%- endmacro %}

{#- The opposite: a CTE read several times, evaluated once. -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized')()) }}
{%- endmacro %}
{% macro default__cte_materialized() -%} materialized {%- endmacro %}
{% macro spark__cte_materialized() -%} {%- endmacro %}

{#- Every column of the FROM clause but the named ones (select * but ...). -#}
{% macro all_columns_except(columns) -%}
    {{ return(adapter.dispatch('all_columns_except')(columns)) }}
{%- endmacro %}
{% macro default__all_columns_except(columns) -%} * exclude ({{ columns | join(', ') }}) {%- endmacro %}
{% macro spark__all_columns_except(columns) -%} * except ({{ columns | join(', ') }}) {%- endmacro %}

{#- Union matching columns by name (DuckDB). Spark has no union by name:
    there the sides are matched by position, so every use lists the same
    columns in the same order on both sides. -#}
{% macro union_all_by_name() -%}
    {{ return(adapter.dispatch('union_all_by_name')()) }}
{%- endmacro %}
{% macro default__union_all_by_name() -%} union all by name {%- endmacro %}
{% macro spark__union_all_by_name() -%} union all {%- endmacro %}

{#- The value of the row that comes last in the order of `keys` (a list of
    expressions, the first deciding, the next breaking its ties): max_by on
    a row of the keys, so a tie in the first key cannot pick either row. -#}
{% macro value_of_last(value, keys) -%}
    {{ return(adapter.dispatch('value_of_last')(value, keys)) }}
{%- endmacro %}
{% macro default__value_of_last(value, keys) -%} max_by({{ value }}, row({{ keys | join(', ') }})) {%- endmacro %}
{% macro spark__value_of_last(value, keys) -%} max_by({{ value }}, struct({{ keys | join(', ') }})) {%- endmacro %}

{#- A table's rows stored in the order of a column, on an engine that keeps
    the order a table was written in (DuckDB). The customer-month marts are
    written month by month: a daily run rewrites their latest month, which
    then lies in DuckDB's last row groups and, once published, on a run of
    PostgreSQL's pages, instead of on most of them (docs/decisions.md,
    "Customer-month marts stored in month order"). Spark writes files of its
    own partitioning: nothing to keep, no sort. -#}
{% macro stored_in_order_of(column) -%}
    {{ return(adapter.dispatch('stored_in_order_of')(column)) }}
{%- endmacro %}
{% macro default__stored_in_order_of(column) -%} order by {{ column }} {%- endmacro %}
{% macro spark__stored_in_order_of(column) -%} {%- endmacro %}
