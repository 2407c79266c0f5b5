"""Synthesizes the CDK app for local mode (no bundling: handlers run from the source tree), cached by a
hash of what shapes the template. Must never serve a template older than the infrastructure code."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from maestro.local.functions import REPO_ROOT

STACK_NAME = "Maestro"
TEMPLATE_INPUTS = (
    "infra_cdk/**/*.py",
    "cdk.json",
    "layers/*/requirements.txt",
    "shared/maestro/core/rbac.py",
)


def inputs_hash(root: Path = REPO_ROOT) -> str:
    digest = hashlib.sha256()
    for pattern in TEMPLATE_INPUTS:
        for path in sorted(root.glob(pattern)):
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def synthesize(outdir: Path, *, force: bool = False, root: Path = REPO_ROOT) -> Path:
    """Returns the stack template's path; re-synthesizes only when the inputs changed."""
    template = outdir / f"{STACK_NAME}.template.json"
    stamp = outdir / ".inputs-hash"
    current = inputs_hash(root)
    if not force and template.exists() and stamp.exists() and stamp.read_text() == current:
        return template
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        # Local mode runs handlers from the source tree: skip bundling of every stack.
        "CDK_CONTEXT_JSON": '{"aws:cdk:bundling-stacks": []}',
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(  # noqa: S603 - our own app, fixed argv
        [sys.executable, str(root / "infra_cdk" / "app.py")],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cdk synth failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    stamp.write_text(current)
    return template
