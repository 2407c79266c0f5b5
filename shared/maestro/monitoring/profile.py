"""Profiles: a reference's columns as distributions (the baseline of a model version), and a batch of
serving records folded into the same shapes. A column is numeric when every value it holds is a number,
else categorical; serving records are read with the baseline's kinds, so text in a numeric column counts as
invalid, never as a new kind. Must never keep a row: only each column's distribution."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from maestro.core.errors import ValidationError
from maestro.monitoring.distribution import CATEGORICAL, NUMERIC, Distribution, _number, is_missing
from maestro.monitoring.spec import MAX_COLUMNS, MAX_REFERENCE_ROWS, Record

Row = Mapping[str, Any]


def kind_of(values: Iterable[Any]) -> str:
    present = [v for v in values if not is_missing(v)]
    numeric = all(not isinstance(v, bool) and _number(v) is not None for v in present)
    return NUMERIC if present and numeric else CATEGORICAL


def profile(rows: Sequence[Row]) -> dict[str, Distribution]:
    """Every column of `rows` (a column missing from a row is a missing value)."""
    columns = sorted({c for row in rows for c in row})
    if len(columns) > MAX_COLUMNS:
        raise ValidationError("reference", f"{len(columns)} columns; at most {MAX_COLUMNS}")
    return {c: Distribution.of(kind_of(r.get(c) for r in rows), (r.get(c) for r in rows)) for c in columns}


def rows_from_csv(data: bytes, field: str) -> list[dict[str, Any]]:
    """A CSV file with a header line; a cell that reads as a number is one."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(field, "the file is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for row in reader:
        rows.append({k: _cell(v) for k, v in row.items() if k})
        if len(rows) > MAX_REFERENCE_ROWS:
            raise ValidationError(field, f"more than {MAX_REFERENCE_ROWS:,} rows; sample the reference")
    if not rows:
        raise ValidationError(field, "the file has no rows below its header")
    return rows


def _cell(value: str | None) -> Any:
    if value is None or value == "":
        return None
    number = _number(value)
    return value if number is None else number


def fold(records: list[Record], kinds: Mapping[str, str], prediction: str | None) -> dict[str, Distribution]:
    """The batch's distribution of each column the baseline knows (other columns are ignored: they have
    nothing to be compared with)."""
    columns = {c: Distribution(kind) for c, kind in kinds.items()}
    for record in records:
        values: dict[str, Any] = dict(record.features)
        if prediction:
            values[prediction] = record.prediction
        for column, distribution in columns.items():
            distribution.add(values.get(column))
    return columns
