"""DynamoDB point-in-time recovery's moving edge, which moto fixes at the moment recovery is enabled: a
table's latest restorable time is now (AWS trails it by about five minutes), so what waits for a restore
point (the restore drill) sees it reached. Everything else of DescribeContinuousBackups is moto's. Must never
report recovery for a table that does not have it."""

from __future__ import annotations

import copy
import time
from typing import Any

from moto.dynamodb.models import dynamodb_backends

ACCOUNT = "123456789012"
TARGET = "DynamoDB_20120810.DescribeContinuousBackups"


class LocalPointInTimeRecovery:
    def __init__(self, region: str) -> None:
        self.region = region

    def handles(self, target: str) -> bool:
        return target == TARGET

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tables = dynamodb_backends[ACCOUNT][self.region].tables
        table = tables.get(str(body.get("TableName")))
        if table is None:
            return 400, {
                "__type": "com.amazonaws.dynamodb.v20120810#TableNotFoundException",
                "message": f"Table not found: {body.get('TableName')}",
            }
        described = copy.deepcopy(table.continuous_backups)
        recovery = described.get("PointInTimeRecoveryDescription") or {}
        if recovery.get("PointInTimeRecoveryStatus") == "ENABLED":
            recovery["LatestRestorableDateTime"] = time.time()
        return 200, {"ContinuousBackupsDescription": described}
