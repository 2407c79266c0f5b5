"""DynamoDB access for explanation jobs: one item per job (its request, what it resolved to, status,
per-shard progress, results and error), listed newest first through gsi1. The only boto3 user of the
capability's table. Must never let a step of an old attempt, or of a cancelled job, overwrite the state of
the current one: every write after submission is conditional on the attempt and on a non-final status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from maestro.core.dynamo_store import (
    TenantTable,
    expression_values,
    from_item,
    is_conditional_failure,
    to_item,
)
from maestro.core.errors import Conflict, NotFound

FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
RESTARTABLE = ("FAILED", "CANCELLED")
JSON_FIELDS = ("request", "resolved", "results", "error")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    job = {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")}
    for name in JSON_FIELDS:
        if isinstance(job.get(name), str):
            job[name] = json.loads(job[name])
    return job


def _dumped(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class ExplainStore(TenantTable):
    capability = "EXPLAIN"

    def _key(self, job_id: str) -> dict[str, Any]:
        return {"pk": {"S": self.k("JOB", job_id)}, "sk": {"S": "JOB"}}

    def create(self, job: dict[str, Any]) -> bool:
        """Puts a new job; False when a job with this id (the same request) already exists."""
        item: dict[str, Any] = {
            **{k: (_dumped(v) if k in JSON_FIELDS else v) for k, v in job.items()},
            "pk": self.k("JOB", job["job_id"]),
            "sk": "JOB",
            "gsi1pk": self.k("JOBS"),
            "gsi1sk": f"{job['created_at']}#{job['job_id']}",
            "progress": {},
        }
        try:
            self._call("put_item", Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def get(self, job_id: str) -> dict[str, Any]:
        response = self._call("get_item", Key=self._key(job_id), ConsistentRead=True)
        if "Item" not in response:
            raise NotFound(f"explanation job {job_id} does not exist")
        return _shown(from_item(response["Item"]))

    def list(
        self, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Any]:
        items, cursor = self.newest_first(self.k("JOBS"), limit, cursor, status)
        return [_shown(i) for i in items], cursor

    def _update(
        self,
        job_id: str,
        expression: str,
        condition: str,
        names: dict[str, str] | None = None,
        conflict: str = "",
        **values: Any,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "Key": self._key(job_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": expression_values(**values),
            "ReturnValues": "ALL_NEW",
        }
        if names:
            args["ExpressionAttributeNames"] = names
        try:
            return _shown(from_item(self._call("update_item", **args)["Attributes"]))
        except Exception as exc:
            if is_conditional_failure(exc):
                raise Conflict(
                    conflict or f"explanation job {job_id} moved on (another attempt or a final state)"
                ) from exc
            raise

    def restart(self, job_id: str, attempt: int) -> dict[str, Any]:
        """A failed or cancelled job submitted again: the next attempt starts from nothing."""
        return self._update(
            job_id,
            "SET attempt = :next, #s = :submitted, progress = :empty, updated_at = :now REMOVE #e, #r, "
            "execution_arn, finished_at, method_used, shards_total, rows_total, rows_reserved, rows_day",
            "attempt = :attempt AND #s IN (:failed, :cancelled)",
            names={"#s": "status", "#e": "error", "#r": "results"},
            conflict=f"explanation job {job_id} was restarted concurrently",
            next=attempt + 1,
            attempt=attempt,
            submitted="SUBMITTED",
            empty={},
            now=now_iso(),
            failed="FAILED",
            cancelled="CANCELLED",
        )

    def _live(self) -> str:
        return "attempt = :attempt AND NOT #s IN (:succeeded, :failed, :cancelled)"

    def _live_values(self, attempt: int) -> dict[str, Any]:
        return {"attempt": attempt, "succeeded": "SUCCEEDED", "failed": "FAILED", "cancelled": "CANCELLED"}

    def set_fields(self, job_id: str, attempt: int, **fields: Any) -> dict[str, Any]:
        """Sets fields of a live attempt (JSON fields are stored as text); status moves to RUNNING."""
        fields = {"status": "RUNNING", **fields, "updated_at": now_iso()}
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {
            f"v{i}": (_dumped(v) if name in JSON_FIELDS else v) for i, (name, v) in enumerate(fields.items())
        }
        names["#s"] = "status"
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        return self._update(job_id, expression, self._live(), names, **values, **self._live_values(attempt))

    def set_execution(self, job_id: str, attempt: int, execution_arn: str) -> dict[str, Any]:
        """Records the attempt's execution, whatever its steps have done meanwhile (even ended it)."""
        return self._update(
            job_id,
            "SET execution_arn = :arn",
            "attempt = :attempt",
            arn=execution_arn,
            attempt=attempt,
        )

    def shard_progress(self, job_id: str, attempt: int, shard: int, rows_done: int) -> None:
        """Rows done in one shard. A retried shard sets its count again instead of adding to it."""
        self._update(
            job_id,
            "SET progress.#shard = :n",
            self._live(),
            {"#shard": str(shard), "#s": "status"},
            n=rows_done,
            **self._live_values(attempt),
        )

    def finish(self, job_id: str, attempt: int, status: str, **fields: Any) -> dict[str, Any] | None:
        """Moves a live attempt to a final status; None if it already ended (a redelivered step)."""
        try:
            return self.set_fields(job_id, attempt, status=status, finished_at=now_iso(), **fields)
        except Conflict:
            return None

    def cancel(self, job_id: str) -> dict[str, Any]:
        """A job that has not ended becomes CANCELLED; a job that does not exist is not found (without
        attribute_exists the update would create it)."""
        self.get(job_id)
        return self._update(
            job_id,
            "SET #s = :cancelled, updated_at = :now, finished_at = :now",
            "attribute_exists(pk) AND NOT #s IN (:succeeded, :failed, :cancelled)",
            {"#s": "status"},
            conflict=f"explanation job {job_id} has already ended",
            cancelled="CANCELLED",
            succeeded="SUCCEEDED",
            failed="FAILED",
            now=now_iso(),
        )
