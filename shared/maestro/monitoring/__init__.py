"""Model monitoring: data and prediction drift, and data quality, against a model version's baseline."""
