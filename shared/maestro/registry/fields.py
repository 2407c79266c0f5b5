"""MLflow's field rules and reply shapes that the registry's entities share: keys, tags, metric values,
view types and result limits. Must never accept a key that could escape a store key or an artifact path."""

from __future__ import annotations

import math
import re
from typing import Any

from maestro.core.errors import ValidationError
from maestro.core.fields import PARAM_VALUE_CHARS, TAG_KEY_CHARS, TAG_VALUE_CHARS

ACTIVE, DELETED = "active", "deleted"
RUN_STATUSES = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"}
LOGGED_MODEL_STATUSES = {"LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"}
VIEW_TYPES = {"ACTIVE_ONLY": {ACTIVE}, "DELETED_ONLY": {DELETED}, "ALL": {ACTIVE, DELETED}}
RUN_NAME_TAG = "mlflow.runName"
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
MODEL_URI = re.compile(r"^models:/(?P<model_id>m-[0-9a-f]{32})/?$")  # MLflow 3: a logged model as a source
# MLflow's limits, defined once with the stores' others
MAX_KEY_LENGTH, MAX_PARAM_LENGTH, MAX_TAG_LENGTH = TAG_KEY_CHARS, PARAM_VALUE_CHARS, TAG_VALUE_CHARS


def tags_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted((tags or {}).items())]


def tags_dict(tags: list[dict[str, Any]] | None, field: str = "tags") -> dict[str, str]:
    out: dict[str, str] = {}
    for i, tag in enumerate(tags or []):
        key = str(tag.get("key") or "")
        validate_key(key, f"{field}[{i}].key")
        value = "" if tag.get("value") is None else str(tag["value"])
        if len(value) > MAX_TAG_LENGTH:
            raise ValidationError(f"{field}[{i}].value", f"longer than {MAX_TAG_LENGTH} characters")
        out[key] = value
    return out


def validate_key(key: str, field: str) -> None:
    if not key:
        raise ValidationError(field, "must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(field, f"longer than {MAX_KEY_LENGTH} characters")
    if "#" in key or key.startswith("/") or ".." in key.split("/"):
        raise ValidationError(field, f"{key!r} may not contain '#', start with '/' or hold '..'")


def metric_value(value: Any, field: str) -> str:
    """Stored as text so NaN and ±inf survive (DynamoDB numbers cannot hold them)."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, f"{value!r} is not a number") from exc
    return repr(number)


def metric_json(key: str, value: str, timestamp: int, step: int) -> dict[str, Any]:
    number = float(value)
    shown: Any = (
        number
        if math.isfinite(number)
        else ("NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity"))
    )
    return {"key": key, "value": shown, "timestamp": timestamp, "step": step}


def limit(requested: int | None, default: int, maximum: int) -> int:
    if requested is None or int(requested) == 0:
        return default
    if not 1 <= int(requested) <= maximum:
        raise ValidationError("max_results", f"must be between 1 and {maximum}")
    return int(requested)


def tag_or_default(tags: dict[str, str] | None, key: str) -> str | None:
    # The mlflow client adds `tags.`mlflow.prompt.is_prompt` != 'true'` to every model search; like MLflow's
    # own store (SearchModelUtils), a model without the tag is not a prompt.
    return (tags or {}).get(key, "false" if key == IS_PROMPT_TAG else None)
