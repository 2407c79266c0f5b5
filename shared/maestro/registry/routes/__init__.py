"""The registry's HTTP routes (Powertools routers) and their API models. Must never hold domain rules:
parse, call tracking/model_registry, shape."""
