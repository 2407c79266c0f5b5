"""What an explanation job may load, against moto's S3: only objects under the tenant's prefix, and only
bytes whose SHA-256 is the one recorded for them."""

from __future__ import annotations

import random

import boto3
import pytest

from maestro.core.errors import ValidationError
from maestro.explain.sources import ChecksumMismatch, head, read_verified, sha256_b64, tenant_object

pytestmark = pytest.mark.usefixtures("aws")


def put(bucket: str, key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")


def test_verified_reads_refuse_bytes_that_changed_since_they_were_recorded() -> None:
    boto3.client("s3").create_bucket(Bucket="plain")
    put("plain", "tenants/acme/artifacts/m/model.pkl", b"the registered model")
    recorded = head("acme", "plain", "tenants/acme/artifacts/m/model.pkl", "model")
    assert recorded.sha256 == sha256_b64(b"the registered model")
    assert read_verified("acme", recorded) == b"the registered model"

    put(
        "plain", "tenants/acme/artifacts/m/model.pkl", b"cos\nsystem\n(S'echo pwned'\ntR."
    )  # a pickle payload
    with pytest.raises(ChecksumMismatch, match="does not match the checksum recorded"):
        read_verified("acme", recorded)


def test_with_versioning_a_job_reads_exactly_the_version_it_recorded() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    put("versioned", "tenants/acme/artifacts/m/model.pkl", b"v1")
    recorded = head("acme", "versioned", "tenants/acme/artifacts/m/model.pkl", "model")
    put("versioned", "tenants/acme/artifacts/m/model.pkl", b"v2")
    assert read_verified("acme", recorded) == b"v1"


def test_an_object_without_a_recorded_checksum_is_never_read() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="tenants/acme/x.pkl", Body=b"no checksum", ChecksumAlgorithm="CRC32")
    with pytest.raises(ChecksumMismatch):
        read_verified("acme", head("acme", "plain", "tenants/acme/x.pkl", "model"))


@pytest.mark.parametrize(
    "uri",
    [
        "s3://other-bucket/tenants/acme/data.csv",
        "s3://artifacts/tenants/globex/data.csv",
        "s3://artifacts/tenants/acme/../globex/data.csv",
        "s3://artifacts/tenants/acme/",
        "https://artifacts.s3.amazonaws.com/tenants/acme/data.csv",
    ],
)
def test_datasets_must_lie_in_the_tenants_prefix_of_the_artifacts_bucket(uri: str) -> None:
    with pytest.raises(ValidationError) as caught:
        tenant_object(uri, "artifacts", "acme", "dataset.s3_uri")
    assert caught.value.field == "dataset.s3_uri"


def test_a_dataset_in_the_tenants_prefix_resolves_to_its_key() -> None:
    assert tenant_object("s3://artifacts/tenants/acme/d/x.csv", "artifacts", "acme", "f") == (
        "artifacts",
        "tenants/acme/d/x.csv",
    )


def test_paging_a_filtered_listing_returns_every_match_once() -> None:
    """A filtered page may take several queries; a match that did not fit must start the next page."""
    from maestro.explain.store import ExplainStore
    from tests.support import create_table_with_gsi1

    create_table_with_gsi1("explain")
    store = ExplainStore("explain", "acme")
    failed = set()
    statuses = random.Random(7).choices(["FAILED", "SUCCEEDED"], k=40)  # irregular runs of matches
    for i, status in enumerate(statuses):
        job_id = f"exp-{i:03d}"
        store.create(
            {"job_id": job_id, "status": status, "attempt": 1, "created_at": f"2026-11-27T00:00:{i:02d}Z"}
        )
        if status == "FAILED":
            failed.add(job_id)
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.list("FAILED", 5, cursor)
        assert len(page) <= 5
        seen += [job["job_id"] for job in page]
        if cursor is None:
            break
    assert sorted(seen) == sorted(failed)
    assert seen == sorted(seen, reverse=True)  # newest first
