"""Cross-cutting wiring every capability uses: settings, auth, RBAC, tenancy, errors, events, observability.
Must never hold capability-specific domain logic."""
