"""The tenant's logged models (MLflow 3): one item per model, listed per experiment through gsi1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from maestro.registry.stores import Entity


class LoggedModelStore(Entity[str]):
    def key_of(self, ident: str) -> tuple[str, str]:
        return self.k("LOGGED_MODEL", ident), "MODEL"

    def missing(self, ident: str) -> str:
        return f"Logged model with ID '{ident}' not found."

    def put(self, model: dict[str, Any]) -> None:
        pk, sk = self.key_of(model["model_id"])
        self.put_new(
            {
                "pk": pk,
                "sk": sk,
                "gsi1pk": self.k("EXP", model["experiment_id"], "MODELS"),
                "gsi1sk": f"{model['creation_timestamp_ms']:015d}#{model['model_id']}",
                **model,
            },
            f"Logged model {model['model_id']} already exists",
        )

    def of_experiment(self, experiment_id: str) -> Iterator[dict[str, Any]]:
        """The experiment's logged models, newest first."""
        return self.items(self.k("EXP", experiment_id, "MODELS"), index="gsi1", forward=False)

    def delete(self, model_id: str) -> None:
        self.delete_item(*self.key_of(model_id))
