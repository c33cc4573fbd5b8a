"""The churn risk score (SPEC section 8a): features to matrix, fitting, scoring."""
