"""Reachability probes of the platform's stores (the only boto3 use of this capability).
Must never write: a probe reads one sentinel key or the bucket's metadata."""

from __future__ import annotations

from maestro.core.aws import client

SENTINEL_KEY = {"pk": {"S": "__health__"}, "sk": {"S": "__health__"}}


def probe_table(table: str) -> None:
    """A data-plane read (GetItem of a sentinel key) proves reachability and read permission;
    DescribeTable would hit the control-plane rate limit under load."""
    client("dynamodb").get_item(TableName=table, Key=SENTINEL_KEY, ConsistentRead=False)


def probe_bucket(bucket: str) -> None:
    client("s3").head_bucket(Bucket=bucket)


def probe_bus(bus: str) -> None:
    client("events").describe_event_bus(Name=bus)


def probe_queue(url: str) -> None:
    client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])


def probe_key(key: str) -> None:
    """DescribeKey: the key exists and is enabled (a disabled signing key would stop the audit digests)."""
    state = client("kms").describe_key(KeyId=key)["KeyMetadata"]["KeyState"]
    if state != "Enabled":
        raise RuntimeError(f"key state is {state}")
