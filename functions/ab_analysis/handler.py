"""A/B analysis on demand: every metric and variant against control from the stored statistics (rank tests
and quantiles from per-unit values when asked), SRM, corrections, power and a decision."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from maestro.ab.analysis import analyze
from maestro.ab.api import service
from maestro.ab.experiments import ExperimentSpec
from maestro.core.api import PathKey, create_app, requires
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.tenants.admission import admit

app = create_app("ab", admission=admit)


@app.get(
    "/ab/experiments/<experiment_id>/analysis", summary="Analyze an experiment", **requires(P.AB_ANALYZE)
)
def analysis(
    experiment_id: PathKey, units: Annotated[bool, Query(description="load per-unit values")] = False
) -> dict:
    ab = service(app)
    item = ab.require_running_or_paused(experiment_id)
    spec = ExperimentSpec.model_validate(item["spec"])
    needs_units = units or any(m.kind == "quantile" for m in spec.metrics)
    report = analyze(
        experiment_id,
        spec,
        ab.store.statistics(experiment_id),
        ab.store.unit_values(experiment_id) if needs_units else None,
    )
    return report | {"status": item["status"]}


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
