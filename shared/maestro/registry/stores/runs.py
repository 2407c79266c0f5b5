"""The tenant's runs: one item per run (params, tags, the latest value of each metric, inputs and outputs)
and, in the same partition, every logged metric value (the history)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from maestro.registry.stores import Entity

HISTORY = "~M#"  # sorts after every other sort key in a run's partition, so `sk < "~"` skips history
STEP_OFFSET = 2**63  # metric steps are signed int64; offset them so they sort as zero-padded text


class RunStore(Entity[str]):
    def pk(self, run_id: str) -> str:
        return self.k("RUN", run_id)

    def key_of(self, ident: str) -> tuple[str, str]:
        return self.pk(ident), "RUN"

    def missing(self, ident: str) -> str:
        return f"Run with id={ident} not found"

    def put(self, run: dict[str, Any]) -> None:
        self.put_new(
            {
                "pk": self.pk(run["run_id"]),
                "sk": "RUN",
                "gsi1pk": self.k("EXP", run["experiment_id"], "RUNS"),
                "gsi1sk": f"{run['start_time']:015d}#{run['run_id']}",
                **run,
            },
            f"Run {run['run_id']} already exists",
        )

    def of_experiment(self, experiment_id: str) -> Iterator[dict[str, Any]]:
        """The experiment's runs, newest first."""
        return self.items(self.k("EXP", experiment_id, "RUNS"), index="gsi1", forward=False)

    def put_metric_history(self, run_id: str, metrics: list[dict[str, Any]]) -> None:
        """Keyed by (key, step, timestamp, value) as MLflow's own store keys metrics: logging the same entry
        twice (a retry, or MLflow 3 re-logging a run's metrics for its model) keeps one row."""
        pk = self.pk(run_id)
        unique = {
            f"{HISTORY}{m['key']}#{m['step'] + STEP_OFFSET:020d}#{m['timestamp']:015d}#{m['value']}": m
            for m in metrics
        }
        self.batch_put({"pk": pk, "sk": sk, **m} for sk, m in unique.items())

    def metric_history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        return list(self.items(self.pk(run_id), sk_prefix=f"{HISTORY}{key}#"))
