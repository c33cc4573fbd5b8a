-- A churn rule must turn a customer at risk before churned (A < C): with A >= C
-- nobody would ever be at risk. Rows returned are rules to fix in the seed.
select brand, model, at_risk_after_months, churned_after_months
from {{ ref('churn_rules') }}
where at_risk_after_months >= churned_after_months
