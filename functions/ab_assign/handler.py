"""A/B assignment: which variant a unit sees, one or many per request. No numpy or scipy, and no AWS call of
its own on the warm path (the experiment's config is cached for 30 s; admission counts the request from its
lease). Must never record an exposure itself."""

from __future__ import annotations

from maestro.ab.api import AssignRequest, BatchAssignRequest, service
from maestro.core.api import create_app, requires
from maestro.core.observability import lambda_entry
from maestro.core.rbac import Permission as P
from maestro.tenants.admission import admit

app = create_app("ab", admission=admit)


@app.post("/ab/assign", summary="Assign one unit", **requires(P.AB_ASSIGN))
def assign_one(body: AssignRequest) -> dict:
    return service(app).assign(body.experiment_id, [body.unit_id])[0]


@app.post("/ab/assign/batch", summary="Assign up to 10,000 units", **requires(P.AB_ASSIGN))
def assign_batch(body: BatchAssignRequest) -> dict:
    return {"assignments": service(app).assign(body.experiment_id, body.unit_ids)}


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
