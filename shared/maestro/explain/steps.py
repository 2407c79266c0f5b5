"""The explanation workflow's steps, one Lambda invocation each, run by the state machine:
prepare -> validate -> plan -> shard (in a Map) -> extras -> aggregate -> report -> complete, and fail
from every Catch. prepare and report run in the data function (pandas, fastparquet, matplotlib); the
others in the worker (shap, scikit-learn, skops, lime, xgboost, lightgbm). Each step reads the job from
its table and its inputs from S3, and writes its outputs back before returning: a retried step redoes its
own work and nothing else. Must never let a user-facing error carry a stack trace: ExplainError messages
are the reasons a failed job shows."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

from maestro.core import outcomes
from maestro.core.events import DomainEvent, publish_safely
from maestro.core.settings import get_settings
from maestro.core.workflow_gateway import failure_reason
from maestro.explain import rows as rows_quota
from maestro.explain.errors import ExplainError
from maestro.explain.files import JobFiles, JobRef
from maestro.explain.sources import ResolvedModel, S3Object, check_columns
from maestro.explain.spec import MAX_SELECTED_ROWS, MAX_SHARDS, ExplanationRequest
from maestro.explain.store import ExplainStore

PROGRESS_UPDATES_PER_SHARD = 10
SELECTED = "data/selected.npz"  # the rows to explain (X), their dataset row numbers, the target
POOL = "data/pool.npz"  # what the background is sampled or clustered from
BACKGROUND = "data/background.npz"  # the background the explainers use (with k-means weights)
VALUES = "data/values.npz"  # the aggregated values of the chosen outputs, for the report
_models: dict[str, Any] = {}  # per container: a warm worker loads a model version once


class Job:
    def __init__(self, ref: JobRef) -> None:
        settings = get_settings()
        self.ref = ref
        self.store = ExplainStore(settings.explain_table, ref.tenant)
        self.files = JobFiles(settings.artifacts_bucket, ref)
        self.item = self.store.get(ref.job_id)
        if int(self.item["attempt"]) != ref.attempt:
            raise StaleAttempt(f"job {ref.job_id} is at attempt {self.item['attempt']}, not {ref.attempt}")
        self.request = ExplanationRequest.model_validate(self.item["request"])
        self.model_ref = ResolvedModel.from_json(self.item["resolved"]["model"])

    def model(self) -> Any:
        from maestro.explain.models import load_model

        digest = self.model_ref.files["model"].sha256 or ""
        if digest not in _models:
            _models.clear()
            _models[digest] = load_model(self.ref.tenant, self.model_ref)
        return _models[digest]

    def arrays(self, name: str) -> dict[str, Any]:
        return self.files.get_arrays(name)

    @property
    def columns(self) -> list[str]:
        return list(self.item["columns"])


class StaleAttempt(Exception):
    """A step of an attempt that is no longer current (the job was resubmitted)."""


# -- prepare: dataset -> feature matrices -------------------------------------------------------------
def _frame(tenant: str, obj: S3Object, fmt: str) -> Any:
    import pandas as pd

    from maestro.core.object_store import Objects

    # the data the job was submitted with: its version
    body = Objects.of_tenant(obj.bucket, tenant).get(obj.key, version_id=obj.version_id)
    try:
        if fmt == "parquet":  # fastparquet's own reader: pandas deprecates its fastparquet engine
            import fastparquet

            return fastparquet.ParquetFile(io.BytesIO(body)).to_pandas()
        return pd.read_csv(io.BytesIO(body), compression="gzip" if obj.key.endswith(".gz") else None)
    except Exception as exc:
        raise ExplainError(f"s3://{obj.bucket}/{obj.key} is not a readable {fmt} file: {exc}") from exc


def _features(frame: Any, names: list[str], where: str) -> Any:
    import numpy as np
    import pandas as pd

    for name in names:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column):
            bad = column[pd.to_numeric(column, errors="coerce").isna() & column.notna()]
            example = f" (row {bad.index[0]}: {bad.iloc[0]!r})" if len(bad) else ""
            raise ExplainError(f"{where} column {name!r} is not numeric{example}")
    return frame[names].to_numpy(dtype=np.float64)


def prepare(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    req, resolved = job.request, job.item["resolved"]
    frame = _frame(job.ref.tenant, S3Object.from_json(resolved["dataset"]), resolved["dataset_format"])
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    features = job.model_ref.features
    try:
        check_columns(features, columns, req.dataset.target, "dataset")
    except Exception as exc:
        raise ExplainError(str(exc)) from exc
    names = features if isinstance(features, list) else [c for c in columns if c != req.dataset.target]
    everything = _features(frame, names, "dataset")
    if req.rows.indices is not None:
        selected = np.asarray(req.rows.indices, dtype=np.int64)
        if len(selected) and (int(np.min(selected)) < 0 or int(np.max(selected)) >= len(everything)):
            raise ExplainError(f"rows.indices must be between 0 and {len(everything) - 1}")
    else:
        stop = len(everything) if req.rows.stop is None else min(req.rows.stop, len(everything))
        selected = np.arange(req.rows.start, stop, dtype=np.int64)
    if len(selected) == 0:
        raise ExplainError(f"the selection has no rows (the dataset has {len(everything)})")
    if len(selected) > MAX_SELECTED_ROWS:
        raise ExplainError(f"{len(selected)} rows selected; at most {MAX_SELECTED_ROWS:,} per job")
    pool = everything
    if "background" in resolved:
        bg_frame = _frame(
            job.ref.tenant, S3Object.from_json(resolved["background"]), resolved["background_format"]
        )
        bg_frame.columns = [str(c) for c in bg_frame.columns]
        missing = [n for n in names if n not in bg_frame.columns]
        if missing:
            raise ExplainError(f"the background dataset lacks columns {missing}")
        pool = _features(bg_frame, names, "background")
    arrays = {"X": everything[selected], "rows": selected}
    if req.dataset.target is not None:
        arrays["y"] = frame[req.dataset.target].to_numpy()[selected]
        if arrays["y"].dtype == object:
            arrays["y"] = arrays["y"].astype(str)
    if job.item.get("rows_reserved") is None:  # once per attempt, whatever the retries
        day = rows_quota.reserve(job.ref.tenant, len(selected))
        job.item = job.store.set_fields(
            job.ref.job_id, job.ref.attempt, rows_reserved=len(selected), rows_day=day
        )
    # Apart: every shard reads the selected rows; only validate reads the pool the background comes from.
    job.files.put_arrays(SELECTED, **arrays)
    job.files.put_arrays(POOL, pool=pool)
    job.store.set_fields(job.ref.job_id, job.ref.attempt, rows_total=len(selected), columns=names)
    return {"rows": len(selected), "features": len(names)}


# -- validate: the model against the data; the method; the background ---------------------------------
def validate(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    from maestro.explain import compute

    req = job.request
    model = job.model()
    data = job.arrays(SELECTED)
    expected = compute.n_features(model)
    if expected is not None and expected != len(job.columns):
        raise ExplainError(f"the model takes {expected} features but the dataset gives {len(job.columns)}")
    method = compute.choose_method(model, req.method)
    pool = job.arrays(POOL)["pool"]
    bg, weights = compute.background(pool, req.background.strategy, req.background.size, req.seed)
    try:
        values, _ = compute.explain_rows(model, method, data["X"][:1], bg, req.seed, req.nsamples, weights)
    except ExplainError:
        raise
    except Exception as exc:
        raise ExplainError(
            f"the model cannot be explained on this data: {type(exc).__name__}: {exc}"
        ) from exc
    outputs = values.shape[2]
    chosen = req.outputs if req.outputs is not None else list(range(outputs))
    bad = [o for o in chosen if not 0 <= o < outputs]
    if bad:
        raise ExplainError(f"outputs {bad} do not exist; the {method} explanation has {outputs} output(s)")
    positions = [*req.lime_rows, *(req.waterfall_rows or [])]
    out_of_range = [p for p in positions if not 0 <= p < len(data["X"])]
    if out_of_range:
        raise ExplainError(f"rows {out_of_range} are not positions in the {len(data['X'])} selected rows")
    job.files.put_arrays(BACKGROUND, background=bg, **({} if weights is None else {"weights": weights}))
    job.store.set_fields(job.ref.job_id, job.ref.attempt, method_used=method, outputs=chosen)
    return {"method": method, "outputs": chosen}


# -- plan: shards of rows ------------------------------------------------------------------------------
def plan(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    rows = int(job.item["rows_total"])
    count = job.request.shards or math.ceil(rows / job.request.shard_rows)
    count = max(1, min(count, rows, MAX_SHARDS))
    size = math.ceil(rows / count)
    shards = [
        {"index": i, "start": s, "stop": min(s + size, rows)} for i, s in enumerate(range(0, rows, size))
    ]
    job.store.set_fields(job.ref.job_id, job.ref.attempt, shards_total=len(shards))
    return {"shards": shards}


# -- shard: explain its rows, showing progress ----------------------------------------------------------
def shard(job: Job, event: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from maestro.explain import compute

    part = event["shard"]
    start, stop, index = int(part["start"]), int(part["stop"]), int(part["index"])
    req = job.request
    model = job.model()
    rows = job.arrays(SELECTED)["X"][start:stop]
    background = job.arrays(BACKGROUND)
    step = max(1, math.ceil(len(rows) / PROGRESS_UPDATES_PER_SHARD))
    values, expected = [], None
    for offset in range(0, len(rows), step):
        chunk_values, expected = compute.explain_rows(
            model,
            job.item["method_used"],
            rows[offset : offset + step],
            background["background"],
            req.seed + start + offset,
            req.nsamples,
            background.get("weights"),
        )
        values.append(chunk_values)
        job.store.shard_progress(job.ref.job_id, job.ref.attempt, index, offset + len(chunk_values))
    job.files.put_arrays(f"shards/{index:05d}.npz", values=np.concatenate(values), expected=expected)
    return {"shard": index, "rows": len(rows)}


# -- extras: LIME for chosen rows, permutation importance with a target ---------------------------------
def extras(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    from maestro.explain import compute

    req = job.request
    data = job.arrays(SELECTED)
    bg = job.arrays(BACKGROUND)["background"]
    written = {}
    if req.lime_rows:
        model = job.model()
        lime = compute.lime_report(model, data["X"], req.lime_rows, bg, job.columns, req.seed, req.nsamples)
        written["lime"] = job.files.put_json("results/lime.json", lime)
    if "y" in data:
        importance = compute.permutation_importance(job.model(), data["X"], data["y"], job.columns, req.seed)
        written["permutation_importance"] = job.files.put_json(
            "results/permutation_importance.json", importance
        )
    return {"written": sorted(written)}


# -- aggregate: per-row values and global importance ----------------------------------------------------
def aggregate(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from maestro.explain import compute

    shards = [job.arrays(f"shards/{i:05d}.npz") for i in range(int(job.item["shards_total"]))]
    outputs = list(job.item["outputs"])
    values = np.concatenate([s["values"] for s in shards])[:, :, outputs]
    expected = shards[0]["expected"][outputs]
    data = job.arrays(SELECTED)
    names = job.columns
    summary = compute.global_importance(values, expected, names, job.request.aggregation)
    for entry, output in zip(summary["outputs"], outputs, strict=True):
        entry["output"] = output
    summary["method"] = job.item["method_used"]
    job.files.put_json("results/global_importance.json", summary)
    job.files.put(
        "results/shap_values.csv", _values_csv(values, expected, data["rows"], outputs, names), "text/csv"
    )
    job.files.put_arrays(VALUES, values=values, expected=expected)
    return {"rows": int(values.shape[0]), "outputs": outputs}


def _values_csv(values: Any, expected: Any, rows: Any, outputs: list[int], names: list[str]) -> bytes:
    """One line per explained row and output: the dataset row number, the output, its expected value (the
    base value) and each feature's SHAP value; expected_value + sum(values) is the model's output."""
    import numpy as np

    n, f, k = values.shape
    table = np.empty((n * k, 3 + f))
    for j in range(k):
        block = slice(j * n, (j + 1) * n)
        table[block, 0] = rows
        table[block, 1] = outputs[j]
        table[block, 2] = expected[j]
        table[block, 3:] = values[:, :, j]
    order = np.lexsort((table[:, 1], table[:, 0]))
    buffer = io.StringIO()
    header = ",".join(["row", "output", "expected_value", *(_csv_name(n) for n in names)])
    np.savetxt(
        buffer,
        table[order],
        delimiter=",",
        header=header,
        comments="",
        fmt=["%d", "%d", "%.17g"] + ["%.17g"] * f,
    )
    return buffer.getvalue().encode()


def _csv_name(name: str) -> str:
    return f'"{name}"' if any(c in name for c in ',"\n') else name


# -- report (the data function: matplotlib without shap's stack) -----------------------------------------
def report(job: Job, _event: dict[str, Any]) -> dict[str, Any]:
    from maestro.explain.report import render

    data, selected = job.arrays(VALUES), job.arrays(SELECTED)
    optional = {
        name: job.files.get_json(RESULT_FILES[name]) if job.files.exists(RESULT_FILES[name]) else None
        for name in ("lime", "permutation_importance")
    }
    page, pngs = render(
        job.item,
        job.files.get_json(RESULT_FILES["global_importance"]),
        data["values"],
        data["expected"],
        selected["X"],
        selected["rows"],
        optional["lime"],
        optional["permutation_importance"],
    )
    job.files.put(RESULT_FILES["report"], page.encode(), "text/html; charset=utf-8")
    for name, png in pngs.items():
        job.files.put(f"report/{name}", png, "image/png")
    return {"plots": sorted(pngs)}


# -- complete / fail ------------------------------------------------------------------------------------
RESULT_FILES = {
    "shap_values": "results/shap_values.csv",
    "global_importance": "results/global_importance.json",
    "lime": "results/lime.json",
    "permutation_importance": "results/permutation_importance.json",
    "report": "report/report.html",
}


def _event(job: Job, detail_type: str, **detail: Any) -> None:
    publish_safely(
        DomainEvent(
            "explain",
            detail_type,
            job.ref.tenant,
            {"job_id": job.ref.job_id, "attempt": job.ref.attempt, **detail},
            principal=job.item.get("principal"),
            correlation_id=job.ref.job_id,
        )
    )


def complete(job: Job, _event_in: dict[str, Any]) -> dict[str, Any]:
    results = {name: job.files.key(path) for name, path in RESULT_FILES.items() if job.files.exists(path)}
    if job.store.finish(job.ref.job_id, job.ref.attempt, "SUCCEEDED", results=results) is not None:
        rows_quota.meter(job.ref.tenant, int(job.item.get("rows_total") or 0))
        _event(
            job,
            "ExplanationCompleted",
            model={"name": job.model_ref.name, "version": job.model_ref.version},
            method=job.item.get("method_used"),
            rows=job.item.get("rows_total"),
            results=results,
        )
    return {"status": "SUCCEEDED"}


def reason_of(error: dict[str, Any]) -> dict[str, str]:
    """A failed step's reason: ExplainError messages are written for the user."""
    return failure_reason(error, plain=("ExplainError",))


def fail(job: Job, event: dict[str, Any]) -> dict[str, Any]:
    error = reason_of(event.get("error") or {})
    if (ended := job.store.finish(job.ref.job_id, job.ref.attempt, "FAILED", error=error)) is not None:
        rows_quota.release(job.ref.tenant, ended)
        _event(
            job,
            "ExplanationFailed",
            model={"name": job.model_ref.name, "version": job.model_ref.version},
            **error,
        )
    return {"status": "FAILED", **error}


Step = Callable[[Job, dict[str, Any]], dict[str, Any]]
STEPS: dict[str, Step] = {
    "validate": validate,
    "plan": plan,
    "shard": shard,
    "extras": extras,
    "aggregate": aggregate,
    "complete": complete,
    "fail": fail,
}


DATA_STEPS: dict[str, Step] = {"prepare": prepare, "report": report}


def run(event: dict[str, Any], steps: dict[str, Step] = STEPS) -> dict[str, Any]:
    step = steps.get(event.get("step", ""))
    if step is None:
        raise ValueError(f"unknown step {event.get('step')!r}")
    ref = JobRef.from_event(event)
    outcomes.attribute(ref.tenant, "explain", "job")  # the step's compute is the tenant's
    try:
        job = Job(ref)
    except StaleAttempt as exc:
        return {"skipped": str(exc)}
    return step(job, event)
