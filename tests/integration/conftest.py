"""In-process AWS via moto's mock_aws; clients cached by maestro.core.aws are dropped around each test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from maestro.core.aws import client
from maestro.core.settings import get_settings
from maestro.local.functions import load_handler_module
from maestro.tenants.service import register
from maestro.tenants.store import TenantStore
from tests.support import create_table_with_gsi1

TENANTS = ("acme", "globex")  # registered in every moto test: admission refuses unknown tenants


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, with the platform table holding the registered tenants."""
    monkeypatch.setenv("MAESTRO_PLATFORM_TABLE", "platform")
    monkeypatch.setenv("MAESTRO_ARTIFACTS_BUCKET", "artifacts")
    monkeypatch.setenv("MAESTRO_EVENT_BUS_NAME", "maestro")
    client.cache_clear()
    get_settings.cache_clear()
    with mock_aws():
        create_table_with_gsi1("platform")
        for tenant in TENANTS:
            register(TenantStore("platform", tenant), tenant.title(), "team", {}, "tests")
        yield
    client.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def platform_stores(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="artifacts")


@pytest.fixture
def bus_queue(aws: None) -> str:
    """The `maestro` bus with every event routed to a queue, so tests can read what was published."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="maestro")
    url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="tap", EventBusName="maestro", EventPattern=json.dumps({"source": [{"prefix": "maestro."}]})
    )
    events.put_targets(Rule="tap", EventBusName="maestro", Targets=[{"Id": "q", "Arn": arn}])
    return url


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs, out = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        out += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return out


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


def http_event(
    method: str,
    path: str,
    *,
    claims: dict[str, str] | None = None,
    body: str | None = None,
    request_id: str = "req-1",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "isBase64Encoded": False,
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"},
            "requestId": request_id,
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims}}
    if body is not None:
        event["body"] = body
    return event


def call(function: str, event: dict) -> tuple[int, dict]:
    response = load_handler_module(function).handler(event, Context())
    return int(response["statusCode"]), json.loads(response["body"])


@pytest.fixture
def every_store(platform_stores: None) -> None:
    """Besides the platform's: each capability's table (default names) and the bus."""
    for table in ("maestro-registry", "maestro-ab", "maestro-sla", "maestro-audit"):
        create_table_with_gsi1(table)
    boto3.client("events").create_event_bus(Name="maestro")
    boto3.client("s3").create_bucket(Bucket="maestro-audit-archive")
    kms = boto3.client("kms")
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/maestro-audit", TargetKeyId=key)
