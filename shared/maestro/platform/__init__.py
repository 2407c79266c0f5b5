"""Platform-wide capability: liveness/readiness and the caller's identity.
Must never hold another capability's logic."""
