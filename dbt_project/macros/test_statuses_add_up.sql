{#- Generic test: active + at_risk + churned = on_file and base = active +
    at_risk on every row (SPEC section 7). -#}
{% test statuses_add_up(model) %}
    select *
    from {{ model }}
    where active + at_risk + churned <> on_file
       or base_customers <> active + at_risk
{% endtest %}
