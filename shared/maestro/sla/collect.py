"""Maestro ML's own outcomes, delivered by CloudWatch Logs subscriptions (one log group per function), turned
into observation batches of the platform tenant. Must never record a log line twice: a redelivered
subscription batch carries the same log event ids, which name the observation batch."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent

from maestro.core.observability import logger
from maestro.core.outcomes import OUTCOME_KEY
from maestro.sla.observations import MAX_FUTURE_MINUTES, MINUTES_PER_BATCH, Observation, ObservationBatch
from maestro.sla.store import MINUTE_RETENTION_DAYS

OLDEST_MINUTES = MINUTE_RETENTION_DAYS * 1440 - 60


def batches_from_logs(event: dict[str, Any]) -> list[ObservationBatch]:
    data = CloudWatchLogsEvent(event).parse_logs_data()
    if data.message_type != "DATA_MESSAGE":
        return []  # CONTROL_MESSAGE: CloudWatch Logs checking that the destination answers
    rows: list[tuple[str, Observation]] = []
    for log_event in data.log_events:
        try:
            outcome = json.loads(log_event.message)[OUTCOME_KEY]
            # The line also names the tenant and capability it worked for (metering's), not an SLA field.
            fields = {k: outcome[k] for k in Observation.model_fields if k in outcome}
            rows.append((log_event.get_id, Observation.model_validate(fields)))
        except (ValueError, KeyError, TypeError):
            logger.warning("skipped a log line that is not an outcome", extra={"log_group": data.log_group})
    # Lines the minute buckets cannot hold (replayed from long ago, or from a skewed clock) are dropped here,
    # so they cannot sink the batch they would share with good lines.
    now = int(time.time()) // 60
    usable = [
        (event_id, o)
        for event_id, o in rows
        if now - OLDEST_MINUTES < int(o.timestamp.timestamp()) // 60 <= now + MAX_FUTURE_MINUTES
    ]
    if len(usable) < len(rows):
        logger.warning("dropped %d outcome lines outside the minute buckets' range", len(rows) - len(usable))
    by_minute: dict[tuple[str, int], list[tuple[str, Observation]]] = {}
    for event_id, observation in usable:
        key = (observation.service, int(observation.timestamp.timestamp()) // 60)
        by_minute.setdefault(key, []).append((event_id, observation))
    batches = []
    keys = sorted(by_minute)
    for start in range(0, len(keys), MINUTES_PER_BATCH):
        chunk = [row for key in keys[start : start + MINUTES_PER_BATCH] for row in by_minute[key]]
        digest = hashlib.sha256("\n".join(event_id for event_id, _ in chunk).encode()).hexdigest()
        batches.append(ObservationBatch(batch_id=f"logs:{digest}", observations=[o for _, o in chunk]))
    return batches
