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


def _running_gateway(invoke):  # type: ignore[no-untyped-def]
    from maestro.local.gateway import Gateway

    return Gateway([Route("POST", "/echo", "Fn", False)], invoke, tokens=None, port=0).start()  # type: ignore[arg-type]


def test_any_method_gets_api_gateways_404_json_not_a_501() -> None:
    import http.client
    import json

    gateway = _running_gateway(lambda function, event: {"statusCode": 200, "body": "{}"})
    try:
        for method in ("TRACE", "PROPFIND", "POST"):
            connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
            connection.request(method, "/nowhere")
            response = connection.getresponse()
            assert response.status == 404, method
            assert json.loads(response.read()) == {"message": "Not Found"}
            connection.close()
    finally:
        gateway.stop()


def test_a_client_that_hangs_up_early_leaves_no_traceback(capfd) -> None:  # type: ignore[no-untyped-def]
    import socket
    import time

    def slow(function, event):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # the client is gone by the time the answer is written
        return {"statusCode": 200, "body": "x" * 1_000_000}

    gateway = _running_gateway(slow)
    try:
        for _ in range(3):
            with socket.create_connection((gateway.host, gateway.port)) as client:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        time.sleep(1.0)
    finally:
        gateway.stop()
    assert "Traceback" not in capfd.readouterr().err
