"""GET /openapi.json: the API's OpenAPI document, generated from the routes (`make openapi`).
Public; must never be hand-edited (a test compares it with a fresh generation)."""

from __future__ import annotations

import json
from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types

from maestro.core.api import create_app
from maestro.core.observability import lambda_entry
from maestro.tenants.admission import admit

app = create_app("platform", admission=admit)
DOCUMENT = (Path(__file__).parent / "openapi.json").read_text()


@app.get("/openapi.json", summary="The OpenAPI document of every route")
def openapi_document() -> Response[dict]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.loads(DOCUMENT))


@lambda_entry()
def handler(event, context):
    return app.resolve(event, context)
