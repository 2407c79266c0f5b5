"""Digests and the archive, after CloudTrail's log file integrity validation: a tenant's records since the
last digest are archived as one JSONL object in the Object Lock bucket, and a digest commits to that
object's SHA-256, the chain head it reaches and the previous digest; the digest's hash is signed with an
asymmetric KMS key (ECDSA P-256). Must never archive a range twice under different keys, nor sign a
digest whose range is not archived."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from maestro.audit.gateway import SIGNING_ALGORITHM, Signer
from maestro.audit.records import canonical, digest
from maestro.audit.store import AuditStore, ChainMoved
from maestro.core.object_store import Objects
from maestro.core.tenancy import tenant_prefix


def archive_key(tenant: str, first_seq: int, last_seq: int) -> str:
    return f"{tenant_prefix(tenant)}audit/records/{first_seq:012d}-{last_seq:012d}.jsonl"


def digest_key(tenant: str, number: int) -> str:
    return f"{tenant_prefix(tenant)}audit/digests/{number:08d}.json"


def make_digest(store: AuditStore, bucket: str, signer: Signer) -> dict[str, Any] | None:
    """Archive and sign everything appended since the last digest; None when nothing was."""
    head_seq, head_hash = store.head()
    previous = store.digest_head()
    if head_seq <= previous["last_seq"]:
        return None
    first = previous["last_seq"] + 1
    texts = [item["record"] for item in store.records(first, head_seq)]
    body = ("\n".join(texts) + "\n").encode()
    key = archive_key(store.tenant, first, head_seq)
    archive = Objects.of_tenant(bucket, store.tenant)
    archive.put(key, body, "application/x-ndjson", checksum=True)
    content = {
        "tenant": store.tenant,
        "number": previous["number"] + 1,
        "first_seq": first,
        "last_seq": head_seq,
        "last_hash": head_hash,
        "records": len(texts),
        "archive_key": key,
        "archive_sha256": hashlib.sha256(body).hexdigest(),
        "previous_digest_hash": previous["hash"],
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "signing_key": signer.key_id,
        "signing_algorithm": SIGNING_ALGORITHM,
    }
    signed = {**content, "hash": digest(content)}
    signature = signer.sign(signed["hash"])
    signed_digest = canonical({"digest": signed, "signature": signature}).encode()
    archive.put(digest_key(store.tenant, signed["number"]), signed_digest, "application/json", checksum=True)
    try:
        store.put_digest(signed, signature, key, previous["number"])
    except ChainMoved:
        return None  # another run digested this range first; its objects carry the same keys and content
    return signed
