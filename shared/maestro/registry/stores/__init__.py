"""DynamoDB access for the registry, one store per entity on core.dynamo_store.TenantTable: experiments,
runs with their metric history, logged models, registered models, and versions with their aliases (and
the artifacts' S3 store). The only AWS users of the capability. Must never build a key without the
tenant, and never write one registry change in more than one conditional or transactional request."""

from __future__ import annotations

import time
from typing import Any, Generic, TypeVar

from maestro.core.dynamo_store import TenantTable
from maestro.core.errors import NotFound

Id = TypeVar("Id")


def now_ms() -> int:
    return int(time.time() * 1000)


def model_missing(name: str) -> str:
    return f"Registered Model with name={name} not found"


class RegistryTable(TenantTable):
    """The registry's table for one tenant. Its keys predate per-capability prefixes: the tenant, then the
    entity (`acme#RUN#<id>`), so `capability` stays empty. The keys two entities share live here."""

    capability = ""

    @property
    def models_pk(self) -> str:
        """The partition of the tenant's registered models, one item per model keyed by its name."""
        return self.k("REGISTERED_MODELS")

    def version_key(self, uid: str, version: int) -> tuple[str, str]:
        """A version's key: under its model's uid, so a renamed model keeps its versions."""
        return self.k("MV", uid), f"V#{version:010d}"


class Entity(RegistryTable, Generic[Id]):
    """One kind of registry item, found by its id: get, require and change it."""

    def key_of(self, ident: Id) -> tuple[str, str]:
        raise NotImplementedError

    def missing(self, ident: Id) -> str:
        """The NotFound message when there is no such item (MLflow's own wording: its client matches it)."""
        raise NotImplementedError

    def get(self, ident: Id) -> dict[str, Any] | None:
        return self.item(*self.key_of(ident)) if ident else None

    def require(self, ident: Id) -> dict[str, Any]:
        found = self.get(ident)
        if found is None:
            raise NotFound(self.missing(ident))
        return found

    def change(
        self,
        ident: Id,
        expression: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        """Update the existing item (NotFound when there is none); the item as it is afterwards."""
        return self.update_existing(
            *self.key_of(ident),
            expression,
            names=names,
            values=values,
            condition=condition,
            missing=self.missing(ident),
        )
