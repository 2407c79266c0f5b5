"""Serving records that ride on A/B exposure events: each exposed unit's features and prediction go to the
model monitoring of the model version its variant serves (a version, or the one an alias points at now), in
one monitoring batch per variant. The batch id is the request's own (experiment, variant, event ids), so a
resent request is recorded once. Must never fail the A/B ingestion for monitoring's sake: what could not be
recorded is reported with its reason."""

from __future__ import annotations

import hashlib
from typing import Any

from maestro.ab.assignment import AssignmentConfig, assign
from maestro.ab.experiments import ExperimentSpec
from maestro.ab.ingest import Event
from maestro.core.auth import AuthContext
from maestro.core.errors import DomainError


def forward(
    auth: AuthContext,
    correlation_id: str | None,
    experiment_id: str,
    spec: ExperimentSpec,
    config: AssignmentConfig,
    events: list[Event],
) -> dict[str, Any]:
    """{recorded, skipped: [{variant, records, reason}]}; {} when no event carried serving records."""
    by_variant: dict[str, list[Event]] = {}
    unassigned = 0
    for event in events:
        if event.serving is None:
            continue
        variant = assign(config, event.unit_id).variant
        if variant is None:
            unassigned += 1
        else:
            by_variant.setdefault(variant, []).append(event)
    if not by_variant and not unassigned:
        return {}
    from maestro.monitoring.interface import record_serving  # deferred: only requests that carry records
    from maestro.registry.interface import ModelLookup

    out: dict[str, Any] = {"recorded": 0, "skipped": []}
    if unassigned:
        out["skipped"].append(
            {"variant": None, "records": unassigned, "reason": "the units are in no variant"}
        )
    models = {v.key: v.model for v in spec.variants}
    lookup = ModelLookup(auth.tenant)
    for variant, carried in sorted(by_variant.items()):
        model, reason = models.get(variant), None
        version = lookup.version_number(model.name, model.version, model.alias) if model else None
        if model is None:
            reason = "the variant serves no registered model"
        elif version is None:
            reason = f"{model.name}'s alias {model.alias!r} points at no version"
        else:
            ids = "\n".join(sorted(e.event_id for e in carried))
            batch_id = hashlib.sha256(f"{experiment_id}\n{variant}\n{ids}".encode()).hexdigest()[:32]
            try:
                recorded = record_serving(
                    auth,
                    model.name,
                    version,
                    [e.serving for e in carried if e.serving],
                    batch_id,
                    correlation_id,
                )
                out["recorded"] += recorded["accepted"]
                continue
            except DomainError as exc:  # no baseline yet, the daily quota: the A/B events still count
                reason = exc.message
        out["skipped"].append({"variant": variant, "records": len(carried), "reason": reason})
    return out
