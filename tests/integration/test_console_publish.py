"""`maestro console publish` against moto: after a deploy, the built console and its config.json land in the
console bucket under console/ (hashed assets cached for good, the rest revalidated), CloudFront is told to
drop what is not hashed, and a stack without a hosted UI needs the issuer's endpoints given."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from maestro.cli.main import main
from maestro.core.aws import client

HOSTED = "https://maestro-123.auth.us-east-1.amazoncognito.com"


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[dict[str, str]]:
    client.cache_clear()
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="console-files")
        origin = {
            "Id": "files",
            "DomainName": "console-files.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        distribution = boto3.client("cloudfront").create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "console",
                "Enabled": True,
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": {
                    "TargetOriginId": "files",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )["Distribution"]
        yield {
            "ConsoleBucketName": "console-files",
            "ConsoleDistributionId": distribution["Id"],
            "ConsoleUrl": f"https://{distribution['DomainName']}/console/",
        }
    client.cache_clear()


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True, exist_ok=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    return dist


def test_publish_uploads_the_console_and_its_sign_in_and_tells_cloudfront(
    deployed: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    stack = {**deployed, "HostedUiUrl": HOSTED, "ConsoleClientId": "console-client"}
    outputs.write_text(json.dumps({"Maestro": stack}))
    assert main(["console", "publish", "--outputs", str(outputs), "--dist", str(built(tmp_path))]) == 0

    s3 = boto3.client("s3")
    index = s3.get_object(Bucket="console-files", Key="console/index.html")
    assert index["ContentType"] == "text/html" and index["CacheControl"] == "no-cache"
    asset = s3.get_object(Bucket="console-files", Key="console/assets/index-abc123.js")
    assert "immutable" in asset["CacheControl"] and asset["Body"].read() == b"console.log(1)"
    config = json.loads(s3.get_object(Bucket="console-files", Key="console/config.json")["Body"].read())
    assert config == {
        "mode": "oidc",
        "authorize_url": f"{HOSTED}/oauth2/authorize",
        "token_url": f"{HOSTED}/oauth2/token",
        "client_id": "console-client",
        "scopes": "openid email profile",
    }
    invalidations = boto3.client("cloudfront").list_invalidations(
        DistributionId=deployed["ConsoleDistributionId"]
    )
    assert invalidations["InvalidationList"]["Quantity"] == 1
    assert deployed["ConsoleUrl"] in capsys.readouterr().out


def test_a_stack_signing_in_elsewhere_needs_the_issuer_named(
    deployed: dict[str, str], tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"Maestro": deployed}))  # an external OIDC issuer: no hosted UI outputs
    with pytest.raises(SystemExit, match="--authorize-url"):
        main(["console", "publish", "--outputs", str(outputs), "--dist", str(built(tmp_path))])
    issuer = [
        "--authorize-url",
        "https://login.example.com/authorize",
        "--token-url",
        "https://login.example.com/token",
    ]
    assert (
        main(
            [
                "console",
                "publish",
                "--outputs",
                str(outputs),
                "--dist",
                str(built(tmp_path)),
                *issuer,
                "--client-id",
                "c1",
            ]
        )
        == 0
    )
    config = json.loads(
        boto3.client("s3").get_object(Bucket="console-files", Key="console/config.json")["Body"].read()
    )
    assert config["authorize_url"] == "https://login.example.com/authorize" and config["client_id"] == "c1"
