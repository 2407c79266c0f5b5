"""The `maestro` command line: local platform, tokens, and (per capability) client commands.
Never deployed into a function."""
