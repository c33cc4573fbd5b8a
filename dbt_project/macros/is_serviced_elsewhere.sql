{#- The survey says the car was serviced outside the store (维修去向): at
    another 4S store, an independent or chain shop, or elsewhere. 'none' (not
    serviced at all) and an empty answer are not. One list for the loss type
    of fct_customer_month and the confirmed lost of the survey marts. -#}
{% macro is_serviced_elsewhere(expression) -%}
    ({{ expression }} in ('other_same_brand_4s', 'other_brand_4s', 'independent_shop', 'chain_shop', 'other'))
{%- endmacro %}
