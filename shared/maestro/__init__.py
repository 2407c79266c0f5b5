"""Maestro ML: the Python package every function shares (domain logic, stores, core wiring).
Also holds the local runtime and the CLI, which are never deployed into a function."""
