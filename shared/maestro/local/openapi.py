"""One OpenAPI document for the whole API, merged by Powertools' OpenAPI merge from every function's resolver.
Must never be edited by hand: `make openapi` regenerates it and a test fails when it is stale."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from maestro.core.api import MaestroResolver
from maestro.local.functions import FUNCTIONS_ROOT, load_handler_module
from maestro.local.synth import STACK_NAME, synthesize
from maestro.local.template import load_model
from maestro.platform.health import VERSION

DOCUMENT_PATH = FUNCTIONS_ROOT / "openapi" / "openapi.json"
DESCRIPTION = (
    "Serverless MLOps platform. Every route but /health and /openapi.json needs a bearer JWT; "
    "x-maestro-permission names the permission a route needs."
)


def build_document() -> dict[str, Any]:
    # Powertools' own discovery looks for a literal `app = APIGatewayHttpResolver(...)`; our handlers
    # build theirs with create_app, so we hand it the schemas and let it merge them.
    merger = OpenAPIMerge(
        title="Maestro ML API",
        version=VERSION,
        description=DESCRIPTION,
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        on_conflict="error",  # two functions claiming one method+path is a bug, not a warning
    )
    # The functions the synthesized template deploys, as everywhere in local mode (not a folder listing).
    model = load_model(synthesize(), STACK_NAME, "us-east-1")
    for name in sorted({fn.handler_dir for fn in model.functions.values()}):
        app = getattr(load_handler_module(name), "app", None)
        if isinstance(app, MaestroResolver):
            merger.add_schema(app.openapi_document())
    document: dict[str, Any] = json.loads(merger.get_openapi_json_schema())
    document["paths"] = dict(sorted(document.get("paths", {}).items()))
    return document


def render() -> str:
    return json.dumps(build_document(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT_PATH}")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOCUMENT_PATH.write_text(text)
        print(f"wrote {DOCUMENT_PATH.relative_to(FUNCTIONS_ROOT.parent)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
