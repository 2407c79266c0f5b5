"""Synthesizes the CDK app for local mode (no bundling: handlers run from the source tree), cached by a
hash of what shapes the template, in one cache every local platform of the checkout shares (whatever its
state dir). Must never serve a template older than the infrastructure code."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from maestro.local.functions import REPO_ROOT

STACK_NAME = "Maestro"
CACHE_DIR = REPO_ROOT / ".maestro" / "synth"
KEPT = 3  # cached syntheses kept besides the current one (switching branches back and forth stays fast)
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


def synthesize(cache_dir: Path = CACHE_DIR, *, force: bool = False, root: Path = REPO_ROOT) -> Path:
    """Returns the stack template's path; synthesizes only when no cached synthesis has the inputs' hash.
    Concurrent callers (test workers, a second `make serve`) wait on one lock and share one synthesis."""
    current = inputs_hash(root)
    outdir = cache_dir / current
    template = outdir / f"{STACK_NAME}.template.json"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if template.exists() and not force:
            return template
        building = cache_dir / f"{current}.building"
        shutil.rmtree(building, ignore_errors=True)
        _run_app(building, root)
        shutil.rmtree(outdir, ignore_errors=True)
        building.rename(outdir)  # complete or absent: a synth that died halfway is never served
        _forget_old(cache_dir, keep=outdir)
    return template


def _run_app(outdir: Path, root: Path) -> None:
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


def _forget_old(cache_dir: Path, keep: Path) -> None:
    done = sorted(
        (d for d in cache_dir.iterdir() if d.is_dir() and d != keep), key=lambda d: d.stat().st_mtime
    )
    for old in done[: max(0, len(done) - KEPT)]:
        shutil.rmtree(old, ignore_errors=True)
