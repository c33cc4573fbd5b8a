{#- The latest delivered version of each key (SPEC section 3): the highest
    updated_at wins, ties go to the later drop, then the later load and the
    later line of the same file. Files without updated_at (reference files)
    keep the later line. -#}
{% macro latest_version(relation, key_columns, by_updated_at=true) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {% if by_updated_at %}updated_at desc, {% endif -%}
            _drop_date desc nulls last, _loaded_at desc, _line_number desc
    ) = 1
{%- endmacro %}
