"""Assets are bundled without Docker: function bundles carry the shared package (minus local/CLI) and .pyc;
the dependency layer is installed for the Lambda platform and stays within Lambda's size limit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

sys.path.insert(0, str(REPO))
from infra_cdk.bundling import LAMBDA_PYTHON, FunctionBundler, LayerBundler, _deployed_package_files

LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


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
    deployed = sum(p.stat().st_size for p in _deployed_package_files())  # not the local runtime, CLI, console
    largest_function = max(size(fn) for fn in (REPO / "functions").iterdir() if fn.is_dir()) + deployed
    assert size(layer) + largest_function < LAMBDA_UNZIPPED_LIMIT


def test_the_deploy_synth_bundles_every_asset_without_docker(tmp_path: Path) -> None:
    """`make synth`/`make deploy`'s path: jsii calls our local bundlers; nothing asks for Docker. Every
    function's code plus the layers it carries stays within Lambda's 250 MB unzipped, as measured here on
    the bundles the deploy would upload."""
    import json

    from infra_cdk.app import build_app
    from maestro.local.nested import flattened

    build_app(outdir=str(tmp_path)).synth()
    parent = json.loads((tmp_path / "Maestro.template.json").read_text())
    template = flattened(parent, tmp_path)["Resources"]

    def asset(code: dict[str, object]) -> Path:
        return tmp_path / f"asset.{str(code['S3Key']).removesuffix('.zip')}"

    layers = {
        lid: asset(r["Properties"]["Content"])
        for lid, r in template.items()
        if r["Type"] == "AWS::Lambda::LayerVersion"
    }
    functions = {
        r["Metadata"]["maestro:function"]: (
            asset(r["Properties"]["Code"]),
            [layers[ref["Ref"]] for ref in r["Properties"].get("Layers", [])],
        )
        for r in template.values()
        if r["Type"] == "AWS::Lambda::Function" and "maestro:function" in r.get("Metadata", {})
    }
    # powertools; numpy + scipy; slim powertools; shap's stack; boosters; matplotlib; pandas + parquet
    assert len(layers) == 7
    assert set(functions) == {p.name for p in (REPO / "functions").iterdir() if (p / "handler.py").exists()}
    sizes = {
        name: size(code) + sum(size(layer) for layer in carried)
        for name, (code, carried) in functions.items()
    }
    print(json.dumps({name: round(total / 2**20, 1) for name, total in sorted(sizes.items())}))
    for name, (code, _) in functions.items():
        assert (code / "maestro" / "core" / "api.py").exists()
        assert sizes[name] < LAMBDA_UNZIPPED_LIMIT, (name, sizes[name] / 2**20)
    if f"{sys.version_info.major}.{sys.version_info.minor}" != LAMBDA_PYTHON:
        return  # the layers hold bytecode and wheels for Lambda's Python only
    for name, (code, carried) in functions.items():
        # As Lambda imports it: the function's folder and its layers, nothing from this virtualenv (-S),
        # and, beyond the handler, everything a step imports lazily.
        lazy = {
            "explain_worker": "import shap, sklearn.inspection, skops.io, lime.lime_tabular, xgboost; "
            "import lightgbm; "
            "import maestro.explain.compute, maestro.explain.models",
            "explain_data": "import pandas, fastparquet, matplotlib.pyplot; import maestro.explain.report",
        }.get(name, "")
        path = os.pathsep.join([str(code), *(str(layer / "python") for layer in carried)])
        env = {
            "PYTHONPATH": path,
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_NAMESPACE": "Maestro",
        }
        done = subprocess.run(
            [sys.executable, "-S", "-c", f"import handler; {lazy}"],
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, (name, done.stderr[-2000:])
