"""One synthesis of the real app for every worker and run: the local runtime's cached one
(maestro.local.synth: the same app and context, keyed by a hash of what shapes the template, built once
under a lock), which the integration tests' local platforms read too. jsii's start-up is the slow part."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO

sys.path.insert(0, str(REPO))
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def synth(outdir: Path, context: dict[str, Any] | None = None) -> dict[str, Any]:
    from infra_cdk.app import STACK_NAME, build_app

    build_app({**NO_BUNDLING, **(context or {})}, outdir=str(outdir)).synth()
    return json.loads((outdir / f"{STACK_NAME}.template.json").read_text())


@pytest.fixture(scope="session")
def synthesized() -> tuple[Path, dict[str, Any]]:
    from maestro.local.nested import flattened
    from maestro.local.synth import synthesize

    # The stack as CloudFormation deploys it: its nested stacks (operations, insights) merged in.
    template = synthesize()
    return template.parent, flattened(json.loads(template.read_text()), template.parent)


@pytest.fixture(scope="session")
def template(synthesized: tuple[Path, dict[str, Any]]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized[1])
