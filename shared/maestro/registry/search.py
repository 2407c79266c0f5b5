"""MLflow's search grammar: filter strings (`metrics.acc > 0.9 and tags.team = 'ml'`), order_by clauses and
page tokens, evaluated over domain records. Must never evaluate anything but the grammar (no eval, no SQL)."""

from __future__ import annotations

import base64
import fnmatch
import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from maestro.core.errors import ValidationError

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)
      | (?P<ident>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|"[^"]+"|[\w.\-/]+))
    )""",
    re.VERBOSE,
)
ENTITY_ALIASES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
    "dataset": "datasets",
    "datasets": "datasets",
}
STRING_OPS = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class Clause:
    kind: str  # metrics | params | tags | attributes | datasets
    key: str
    op: str
    value: Any  # str, float, or tuple of str for IN


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _identifier(token: str, default_kind: str) -> tuple[str, str]:
    if "." in token and not token.startswith(("`", '"')):
        prefix, rest = token.split(".", 1)
        kind = ENTITY_ALIASES.get(prefix.lower())
        if kind:
            return kind, _unquote(rest)
    return default_kind, _unquote(token)


def parse_filter(text: str | None, *, default_kind: str = "attributes") -> list[Clause]:
    """A conjunction of comparisons (MLflow supports AND only)."""
    if not text or not text.strip():
        return []
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValidationError("filter", f"cannot parse near {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    clauses: list[Clause] = []
    i = 0

    def need(index: int) -> tuple[str, str]:
        if index >= len(tokens):
            raise ValidationError("filter", f"incomplete expression: {text!r}")
        return tokens[index]

    while i < len(tokens):
        kind, token = need(i)
        if kind != "ident":
            raise ValidationError("filter", f"expected an identifier, found {token!r}")
        entity, key = _identifier(token, default_kind)
        i += 1
        kind, token = need(i)
        op = token.upper()
        if kind == "ident" and op == "NOT":
            i += 1
            _, nxt = need(i)
            if nxt.upper() != "IN":
                raise ValidationError("filter", f"expected IN after NOT, found {nxt!r}")
            op = "NOT IN"
        elif kind == "ident" and op == "IS":
            i += 1
            _, nxt = need(i)
            negate = nxt.upper() == "NOT"
            if negate:
                i += 1
                _, nxt = need(i)
            if nxt.upper() != "NULL":
                raise ValidationError("filter", "expected NULL after IS")
            clauses.append(Clause(entity, key, "IS NOT NULL" if negate else "IS NULL", None))
            i += 1
            i = _expect_and(tokens, i, text)
            continue
        elif not (kind == "op" or op in ("LIKE", "ILIKE", "IN")):
            raise ValidationError("filter", f"expected a comparator after {key!r}, found {token!r}")
        i += 1
        if op in ("IN", "NOT IN"):
            kind, token = need(i)
            if kind != "lparen":
                raise ValidationError("filter", "IN needs a parenthesised list")
            values: list[str] = []
            i += 1
            while True:
                kind, token = need(i)
                if kind not in ("string", "number"):
                    raise ValidationError("filter", f"IN list holds literals, found {token!r}")
                values.append(_unquote(token))
                i += 1
                kind, token = need(i)
                i += 1
                if kind == "rparen":
                    break
                if kind != "comma":
                    raise ValidationError("filter", "IN list items are separated by commas")
            clauses.append(Clause(entity, key, op, tuple(values)))
        else:
            kind, token = need(i)
            if kind == "string":
                value: Any = _unquote(token)
            elif kind == "number":
                value = float(token)
            else:
                raise ValidationError("filter", f"expected a quoted string or a number, found {token!r}")
            if entity == "metrics" and op not in NUMERIC_OPS:
                raise ValidationError("filter", f"metrics compare with {sorted(NUMERIC_OPS)}, not {op}")
            if entity in ("params", "tags") and op not in STRING_OPS:
                raise ValidationError("filter", f"{entity} compare with {sorted(STRING_OPS)}, not {op}")
            clauses.append(Clause(entity, key, op, value))
            i += 1
        i = _expect_and(tokens, i, text)
    return clauses


def _expect_and(tokens: list[tuple[str, str]], i: int, text: str) -> int:
    if i < len(tokens):
        _, token = tokens[i]
        if token.upper() != "AND":
            raise ValidationError("filter", f"clauses join with AND (OR is not supported): {text!r}")
        return i + 1
    return i


def _like(value: str, pattern: str, case_sensitive: bool) -> bool:
    glob = "".join(
        "*" if c == "%" else "?" if c == "_" else "[" + c + "]" if c in "[]*?" else c for c in pattern
    )
    if not case_sensitive:
        return fnmatch.fnmatchcase(value.lower(), glob.lower())
    return fnmatch.fnmatchcase(value, glob)


def compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return False  # MLflow: a run without the key does not match (even for !=)
    if op in ("IN", "NOT IN"):
        return (str(actual) in expected) == (op == "IN")
    if op in ("LIKE", "ILIKE"):
        return _like(str(actual), str(expected), op == "LIKE")
    if isinstance(expected, float):
        try:
            left: Any = float(actual)
        except (TypeError, ValueError):
            return False
        if math.isnan(left):
            return False
    else:
        left = str(actual)
    return {
        "=": left == expected,
        "!=": left != expected,
        "<": left < expected,
        "<=": left <= expected,
        ">": left > expected,
        ">=": left >= expected,
    }[op]


Lookup = Callable[[Any, Clause], Any]


def matches(record: Any, clauses: Sequence[Clause], lookup: Lookup) -> bool:
    return all(compare(lookup(record, c), c.op, c.value) for c in clauses)


@dataclass(frozen=True)
class Request:
    """A model registry search as MLflow's client sends it: filter, page size, ordering and page."""

    filter_string: str | None = None
    max_results: int | None = None
    order_by: list[str] | None = None
    page_token: str | None = None


def record_lookup(
    renames: dict[str, str] | None = None, tag: Callable[[dict[str, str], str], Any] | None = None
) -> Lookup:
    """The lookup of a record that keeps `tags` and `params` as maps and its attributes by name (`renames`
    maps a filter's name to the record's); `tag` reads a tag where a missing one has a default."""

    def lookup(record: dict[str, Any], c: Any) -> Any:
        if c.kind in ("tags", "params"):
            values = record.get(c.kind) or {}
            return tag(values, c.key) if tag and c.kind == "tags" else values.get(c.key)
        return record.get((renames or {}).get(c.key, c.key))

    return lookup


@dataclass(frozen=True)
class OrderBy:
    kind: str
    key: str
    ascending: bool


def parse_order_by(clauses: Sequence[str] | None, *, default_kind: str = "attributes") -> list[OrderBy]:
    out = []
    for clause in clauses or []:
        parts = clause.strip().rsplit(None, 1)
        ascending = True
        if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
            ascending = parts[1].upper() == "ASC"
            target = parts[0]
        else:
            target = clause.strip()
        if not target:
            raise ValidationError("order_by", f"empty order_by clause {clause!r}")
        kind, key = _identifier(target, default_kind)
        out.append(OrderBy(kind, key, ascending))
    return out


def sort_records(
    records: list[Any],
    order: Sequence[OrderBy],
    lookup: Callable[[Any, OrderBy], Any],
    tiebreak: Callable[[Any], Any],
) -> list[Any]:
    """Stable multi-key sort; records missing a key sort last whatever the direction (as MLflow does)."""
    result = sorted(records, key=tiebreak)
    for spec in reversed(order):
        present = [r for r in result if lookup(r, spec) is not None]
        missing = [r for r in result if lookup(r, spec) is None]
        present.sort(key=functools.partial(_sort_key, lookup, spec), reverse=not spec.ascending)
        result = present + missing
    return result


def _sort_key(lookup: Callable[[Any, OrderBy], Any], spec: OrderBy, record: Any) -> tuple[int, Any]:
    return _sortable(lookup(record, spec))


def _sortable(value: Any) -> tuple[int, Any]:
    if isinstance(value, int | float):
        return (0, value)
    try:
        return (0, float(value))
    except (TypeError, ValueError):
        return (1, str(value))


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError("page_token", "invalid page token") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError("page_token", "invalid page token")
    return offset


def page(records: list[Any], token: str | None, max_results: int) -> tuple[list[Any], str | None]:
    start = decode_page_token(token)
    chunk = records[start : start + max_results]
    nxt = encode_page_token(start + max_results) if start + max_results < len(records) else None
    return chunk, nxt


def select(
    records: Iterable[Any],
    clauses: Sequence[Clause],
    order: Sequence[OrderBy],
    lookup: Callable[[Any, Any], Any],
    tiebreak: Callable[[Any], Any],
    page_token: str | None,
    max_results: int,
) -> tuple[list[Any], str | None]:
    """The search pipeline every MLflow search shares: filter, sort (missing values last), page."""
    kept = [r for r in records if matches(r, clauses, lookup)]
    return page(sort_records(kept, order, lookup, tiebreak), page_token, max_results)
