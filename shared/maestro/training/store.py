"""DynamoDB access for training jobs: one item per job (its request, status, progress, metrics so far, the
run it logs into, its model and its error), listed newest first through gsi1. A job counts against the
tenant's training_jobs_concurrent quota from submission until it ends: the count moves in the same
transaction as the job's first and last writes. Must never let a step move a job that has ended, nor
release its quota twice: every change is conditional on a live status."""

from __future__ import annotations

from typing import Any

from maestro.core.dynamo_store import (
    TenantTable,
    cancellation_reasons,
    expression_values,
    is_conditional_failure,
)
from maestro.core.errors import Conflict, NotFound
from maestro.core.submissions import now_iso, shown
from maestro.core.submissions import numbers as _numbers
from maestro.tenants.counters import Counter

LIVE = ("SUBMITTED", "RUNNING")
FINAL = ("SUCCEEDED", "FAILED", "STOPPED")
QUOTA = "training_jobs_concurrent"


class TrainingStore(TenantTable):
    capability = "TRAIN"

    def _pk(self, job_id: str) -> str:
        return self.k("JOB", job_id)

    def create(self, job: dict[str, Any], quota: Counter) -> None:
        """The new job and one more running job on the tenant's quota, together (QuotaExceeded: neither)."""
        item = {
            **_numbers(job),
            "pk": self._pk(job["job_id"]),
            "sk": "JOB",
            "gsi1pk": self.k("JOBS"),
            "gsi1sk": f"{job['created_at']}#{job['job_id']}",
        }
        try:
            self._transact([self.put_op(item, "attribute_not_exists(pk)"), quota.op(+1)])
        except Exception as exc:
            quota.raise_if_refused(exc, 1)
            if "ConditionalCheckFailed" in cancellation_reasons(exc)[:1]:
                raise Conflict(f"training job {job['job_id']} exists already") from exc
            raise

    def get(self, job_id: str) -> dict[str, Any]:
        found = self.item(self._pk(job_id), "JOB")
        if found is None:
            raise NotFound(f"training job {job_id} does not exist")
        return shown(found)

    def page(
        self, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Any]:
        items, cursor = self.newest_first(self.k("JOBS"), limit, cursor, status)
        return [shown(i) for i in items], cursor

    def live(self) -> list[dict[str, Any]]:
        """The tenant's jobs that have not ended."""
        jobs = []
        for status in LIVE:
            cursor = None
            while True:
                page, cursor = self.page(status, 100, cursor)
                jobs += page
                if cursor is None:
                    break
        return jobs

    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        """Sets fields of a job that has not ended (Conflict once it has)."""
        fields = {**_numbers(fields), "updated_at": now_iso()}
        names = {f"#f{i}": name for i, name in enumerate(fields)} | {"#s": "status"}
        values = {f"v{i}": v for i, v in enumerate(fields.values())} | {"live0": LIVE[0], "live1": LIVE[1]}
        try:
            return shown(
                self.update_item(
                    self._pk(job_id),
                    "JOB",
                    "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                    names=names,
                    values=values,
                    condition="#s IN (:live0, :live1)",
                )
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                self.get(job_id)  # NotFound when there is no such job
                raise Conflict(f"training job {job_id} has ended") from exc
            raise

    def finish(self, job_id: str, status: str, quota: Counter, **fields: Any) -> bool:
        """Ends a live job with `status` and gives its quota back, together; False if it had ended already."""
        assert status in FINAL, status
        fields = {**_numbers(fields), "status": status, "updated_at": now_iso(), "finished_at": now_iso()}
        names = {f"#f{i}": name for i, name in enumerate(fields)} | {"#s": "status"}
        values = {f"v{i}": v for i, v in enumerate(fields.values())} | {"live0": LIVE[0], "live1": LIVE[1]}
        update = {
            "Update": {
                "TableName": self.table,
                "Key": self.key(self._pk(job_id), "JOB"),
                "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                "ConditionExpression": "#s IN (:live0, :live1)",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": expression_values(**values),
            }
        }
        try:
            self._transact([update, quota.op(-1)])
        except Exception as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc)[:1]:
                return False
            raise
        return True
