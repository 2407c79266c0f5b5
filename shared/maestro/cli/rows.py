"""Reading the rows a command uploads: JSONL (one object per line, taken as is) or CSV (each row shaped by
the command). Must never guess a CSV column's meaning: the command's own function maps it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_rows(path: Path, from_csv: Callable[[dict[str, str]], dict[str, Any]]) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    with path.open(newline="") as f:
        return [from_csv(row) for row in csv.DictReader(f)]


def truthy(text: str | None) -> bool:
    """A CSV flag column: 1, true or yes (any case)."""
    return (text or "").lower() in ("1", "true", "yes")
