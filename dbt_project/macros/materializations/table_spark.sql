{#- The table materialization on Spark, written for Parquet tables: the new
    table is built under <name>__dbt_new and takes the name once built.
    dbt-spark's own drops the table first (it can replace only Delta and
    Iceberg tables in place), so a model that reads its previous rows
    (int_build_window, int_churn_models_fitted) would find none, and a
    failed build would leave no table at all. -#}
{% materialization table, adapter = 'spark', supported_languages=['sql', 'python'] %}
  {%- set language = model['language'] -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
  {%- set target_relation = api.Relation.create(
      identifier=model['alias'], schema=schema, database=database, type='table') -%}
  {%- set new_relation = target_relation.incorporate(path={'identifier': model['alias'] ~ '__dbt_new'}) -%}

  {{ run_hooks(pre_hooks) }}

  {% do adapter.drop_relation(new_relation) %}
  {%- call statement('main', language=language) -%}
    {{ create_table_as(False, new_relation, compiled_code, language) }}
  {%- endcall -%}
  {% if old_relation is not none %}
    {% do adapter.drop_relation(old_relation) %}
  {% endif %}
  {% do adapter.rename_relation(new_relation, target_relation) %}

  {% do apply_grants(target_relation, grant_config, should_revoke(old_relation, full_refresh_mode=True)) %}
  {% do persist_docs(target_relation, model) %}
  {% do persist_constraints(target_relation, model) %}

  {{ run_hooks(post_hooks) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
