"""boto3 clients, created once per process and shared by the stores (the only boto3 users).
Must never pin an endpoint: boto3 reads AWS_ENDPOINT_URL itself, which is how local mode points at moto."""

from __future__ import annotations

from functools import cache
from typing import Any

from maestro.core.settings import get_settings


@cache
def client(service: str) -> Any:
    import boto3  # deferred: the import costs ~0.1 s and not every cold start needs AWS
    from botocore.config import Config

    # Standard retry mode: exponential backoff with jitter on throttling and 5xx (AWS SDK default policy).
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    return boto3.session.Session().client(service, region_name=get_settings().region, config=config)


NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for any other exception)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def is_missing(exc: BaseException) -> bool:
    """An S3 object (or bucket) that does not exist."""
    return error_code(exc) in NOT_FOUND_CODES
