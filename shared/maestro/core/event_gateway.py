"""The EventBridge gateway: PutEvents with the retry of rejected entries. Must never drop an entry silently:
entries PutEvents rejects are sent again, then raised."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from maestro.core.aws import client


class EventPublishError(Exception):
    def __init__(self, failed: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(failed)} event(s) were rejected by EventBridge: {failed[:3]}")
        self.failed = failed


def put_entries(batch: Sequence[dict[str, Any]], max_attempts: int, base_delay: float) -> None:
    """One PutEvents batch (at most 10 entries); the rejected entries are sent again after a growing pause,
    and raised (EventPublishError) if some are still rejected after `max_attempts`."""
    pending = list(batch)
    for attempt in range(max_attempts):
        response = client("events").put_events(Entries=pending)
        if not response.get("FailedEntryCount"):
            return
        # Results are positional: resend only the entries that carry an ErrorCode.
        failed = [
            (entry, result)
            for entry, result in zip(pending, response["Entries"], strict=True)
            if result.get("ErrorCode")
        ]
        pending = [entry for entry, _ in failed]
        if attempt + 1 < max_attempts:
            time.sleep(base_delay * 2**attempt)
    raise EventPublishError([{**r, "DetailType": e["DetailType"]} for e, r in failed])
