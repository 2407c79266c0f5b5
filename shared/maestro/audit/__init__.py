"""The tamper-evident audit trail: records, hash chains, signed digests, the locked archive, reports."""
