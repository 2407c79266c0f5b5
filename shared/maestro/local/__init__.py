"""The local runtime: the whole platform on one machine, on an embedded moto server, read from the
synthesized template. Never deployed into a function."""
