"""Registry rules that need no AWS: artifact paths stay in the tenant's prefix, stages, versions, aliases."""

import pytest

from maestro.core.errors import ValidationError
from maestro.registry.artifacts import check_location, safe_path
from maestro.registry.fields import metric_json, metric_value
from maestro.registry.model_versions import stage, version_number
from maestro.registry.routes.artifacts import _file_in


@pytest.mark.parametrize("path", ["../x", "a/../../b", "/etc/passwd", "a\\b", "C:/x", "a/%2e%2e/b", "a\x00b"])
def test_artifact_paths_cannot_escape(path: str) -> None:
    with pytest.raises(ValidationError):
        safe_path(path)


def test_safe_paths_are_normalised() -> None:
    assert (
        safe_path("experiments/1/run/artifacts/model/MLmodel") == "experiments/1/run/artifacts/model/MLmodel"
    )
    assert safe_path("a//b/./c") == "a/b/c"


def test_s3_locations_in_our_bucket_must_stay_in_the_tenants_prefix() -> None:
    assert check_location("s3://art/tenants/acme/x", "art", "acme") == "s3://art/tenants/acme/x"
    assert (
        check_location("s3://their-own-bucket/any/where/", "art", "acme") == "s3://their-own-bucket/any/where"
    )
    for location in (
        "s3://art/tenants/globex/x",
        "s3://art/tenants/acme-eu/x",
        "s3://art/other",
        "file:///tmp",
    ):
        with pytest.raises(ValidationError):
            check_location(location, "art", "acme")


def test_multipart_keys_are_the_directory_plus_the_clients_file_name() -> None:
    assert (
        _file_in("experiments/1/r/artifacts", "/home/me/data/weights.bin")
        == "experiments/1/r/artifacts/weights.bin"
    )
    assert _file_in("x", "C:\\\\Users\\\\me\\\\w.bin") == "x/w.bin"


def test_stages_and_versions() -> None:
    assert stage("production") == "Production"
    assert stage("NONE") == "None"
    with pytest.raises(ValidationError):
        stage("prod")
    assert version_number("7") == 7
    for bad in ("0", "-1", "x", None):
        with pytest.raises(ValidationError):
            version_number(bad)


def test_metric_values_keep_nan_and_infinity() -> None:
    assert metric_json("m", metric_value("NaN", "v"), 1, 0)["value"] == "NaN"
    assert metric_json("m", metric_value(float("inf"), "v"), 1, 0)["value"] == "Infinity"
    assert metric_json("m", metric_value(0.1, "v"), 1, 0)["value"] == 0.1
    with pytest.raises(ValidationError):
        metric_value("abc", "metrics[0].value")
