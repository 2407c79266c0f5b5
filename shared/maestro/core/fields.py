"""The limits every identifier, name, key and text the API takes shares, defined once, so that nothing
DynamoDB or S3 would reject ever reaches a store. Must never hold a capability's rules: only the stores'.

The arithmetic (DynamoDB: partition key <= 2,048 bytes, sort key <= 1,024 bytes, item <= 400 KB; S3: object
key <= 1,024 bytes): a key we build puts at most ~150 bytes of tenant id, capability and kind before a
caller's value, and one character is at most 4 UTF-8 bytes, so a value of at most 200 characters fits any sort
key, and two of them fit a partition key. What no store can keep anywhere in a body (lone surrogates from a
JSON "\\ud800" escape, NaN, numbers beyond DynamoDB's range) is refused for the whole body at the door
(core.api).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
ITEM_BYTES = 400 * 1024
S3_KEY_BYTES = 1024

KEY_CHARS = 200  # (SORT_KEY_BYTES - prefix) / 4 bytes a character, rounded down
TAG_KEY_CHARS = 250  # MLflow's own limit on tag, param and metric keys
PARAM_VALUE_CHARS = 6000  # MLflow's limit on a param value
TAG_VALUE_CHARS = 8000  # MLflow's limit on a tag value
TEXT_CHARS = 20_000  # free text (descriptions, reasons): well inside an item
PATH_CHARS = 250  # an artifact path under a tenant's prefix: S3_KEY_BYTES / 4, less the prefix

# A value that becomes (part of) a DynamoDB or S3 key: an id, a name, an alias, a version.
Key = Annotated[str, Field(min_length=1, max_length=KEY_CHARS)]
OptionalKey = Annotated[str | None, Field(default=None, min_length=1, max_length=KEY_CHARS)]
TagKey = Annotated[str, Field(min_length=1, max_length=TAG_KEY_CHARS)]
TagValue = Annotated[str, Field(max_length=TAG_VALUE_CHARS)]
ParamValue = Annotated[str, Field(max_length=PARAM_VALUE_CHARS)]
Text = Annotated[str, Field(max_length=TEXT_CHARS)]
# Control characters have no place in an S3 key: S3's XML listings cannot carry most of them.
ArtifactPath = Annotated[str, Field(max_length=PATH_CHARS, pattern=r"^[^\x00-\x1f\x7f]*$")]


# Moments and days far enough from datetime's own bounds that a window around them (7 days before, 366 after)
# and an epoch conversion never overflow.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _within_range(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a naive moment is UTC
    if not EARLIEST <= aware < LATEST:
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d} (UTC)")
    return aware


def _day_within_range(day: date) -> date:
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d}")
    return day


Moment = Annotated[datetime, AfterValidator(_within_range)]  # always timezone-aware once validated
Day = Annotated[date, AfterValidator(_day_within_range)]

# DynamoDB's numbers: 38 significant digits, magnitudes from 1E-130 to 9.9E+125.
NUMBER_DIGITS = 38
NUMBER_MAX = 9.9e125
NUMBER_MIN = 1e-130


def unstorable_at(value: Any, where: str = "body") -> tuple[str, str] | None:
    """Where (dotted path) and why a parsed JSON value holds something no store could keep: a string or object
    key that is not valid UTF-8 (a lone surrogate), NaN or Infinity, or a number DynamoDB cannot represent.
    None when everything fits."""
    if isinstance(value, str):
        return None if _encodes(value) else (where, "is not valid UTF-8 (a lone surrogate)")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (
            None
            if len(str(abs(value))) <= NUMBER_DIGITS
            else (where, f"has more than {NUMBER_DIGITS} digits")
        )
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return where, "is not a finite number"
        if value and not NUMBER_MIN <= abs(value) <= NUMBER_MAX:
            return where, f"is outside the storable range ({NUMBER_MIN:g} to {NUMBER_MAX:g} in magnitude)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(str(key)):
                return where, "has a key that is not valid UTF-8 (a lone surrogate)"
            if found := unstorable_at(item, f"{where}.{key}"):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := unstorable_at(item, f"{where}.{index}"):
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
