"""SLA and SLO checks: definitions, observations as mergeable latency sketches, budgets, burn-rate alerts."""
