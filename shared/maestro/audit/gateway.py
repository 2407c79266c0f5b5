"""The audit trail's AWS surface beyond its table and the archive bucket: the KMS key that signs digests, and
the queue posted records join. Must never hand a signature back without KMS having made it."""

from __future__ import annotations

import base64
import json
from typing import Any

from maestro.core.aws import client
from maestro.core.errors import DependencyUnavailable
from maestro.core.settings import get_settings

SIGNING_ALGORITHM = "ECDSA_SHA_256"


class Signer:
    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    def sign(self, digest_hash: str) -> str:
        response = client("kms").sign(
            KeyId=self.key_id,
            Message=bytes.fromhex(digest_hash),
            MessageType="RAW",
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
        return base64.b64encode(response["Signature"]).decode()

    def verify(self, digest_hash: str, signature: str) -> bool:
        try:
            return bool(
                client("kms").verify(
                    KeyId=self.key_id,
                    Message=bytes.fromhex(digest_hash),
                    MessageType="RAW",
                    Signature=base64.b64decode(signature),
                    SigningAlgorithm=SIGNING_ALGORITHM,
                )["SignatureValid"]
            )
        except client("kms").exceptions.KMSInvalidSignatureException:
            return False
        except ValueError:  # not base64 / not hex: forged
            return False


def enqueue(records: list[dict[str, Any]]) -> int:
    """Posted records go through the same queue as the bus's events (one record per message)."""
    sqs = client("sqs")
    url = get_settings().audit_queue_url
    for start in range(0, len(records), 10):
        batch = records[start : start + 10]
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"maestro_audit_record": r})}
            for i, r in enumerate(batch)
        ]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        if failed:
            raise DependencyUnavailable(
                f"{len(failed)} record(s) could not be queued; post them again (they count once)"
            )
    return len(records)
