"""The content digest of a set of DynamoDB items, the same wherever it is taken (a table, a restored copy,
a tenant export): each item as canonical DynamoDB JSON, hashed with SHA-256, and the hashes added modulo
2**256, so the digest depends on which items there are and never on the order a Scan gives them, and it can
be carried between invocations as text. Must never let two item sets that differ in one attribute share a
digest (short of a SHA-256 collision)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

MODULUS = 2**256


def canonical(item: dict[str, Any]) -> str:
    """One item in DynamoDB's typed JSON with sorted keys and no spaces; binary values as base64."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"), default=_binary)


def parsed(text: str) -> dict[str, Any]:
    """An item from its canonical text, binary values (B, BS, and inside M and L) as bytes again."""
    item: dict[str, Any] = {k: _typed(v) for k, v in json.loads(text).items()}
    return item


def _typed(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _typed(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_typed(v) for v in inner]}
    return value


def _binary(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"{type(value).__name__} is not an attribute value")


@dataclass
class ItemDigest:
    items: int = 0
    total: int = 0

    def add(self, item: dict[str, Any]) -> str:
        """Counts the item in; its canonical text, for whoever writes it out."""
        text = canonical(item)
        self.add_text(text)
        return text

    def add_text(self, text: str) -> None:
        self.items += 1
        self.total = (self.total + int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")) % MODULUS

    @property
    def digest(self) -> str:
        return f"{self.total:064x}"

    def shown(self) -> dict[str, Any]:
        return {"items": self.items, "digest": self.digest}

    @classmethod
    def resumed(cls, shown: dict[str, Any] | None) -> ItemDigest:
        """A digest carried as {items, digest} (shown), to go on adding to."""
        if not shown:
            return cls()
        return cls(int(shown["items"]), int(str(shown["digest"]), 16))
