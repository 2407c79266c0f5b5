import base64

from maestro.local.gateway import RouteTable, _lambda_response, build_event
from maestro.local.template import Route
from maestro.local.tokens import claims_as_api_gateway_passes_them

ROUTES = [
    Route("GET", "/models/{name}", "Fn", True),
    Route("GET", "/models/search", "Fn", True),
    Route("ANY", "/files/{proxy+}", "Fn", True),
    Route("GET", "/health", "Fn", False),
]


def test_the_most_specific_route_wins() -> None:
    table = RouteTable(ROUTES)
    assert table.match("GET", "/models/search")[0].path == "/models/search"  # type: ignore[index]
    assert table.match("GET", "/models/churn") == (ROUTES[0], {"name": "churn"})
    assert table.match("PUT", "/files/a/b/c.txt") == (ROUTES[2], {"proxy": "a/b/c.txt"})
    assert table.match("POST", "/models/churn") is None
    assert table.match("GET", "/models/a/b") is None


def test_payload_2_event_shape() -> None:
    event = build_event(
        ROUTES[0],
        {"name": "churn"},
        "GET",
        "/models/churn",
        "a=1&a=2&b=",
        {"Host": "h", "X-Multi": "1", "Cookie": "c1=1; c2=2"},
        b"",
        "10.0.0.1",
        {"sub": "alice"},
    )
    assert event["version"] == "2.0" and event["routeKey"] == "GET /models/{name}"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["cookies"] == ["c1=1", "c2=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "1"
    assert event["pathParameters"] == {"name": "churn"}
    assert event["requestContext"]["authorizer"]["jwt"]["claims"] == {"sub": "alice"}
    assert event["requestContext"]["http"]["sourceIp"] == "10.0.0.1"
    assert "body" not in event


def test_binary_bodies_are_base64_encoded_and_text_is_not() -> None:
    binary = build_event(
        ROUTES[2],
        {},
        "PUT",
        "/files/x",
        "",
        {"content-type": "application/octet-stream"},
        b"\x00\xff",
        "1.1.1.1",
        None,
    )
    assert binary["isBase64Encoded"] and base64.b64decode(binary["body"]) == b"\x00\xff"
    text = build_event(
        ROUTES[2],
        {},
        "PUT",
        "/files/x",
        "",
        {"content-type": "application/json"},
        b'{"a":1}',
        "1.1.1.1",
        None,
    )
    assert not text["isBase64Encoded"] and text["body"] == '{"a":1}'


def test_claims_are_strings_and_arrays_are_bracketed_as_api_gateway_does() -> None:
    assert claims_as_api_gateway_passes_them({"exp": 5, "cognito:groups": ["a", "b"], "sub": "x"}) == {
        "exp": "5",
        "cognito:groups": "[a b]",
        "sub": "x",
    }


def test_lambda_responses_of_both_shapes() -> None:
    status, headers, body = _lambda_response(
        {
            "statusCode": 201,
            "headers": {"X-A": "1"},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"hi").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (status, body) == (201, b"hi")
    assert ("Set-Cookie", "s=1") in headers and ("X-A", "1") in headers
    assert _lambda_response({"ok": True}) == (200, [("Content-Type", "application/json")], b'{"ok": true}')
