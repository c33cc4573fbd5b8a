{#- Privacy helpers (SPEC section 9). Personal fields never leave raw; the
    models analysts read carry these forms instead. -#}

{#- A keyed pseudonym: sha256 of the key and the value. The key comes from
    AFTERSALES_PSEUDONYM_KEY; the default is for the demo only. -#}
{% macro pseudonym(expression) -%}
    {{ sha256_hex("'" ~ env_var('AFTERSALES_PSEUDONYM_KEY', 'demo-only-pseudonym-key') | replace("'", "''") ~ "|' || " ~ expression) }}
{%- endmacro %}

{#- 13812345678 -> 138****5678; anything shorter than 7 characters is fully masked. -#}
{% macro mask_phone(expression) -%}
    case
        when {{ expression }} is null then null
        when length({{ expression }}) >= 7
            then left({{ expression }}, 3) || repeat('*', length({{ expression }}) - 7) || right({{ expression }}, 4)
        else repeat('*', length({{ expression }}))
    end
{%- endmacro %}

{#- 张三 -> 张*, 欧阳娜娜 -> 欧***: the first character and a star per other character. -#}
{% macro mask_name(expression) -%}
    case
        when {{ expression }} is null then null
        else left({{ expression }}, 1) || repeat('*', greatest(length({{ expression }}) - 1, 1))
    end
{%- endmacro %}
