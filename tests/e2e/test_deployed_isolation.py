"""Isolation in depth on a deployed stack: what moto cannot show, since it ignores IAM conditions. A session
of the tenant access role tagged tenant=e2e-a reads e2e-a's items and objects, and AWS refuses it everything
of e2e-b's, the cross-tenant index partitions, Scan, and listing outside its prefix: a bug that builds
another tenant's key is stopped by IAM, not by our code.

Opt-in, like the rest of the e2e tier: set MAESTRO_E2E_URL, and have AWS credentials of the deploying account
in the environment (the role trusts the account's principals that may assume it). MAESTRO_E2E_STACK names the
stack (default Maestro)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

URL = os.environ.get("MAESTRO_E2E_URL", "")
STACK = os.environ.get("MAESTRO_E2E_STACK", "Maestro")
OWN, OTHER = "e2e-a", "e2e-b"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not URL, reason="MAESTRO_E2E_URL is not set: no deployed stack to test"),
    pytest.mark.skipif(
        boto3.session.Session().get_credentials() is None,
        reason="no AWS credentials of the deploying account in the environment",
    ),
]


@pytest.fixture(scope="module")
def stack() -> dict[str, str]:
    (described,) = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


@pytest.fixture(scope="module")
def session(stack: dict[str, str]) -> boto3.session.Session:
    credentials = boto3.client("sts").assume_role(
        RoleArn=stack["TenantAccessRoleArn"],
        RoleSessionName=f"e2e-isolation-{uuid.uuid4().hex[:8]}",
        Tags=[{"Key": "tenant", "Value": OWN}],
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    return str(refused.value.response["Error"]["Code"])


def key(tenant: str) -> dict[str, Any]:
    return {"pk": {"S": f"{tenant}#TENANT"}, "sk": {"S": "PROFILE"}}


def test_a_tenant_session_reads_its_own_items_and_is_refused_anothers(
    stack: dict[str, str], session: boto3.session.Session
) -> None:
    ddb, table = session.client("dynamodb"), stack["PlatformTableName"]
    ddb.get_item(TableName=table, Key=key(OWN))  # allowed (whether or not the item exists)
    assert denied(ddb.get_item, TableName=table, Key=key(OTHER)) == "AccessDeniedException"
    assert denied(ddb.put_item, TableName=table, Item=key(OTHER)) == "AccessDeniedException"
    assert denied(ddb.scan, TableName=table) == "AccessDeniedException"
    listing = {"KeyConditionExpression": "gsi1pk = :p", "ExpressionAttributeValues": {":p": {"S": "TENANTS"}}}
    assert denied(ddb.query, TableName=table, IndexName="gsi1", **listing) == "AccessDeniedException"
    both = {table: {"Keys": [key(OWN), key(OTHER)]}}
    assert denied(ddb.batch_get_item, RequestItems=both) == "AccessDeniedException"


def test_a_tenant_session_reaches_its_own_objects_and_is_refused_anothers(
    stack: dict[str, str], session: boto3.session.Session
) -> None:
    s3, bucket = session.client("s3"), stack["ArtifactsBucketName"]
    own = f"tenants/{OWN}/e2e/isolation-probe.txt"
    s3.put_object(Bucket=bucket, Key=own, Body=b"probe")
    assert s3.get_object(Bucket=bucket, Key=own)["Body"].read() == b"probe"
    s3.list_objects_v2(Bucket=bucket, Prefix=f"tenants/{OWN}/")
    other = f"tenants/{OTHER}/e2e/isolation-probe.txt"
    assert denied(s3.get_object, Bucket=bucket, Key=other) == "AccessDenied"
    assert denied(s3.put_object, Bucket=bucket, Key=other, Body=b"x") == "AccessDenied"
    assert denied(s3.list_objects_v2, Bucket=bucket, Prefix="tenants/") == "AccessDenied"
    assert denied(s3.list_objects_v2, Bucket=bucket, Prefix=f"tenants/{OTHER}/") == "AccessDenied"
    s3.delete_object(Bucket=bucket, Key=own)
