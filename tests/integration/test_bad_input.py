"""Bad input is a 4xx naming the field, never a 5xx: one regression test for each server error the fuzz tier
(tests/fuzz) found, run in-process against moto next to the code that fixes it."""

from __future__ import annotations

import base64
import json

import pytest

from maestro.core.api import create_app
from maestro.core.fields import KEY_CHARS, PATH_CHARS
from maestro.tenants.admission import admit
from tests.integration.conftest import Context, call, http_event

ADMIN = {"sub": "alice", "custom:tenant": "acme", "cognito:groups": "[admin]"}


def _request(method: str, path: str, body: object = None, query: str = "", raw: bytes | None = None) -> dict:
    event = http_event(method, path, claims=ADMIN, body=None if body is None else json.dumps(body))
    event["rawQueryString"] = query
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if raw is not None:  # what API Gateway passes for a body that is not UTF-8 text
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event


def _fields(body: dict) -> list[str]:
    return [f["field"] for f in (body.get("error", body).get("fields") or [])]


@pytest.mark.parametrize(
    "query",
    ["name=", "name=" + "m" * (KEY_CHARS + 1)],
    ids=["empty", "longer than a key may be"],
)
def test_a_model_name_no_key_can_hold_is_mlflows_invalid_parameter_value(
    every_store: None, query: str
) -> None:
    # Was: DynamoDB ValidationException (empty key attribute) escaping as a 500
    status, body = call("registry", _request("GET", "/api/2.0/mlflow/registered-models/get", query=query))
    assert status == 400
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and _fields(body) == ["query.name"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/2.0/mlflow/model-versions/delete", {"name": "", "version": ""}, "body.name"),
        ("/api/2.0/mlflow/registered-models/alias", {"name": "m", "alias": ""}, "body.alias"),
    ],
)
def test_empty_keys_in_registry_bodies_are_refused_by_name(
    every_store: None, path: str, body: dict, field: str
) -> None:
    status, answer = call("registry", _request("DELETE", path, body))
    assert status == 400 and field in _fields(answer)


def test_an_empty_experiment_id_is_refused_before_assignment(every_store: None) -> None:
    status, body = call("ab_assign", _request("POST", "/ab/assign", {"experiment_id": "", "unit_id": "0"}))
    assert status == 422 and _fields(body) == ["body.experiment_id"]


@pytest.mark.parametrize("raw", [b"\xff\xfe{", b'{"name": "\xe3"}'], ids=["binary", "truncated utf-8"])
def test_a_body_that_is_not_utf8_text_is_a_422_naming_the_body(every_store: None, raw: bytes) -> None:
    # Was: UnicodeDecodeError in Powertools' decoded_body, a 500 on every route with a body
    status, body = call("ab", _request("PUT", "/ab/holdout", raw=raw))
    assert status == 422 and _fields(body) == ["body"]
    assert "UTF-8" in body["error"]["message"]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ('{"fraction": 0.1, "note": "\\ud800"}', "body.note", "lone surrogate"),
        ('{"fraction": NaN}', "body.fraction", "finite"),
        ('{"fraction": 1e200}', "body.fraction", "storable range"),
        ('{"fraction": 0.1, "n": ' + "9" * 39 + "}", "body.n", "digits"),
    ],
)
def test_json_no_store_can_keep_is_refused_with_where_and_why(
    every_store: None, text: str, field: str, reason: str
) -> None:
    event = _request("PUT", "/ab/holdout")
    event["body"] = text
    status, body = call("ab", event)
    assert status == 422 and _fields(body) == [field]
    assert reason in body["error"]["fields"][0]["reason"]


def test_an_artifact_path_is_a_greedy_template_parameter(every_store: None) -> None:
    # Was: documented as ".../artifacts/.+" (a regular expression, not a template), sliced out of the raw path
    event = _request("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/a/b/c.txt")
    event["body"] = "hello"
    assert call("registry", event)[0] == 200
    status, body = call(
        "registry", _request("GET", "/api/2.0/mlflow-artifacts/artifacts", query="path=1/a/b")
    )
    assert status == 200 and [f["path"] for f in body["files"]] == ["c.txt"]


def test_an_artifact_path_with_control_characters_is_refused_by_name(every_store: None) -> None:
    body = {"path": "x\x01y", "upload_id": "u"}
    status, answer = call("registry", _request("POST", "/api/2.0/mlflow-artifacts/mpu/abort/a/b", body))
    assert (
        status == 400
        and answer["error_code"] == "INVALID_PARAMETER_VALUE"
        and _fields(answer) == ["body.path"]
    )


def test_an_artifact_path_whose_s3_key_could_be_too_long_is_refused(every_store: None) -> None:
    # The path is held to PATH_CHARS characters, which keeps its S3 key within S3_KEY_BYTES (core.fields)
    long_path = "/".join(["d" * 200] * 6)  # ~1,200 bytes: over S3's key
    status, body = call(
        "registry", _request("GET", "/api/2.0/mlflow-artifacts/artifacts", query=f"path={long_path}")
    )
    assert (
        status == 400 and body["message"] == f"query.path: String should have at most {PATH_CHARS} characters"
    )


def test_an_item_outgrowing_dynamodbs_400_kb_is_a_413_not_a_500(every_store: None) -> None:
    # Every tag is within MLflow's limits; together they pass DynamoDB's 400 KB item (a ValidationException)
    tags = [{"key": f"t{i:03d}", "value": "v" * 8000} for i in range(100)]
    event = _request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "big", "tags": tags})
    status, body = call("registry", event)
    assert status == 413 and body["maestro_code"] == "PAYLOAD_TOO_LARGE"
    status, _ = call("registry", _request("GET", "/api/2.0/mlflow/registered-models/get", query="name=big"))
    assert status == 404  # nothing half-written


def test_renaming_a_model_to_its_own_name_changes_nothing(every_store: None) -> None:
    # Was: a transaction deleting and putting the same item, which DynamoDB refuses (a 500)
    call("registry", _request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "same"}))
    status, body = call(
        "registry",
        _request("POST", "/api/2.0/mlflow/registered-models/rename", {"name": "same", "new_name": "same"}),
    )
    assert status == 200 and body["registered_model"]["name"] == "same"
    assert (
        call("registry", _request("GET", "/api/2.0/mlflow/registered-models/get", query="name=same"))[0]
        == 200
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data",  # Was: a 500 (no boundary to split the form on), found by the fuzz tier
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ],
)
def test_a_body_that_is_not_json_is_a_415_naming_the_content_type(
    every_store: None, content_type: str
) -> None:
    # Was: Powertools' RequestUnsupportedContentType escaping as a 500 (found by the fuzz tier)
    event = _request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "m"})
    event["headers"]["content-type"] = content_type
    status, body = call("registry", event)
    assert status == 415 and _fields(body) == ["header.content-type"]
    read = _request("GET", "/api/2.0/mlflow/registered-models/get", query="name=m")
    read["headers"]["content-type"] = content_type  # no body: nothing to refuse
    assert call("registry", read)[0] == 404


@pytest.mark.parametrize(
    ("function", "path", "query", "field"),
    [
        ("audit", "/audit/events", "end=0001-01-01T00:01:00Z", "query.end"),
        ("tenants", "/tenants/acme/usage", "start=9999-12-31", "query.start"),
    ],
)
def test_a_moment_near_datetimes_bounds_is_refused_before_any_arithmetic(
    every_store: None, function: str, path: str, query: str, field: str
) -> None:
    # Was: OverflowError from "7 days before 0001-01-01" (found by the fuzz tier's stateful phase), a 500
    status, body = call(function, _request("GET", path, query=query))
    assert status == 422 and _fields(body) == [field]


def test_an_unknown_method_gets_the_resolvers_404_not_a_crash() -> None:
    app = create_app("tests", admission=admit)
    event = http_event("TRACE", "/anything")
    response = app.resolve(event, Context())
    assert (
        response["statusCode"] == 404 and json.loads(response["body"])["error"]["code"] == "ROUTE_NOT_FOUND"
    )
