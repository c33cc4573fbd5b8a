{#- A rate: NULL when the denominator is zero or NULL (SPEC section 10). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#- A non-negative amount divided by a count, to the cent, rounded half up.
    Done in integer cents: DuckDB divides decimals in floating point, which
    can land a half cent on the wrong side. NULL when the count is zero. -#}
{% macro money_per(amount, count) -%}
    cast(
        cast(
            {{ integer_divide('cast(' ~ amount ~ ' * 100 as ' ~ wide_integer() ~ ') * 2 + ' ~ count, '2 * nullif(' ~ count ~ ', 0)') }}
            as decimal(18, 0)
        ) * cast(0.01 as decimal(3, 2))
        as decimal(18, 2)
    )
{%- endmacro %}
