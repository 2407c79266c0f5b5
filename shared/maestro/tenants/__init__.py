"""Tenants: administration, admission (status, rate limit, role grants), quotas, usage metering, deletion.
Must never let one tenant's request read, count against or change another tenant's state."""
