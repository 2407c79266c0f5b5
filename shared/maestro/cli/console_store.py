"""What publishing the console asks of AWS: its built files and config.json into the console bucket under
console/ (hashed assets cached for good, the rest revalidated), then a CloudFront invalidation of what is
not hashed. The only boto3 user of the publisher."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from maestro.core.aws import client

PREFIX = "console/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def upload(bucket: str, dist: Path, config: dict[str, Any]) -> list[str]:
    """Every file of `dist` and config.json; the keys written."""
    s3, written = client("s3"), []
    files = sorted(p for p in dist.rglob("*") if p.is_file())
    for path in files:
        relative = path.relative_to(dist).as_posix()
        s3.put_object(
            Bucket=bucket,
            Key=PREFIX + relative,
            Body=path.read_bytes(),
            ContentType=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            CacheControl=IMMUTABLE if relative.startswith("assets/") else REVALIDATE,
        )
        written.append(PREFIX + relative)
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl=REVALIDATE,
    )
    return [*written, PREFIX + "config.json"]


def invalidate(distribution_id: str, keys: list[str], reference: str) -> str:
    """The CloudFront invalidation of the keys that are not content-hashed; its id."""
    paths = ["/" + k for k in keys if "/assets/" not in k] + ["/console/"]
    reply = client("cloudfront").create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
    )
    return str(reply["Invalidation"]["Id"])
