"""The OpenAPI document is generated from the routes; every route declares a permission or is public."""

import json

from maestro.core.rbac import Permission
from maestro.local.openapi import DOCUMENT_PATH, render

PUBLIC = {("get", "/health"), ("get", "/openapi.json")}


def test_committed_document_is_what_the_routes_generate() -> None:
    assert json.loads(DOCUMENT_PATH.read_text()) == json.loads(render()), "run `make openapi`"


def test_every_operation_names_a_catalogue_permission_or_is_public() -> None:
    document = json.loads(render())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            permission = operation.get("x-maestro-permission")
            if (method, path) in PUBLIC:
                assert permission is None and "security" not in operation
            else:
                assert permission in {p.value for p in Permission}, f"{method.upper()} {path}"
                assert operation["security"] == [{"jwt": []}]
