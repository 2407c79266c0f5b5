"""Training scripts that ship with Maestro ML, and the data they train on (generated, never downloaded)."""
