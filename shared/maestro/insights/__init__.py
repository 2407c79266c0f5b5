"""Insights: what the team's own history teaches (issue 19). So far the reuse graph's domain model."""
