"""A/B testing of models: deterministic assignment, event aggregation and the statistics engine.
Assignment must never import numpy or scipy (it runs on the hot path of every request)."""
