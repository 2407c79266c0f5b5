"""Re-walking a tenant's trail, like CloudTrail's validate-logs: every index record against its own hash, its
position and the previous record's hash; every digest against its signature, the previous digest, the
archive object it names and the records in it. Reports the first break: an altered, deleted or reordered
record (in the index or the archive) or a forged digest.
Must never call a gap a deletion when the missing records expired under their retention (the archive
still holds them and says so)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from maestro.audit.gateway import Signer
from maestro.audit.records import GENESIS, digest, record_hash
from maestro.audit.store import AuditStore
from maestro.core.aws import error_code
from maestro.core.object_store import Objects

INDEXED = ("principal", "action", "resource", "outcome", "occurred_at")


@dataclass
class Break:
    kind: str  # altered | deleted | reordered | forged_digest
    where: str  # index | archive | digest
    reason: str
    seq: int | None = None
    digest: int | None = None


@dataclass
class Walk:
    records: int = 0
    digests: int = 0
    expired: int = 0
    breaks: list[Break] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        first = self.breaks[0] if self.breaks else None
        return {
            "valid": first is None,
            "records_checked": self.records,
            "records_expired": self.expired,
            "digests_checked": self.digests,
            "first_break": None
            if first is None
            else {k: v for k, v in first.__dict__.items() if v is not None},
        }


def _archive(tenant: str, bucket: str, key: str) -> tuple[bytes | None, str | None]:
    try:
        return Objects.of_tenant(bucket, tenant).get(key), None
    except Exception as exc:  # noqa: BLE001 - a missing or unreadable object is a finding, not a crash
        return None, error_code(exc) or type(exc).__name__


def verify(store: AuditStore, bucket: str, signer: Signer, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    walk = Walk()
    head_seq, head_hash = store.head()
    digests = sorted(store.digests(), key=lambda d: d["sk"])
    archived: dict[int, dict[str, Any]] = {}
    # Each archive object read once: None when it matches its digest, else what is wrong with it.
    archive_faults: dict[str, tuple[str, str] | None] = {}
    for item in digests:
        d = json.loads(item["digest"])
        body, error = _archive(store.tenant, bucket, d["archive_key"])
        if body is None:
            archive_faults[d["archive_key"]] = ("deleted", f"is unreadable ({error})")
        elif hashlib.sha256(body).hexdigest() != d["archive_sha256"]:
            archive_faults[d["archive_key"]] = ("altered", "differs")
        else:
            archive_faults[d["archive_key"]] = None
        if body is not None:
            for line in body.decode().splitlines():
                if line.strip():
                    record = json.loads(line)
                    archived[record.get("seq", -1)] = record

    # 1. The index: each record's hash, position and link to the previous one.
    expected, previous = 1, GENESIS
    indexed: dict[int, str] = {}  # seq -> hash, for the comparison with the archive below
    for item in store.records():
        seq = int(item["sk"])
        indexed[seq] = item["hash"]
        if seq > expected:
            for missing in range(expected, seq):
                copy = archived.get(missing)
                if copy is not None and copy.get("retain_until", float("inf")) < now:
                    walk.expired += 1
                    previous = copy["hash"]
                    continue
                walk.breaks.append(
                    Break("deleted", "index", f"record {missing} is missing from the index", seq=missing)
                )
                return walk.report()
        record = json.loads(item["record"])
        walk.records += 1
        if record.get("seq") != seq:
            walk.breaks.append(
                Break("reordered", "index", f"position {seq} holds record {record.get('seq')}", seq=seq)
            )
            return walk.report()
        if record_hash(record) != record.get("hash") or item["hash"] != record.get("hash"):
            walk.breaks.append(Break("altered", "index", f"record {seq} does not match its hash", seq=seq))
            return walk.report()
        if any(item.get(k) != record.get(k) for k in INDEXED):
            walk.breaks.append(
                Break("altered", "index", f"record {seq}'s indexed fields differ from it", seq=seq)
            )
            return walk.report()
        if record.get("prev_hash") != previous:
            walk.breaks.append(
                Break("reordered", "index", f"record {seq} does not follow record {seq - 1}", seq=seq)
            )
            return walk.report()
        previous, expected = record["hash"], seq + 1
    if expected <= head_seq:
        walk.breaks.append(
            Break("deleted", "index", f"records {expected}..{head_seq} are missing", seq=expected)
        )
        return walk.report()
    if head_seq and previous != head_hash:
        walk.breaks.append(
            Break("altered", "index", "the chain head does not match the last record", seq=head_seq)
        )
        return walk.report()

    # 2. The digests: signature, chain of digests, archive object, records in it.
    previous_digest = GENESIS
    for number, item in enumerate(digests, start=1):
        d = json.loads(item["digest"])
        walk.digests += 1
        content = {k: v for k, v in d.items() if k != "hash"}
        if (
            d.get("number") != number
            or digest(content) != d.get("hash")
            or not signer.verify(d["hash"], item["signature"])
        ):
            walk.breaks.append(
                Break("forged_digest", "digest", f"digest {number} fails its signature", digest=number)
            )
            return walk.report()
        if d["previous_digest_hash"] != previous_digest:
            walk.breaks.append(
                Break(
                    "forged_digest",
                    "digest",
                    f"digest {number} does not follow digest {number - 1}",
                    digest=number,
                )
            )
            return walk.report()
        previous_digest = d["hash"]
        fault = archive_faults[d["archive_key"]]
        if fault is not None:
            kind, why = fault
            walk.breaks.append(
                Break(kind, "archive", f"{d['archive_key']} {why}", seq=d["first_seq"], digest=number)
            )
            return walk.report()
        for seq in range(d["first_seq"], d["last_seq"] + 1):
            copy = archived.get(seq)
            if copy is None or record_hash(copy) != copy.get("hash"):
                walk.breaks.append(
                    Break(
                        "altered",
                        "archive",
                        f"record {seq} in {d['archive_key']} is wrong",
                        seq=seq,
                        digest=number,
                    )
                )
                return walk.report()
        if archived[d["last_seq"]]["hash"] != d["last_hash"]:
            walk.breaks.append(
                Break("forged_digest", "digest", f"digest {number} names another chain head", digest=number)
            )
            return walk.report()
    # The index must agree with the archive where both hold a record.
    for seq, indexed_hash in indexed.items():
        copy = archived.get(seq)
        if copy is not None and copy["hash"] != indexed_hash:
            walk.breaks.append(
                Break("altered", "index", f"record {seq} differs from its archived copy", seq=seq)
            )
            return walk.report()
    return walk.report()
