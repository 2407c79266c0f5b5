"""Which version of an alias in rollout serves a unit: sticky, by the A/B assignment's hash (ab.assignment,
reproducible by any client): unit u gets the new version when hash01("rollout:<rollout id>:<u>") * 100 <
percent. A step only raises percent, so a unit on the new version stays on it until the rollout ends.
Must never depend on anything but its inputs."""

from __future__ import annotations

from typing import Any

from maestro.ab.assignment import hash01


def version_for(split: dict[str, Any], unit: str) -> int:
    bucket = hash01(f"rollout:{split['rollout_id']}:{unit}") * 100
    return int(split["to_version"] if bucket < float(split["percent"]) else split["from_version"])
