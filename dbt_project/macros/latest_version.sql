{#- The latest delivered version of each key (SPEC section 3): the highest
    updated_at wins, ties go to the later drop, then the later load and the
    later line of the same file. Files without updated_at (reference files)
    keep the later line.

    A full build reads every version ever loaded, and most keys have one:
    their rows are kept as they are, and only the keys delivered more than
    once are sorted (the model of a 100-store history's 22M repair order
    lines took 23 s alone sorting every version, 15 s sorting only those
    keys' versions; docs/decisions.md, "Only the keys delivered twice are
    sorted"). `relation` is then read three times: the model's CTE of it is
    declared not materialized (cte_not_materialized), so each read scans the
    raw table instead of copying it whole. An incremental build's few
    touched keys are sorted as they are. -#}
{% macro latest_version(relation, key_columns, by_updated_at=true) -%}
    {%- set latest_first -%}
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by
                {% if by_updated_at %}updated_at desc, {% endif -%}
                _drop_date desc nulls last, _loaded_at desc, _line_number desc
        ) = 1
    {%- endset %}
    {%- if is_incremental() %}
    select *
    from {{ relation }}
    qualify {{ latest_first }}
    {%- else %}
    {%- set same_key -%}
        {%- for key in key_columns %}
        several_versions.{{ key }} is not distinct from versions.{{ key }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
    {%- endset %}
    select * from (
        with several_versions as {{ cte_materialized() }} (
            select {{ key_columns | join(', ') }}
            from {{ relation }}
            group by {{ key_columns | join(', ') }}
            having count(*) > 1
        )

        select versions.*
        from {{ relation }} as versions
        where not exists (select 1 from several_versions where {{ same_key }})

        union all

        select versions.*
        from {{ relation }} as versions
        where exists (select 1 from several_versions where {{ same_key }})
        qualify {{ latest_first }}
    )
    {%- endif %}
{%- endmacro %}
