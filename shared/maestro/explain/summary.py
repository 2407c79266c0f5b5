"""What a finished job says at a glance, for the console and the CLI: its global importance (as stored)
and one row's local explanation from its SHAP values: the base value, each feature's contribution (largest
first) and the output they add up to. Must never answer for a job that has not SUCCEEDED, nor for a row it
did not explain."""

from __future__ import annotations

import csv
import io
from typing import Any

from maestro.core.errors import Conflict, ValidationError
from maestro.explain.files import JobFiles

MAX_ROWS_LISTED = 1000


def summary(job: dict[str, Any], files: JobFiles, row: int | None, output: int | None) -> dict[str, Any]:
    if job["status"] != "SUCCEEDED":
        raise Conflict(
            f"explanation job {job['job_id']} is {job['status']}; a summary exists once it SUCCEEDED"
        )
    importance = files.get_json("results/global_importance.json")
    header, *lines = list(csv.reader(io.StringIO(files.get("results/shap_values.csv").decode())))
    features = header[3:]
    # each line: (row, output) -> (expected value, each feature's SHAP value)
    table = {
        (int(float(x[0])), int(float(x[1]))): (float(x[2]), [float(v) for v in x[3:]]) for x in lines if x
    }
    rows = sorted({r for r, _ in table})
    outputs = sorted({o for _, o in table})
    row = rows[0] if row is None else row
    output = outputs[-1] if output is None else output  # a classifier's last class: the positive one
    if row not in rows:
        raise ValidationError("row", f"was not explained by this job; it explained rows {_ranges(rows)}")
    if output not in outputs:
        raise ValidationError("output", f"is not one of the job's outputs {outputs}")
    expected, values = table[(row, output)]
    ranked = sorted(zip(features, values, strict=True), key=lambda fv: -abs(fv[1]))
    contributions = [{"feature": f, "shap": v} for f, v in ranked]
    return {
        "job_id": job["job_id"],
        "model": job["model"],
        "global_importance": importance,
        "rows": rows[:MAX_ROWS_LISTED],
        "outputs": outputs,
        "local": {
            "row": row,
            "output": output,
            "expected_value": expected,
            "output_value": expected + sum(values),
            "contributions": contributions,
        },
    }


def _ranges(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:10])
    return shown + (f", ... ({len(rows)} rows)" if len(rows) > 10 else "")
