"""Assets are bundled without Docker: function bundles carry the shared package (minus local/CLI) and .pyc;
the dependency layer is installed for the Lambda platform and stays within Lambda's size limit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import REPO

sys.path.insert(0, str(REPO))
from infra_cdk.bundling import LAMBDA_PYTHON, FunctionBundler, LayerBundler

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
pytestmark = pytest.mark.xdist_group("infra")


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_function_bundle_holds_the_handler_and_the_deployed_package_only(tmp_path: Path) -> None:
    assert FunctionBundler(REPO / "functions" / "whoami").try_bundle(str(tmp_path))
    assert (tmp_path / "handler.py").exists()
    assert (tmp_path / "maestro" / "core" / "api.py").exists()
    assert not (tmp_path / "maestro" / "local").exists() and not (tmp_path / "maestro" / "cli").exists()
    if f"{sys.version_info.major}.{sys.version_info.minor}" == LAMBDA_PYTHON:
        assert list((tmp_path / "maestro" / "core" / "__pycache__").glob("api.cpython-312.pyc"))


def test_powertools_layer_installs_for_lambda_and_fits_with_every_function(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    assert LayerBundler(REPO / "layers" / "powertools" / "requirements.txt").try_bundle(str(layer))
    site = layer / "python"
    assert (site / "aws_lambda_powertools").is_dir() and (site / "pydantic_core").is_dir()
    # Wheels for Lambda's platform, not this machine's: pydantic-core's extension is manylinux x86_64 cp312.
    (core_ext,) = (site / "pydantic_core").glob("_pydantic_core.*.so")
    assert "cpython-312-x86_64-linux-gnu" in core_ext.name
    assert not list(site.rglob("tests"))
    largest_function = max(size(fn) for fn in (REPO / "functions").iterdir() if fn.is_dir()) + size(
        REPO / "shared" / "maestro"
    )
    assert size(layer) + largest_function < LAMBDA_UNZIPPED_LIMIT


def test_the_deploy_synth_bundles_every_asset_without_docker(tmp_path: Path) -> None:
    """`make synth`/`make deploy`'s path: jsii calls our local bundlers; nothing asks for Docker."""
    import json

    from infra_cdk.app import build_app

    build_app(outdir=str(tmp_path)).synth()
    assets = json.loads((tmp_path / "Maestro.assets.json").read_text())["files"]
    folders = [
        tmp_path / a["source"]["path"] for a in assets.values() if a["source"].get("packaging") == "zip"
    ]
    layers = [f for f in folders if (f / "python").is_dir()]
    functions = [f for f in folders if (f / "handler.py").exists()]
    assert len(layers) == 2  # powertools; numpy + scipy
    assert len(functions) == len([p for p in (REPO / "functions").iterdir() if (p / "handler.py").exists()])
    both_layers = sum(size(layer) for layer in layers)  # the analysis functions carry both
    for fn in functions:
        assert (fn / "maestro" / "core" / "api.py").exists()
        assert size(fn) + both_layers < LAMBDA_UNZIPPED_LIMIT, (fn, size(fn), both_layers)
