"""The registry's HTTP routes and their API models, one module per entity. Each module's `register(app)`
defines its routes on the app itself: a shared module-level Router would be rebound by every app that
includes it, and the local runtime hosts several apps (environments) in one process. Must never hold domain
rules: parse, call the entity, shape."""
