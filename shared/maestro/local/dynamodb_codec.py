"""Local mode's DynamoDB wire codec. moto reads every request and writes every response by walking botocore's
shapes through a general attribute picker (aliases, snake_case, transformers) that costs about a millisecond
per stored item; a batch read of 100 A/B units spent more time there than in the database. For DynamoDB's
JSON protocol this module compiles each shape once into a plain function that does what moto's walk does for
plain dicts and lists. Must never answer differently from moto: anything it does not handle exactly (a
timestamp, an object instead of a dict, an unknown key, an error) goes through moto's own code."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from enum import Enum
from typing import Any

from botocore import xform_name

Convert = Callable[[Any], Any]
_SKIP = object()  # a member, map value or list item that moto leaves out (or keeps raw)


class NeedsMoto(Exception):
    """This value needs moto's own walk."""


def _compiled(cache: dict[str, Convert], shape: Any, build: Callable[[Any], Convert]) -> Convert:
    """One function per shape of one service, built once; a recursive shape (AttributeValue within M and L)
    reaches itself through the cache while it is being built."""
    name = f"{shape.type_name}:{shape.name}"
    if name not in cache:
        cache[name] = lambda value: cache[name](value)
        cache[name] = build(shape)
    return cache[name]


def _unsupported(what: str) -> Convert:
    def refuse(value: Any) -> Any:
        raise NeedsMoto(what)

    return refuse


def _aliased(shape: Any) -> bool:
    """Whether moto's attribute picker could find a member of this structure under another key of a dict: a
    serialization name, a snake_case name that is another member's, or the `dict` class-prefix alias."""
    names = set(shape.members)
    return any(
        member.serialization.get("name", name) != name
        or (xform_name(name) != name and xform_name(name) in names)
        or name.lower().startswith("dict")
        for name, member in shape.members.items()
    )


# -- responses: what moto's JSONSerializer writes ----------------------------------------------------------
_WRITERS: dict[str, Convert] = {}  # DynamoDB's shapes (shape names are unique within a service)


def _writer(shape: Any) -> Convert:
    return _compiled(_WRITERS, shape, _build_writer)


def _build_writer(shape: Any) -> Convert:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type or _aliased(shape):
            return _unsupported(shape.name)
        members = {name: _writer(member) for name, member in shape.members.items()}
        member_names = frozenset(members)

        def structure(value: Any) -> Any:
            if value is None:
                return _SKIP
            if type(value) is not dict or not member_names.issuperset(value):
                raise NeedsMoto(shape.name)  # aliases, objects and unknown keys: moto decides
            out = {}
            for name, write in members.items():
                member = value.get(name)
                if member is not None:
                    written = write(member)
                    if written is not _SKIP:
                        out[name] = written
            return out

        return structure
    if kind == "list":
        if shape.member.serialization.get("name"):
            return _unsupported(shape.name)
        write_member = _writer(shape.member)

        def as_list(value: Any) -> Any:
            return [item if (w := write_member(item)) is _SKIP else w for item in value]

        return as_list
    if kind == "map":
        if shape.value.serialization.get("name"):
            return _unsupported(shape.name)
        write_value = _writer(shape.value)

        def as_map(value: Any) -> Any:
            if type(value) is not dict or "" in value:  # moto writes an entry keyed "" into the map itself
                raise NeedsMoto(shape.name)
            return {k: w for k, v in value.items() if (w := write_value(v)) is not _SKIP}

        return as_map
    if kind == "string":

        def string(value: Any) -> Any:
            if value is None:
                raise NeedsMoto(shape.name)
            if isinstance(value, Enum):
                value = value.value
            return str(value) if value not in (None, {}, []) else value

        return string
    if kind == "blob":

        def blob(value: Any) -> Any:
            raw = value.encode("utf-8") if isinstance(value, str) else value
            return base64.b64encode(raw).strip().decode("utf-8")

        return blob
    if kind in ("integer", "long"):
        return int
    if kind in ("float", "double"):
        return float
    if kind == "boolean":
        return _same
    return _unsupported(f"{kind} {shape.name}")  # timestamps: DynamoDB's data plane never answers one


def _same(value: Any) -> Any:
    if value is None:
        raise NeedsMoto("None")
    return value


def write_response(operation_model: Any, result: Any, indent: int | None) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) as moto's JSONSerializer makes them for a result; raises NeedsMoto."""
    shape = operation_model.output_shape
    body = {} if shape is None else _writer(shape)(result)
    if body is _SKIP:
        body = {}
    version = operation_model.service_model.metadata.get("jsonVersion", "1.0")
    headers = {"Content-Type": f"application/x-amz-json-{version}"}
    return operation_model.http.get("responseCode", 200), headers, json.dumps(body, indent=indent)


# -- requests: what moto's JSONParser reads ------------------------------------------------------------------
_READERS: dict[str, Convert] = {}  # DynamoDB's shapes


def _reader(shape: Any) -> Convert:
    return _compiled(_READERS, shape, _build_reader)


def _build_reader(shape: Any) -> Convert:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return _unsupported(shape.name)
        members = [
            (name, member.serialization.get("name", name), _reader(member))
            for name, member in shape.members.items()
        ]

        def structure(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not dict:
                raise NeedsMoto(shape.name)
            out = {}
            for name, wire_name, read in members:
                raw = value.get(wire_name)
                if raw is not None:
                    out[name] = read(raw)
            return out

        return structure
    if kind == "list":
        read_member = _reader(shape.member)

        def as_list(value: Any) -> Any:
            if type(value) is not list:
                raise NeedsMoto(shape.name)
            return [read_member(item) for item in value]

        return as_list
    if kind == "map":
        read_value = _reader(shape.value)

        def as_map(value: Any) -> Any:
            if type(value) is not dict:
                raise NeedsMoto(shape.name)
            return {k: read_value(v) for k, v in value.items()}

        return as_map
    if kind == "blob":

        def blob(value: Any) -> Any:
            try:
                return base64.b64decode(value)
            except (binascii.Error, TypeError, ValueError) as exc:
                raise NeedsMoto(shape.name) from exc  # moto's own error, whatever it is

        return blob
    if kind in ("integer", "long"):
        return _number(int, shape.name)
    if kind in ("float", "double"):
        return _number(float, shape.name)
    if kind in ("string", "boolean"):
        return _as_is
    return _unsupported(f"{kind} {shape.name}")  # timestamps: DynamoDB's data plane never reads one


def _number(kind: Callable[[Any], Any], what: str) -> Convert:
    def number(value: Any) -> Any:
        try:
            return kind(value)
        except (TypeError, ValueError) as exc:
            raise NeedsMoto(what) from exc  # moto's own error, whatever it is

    return number


def _as_is(value: Any) -> Any:
    return value


def read_request(operation_model: Any, body: bytes) -> dict[str, Any]:
    """The parameters moto's JSONParser would parse from this body; raises NeedsMoto."""
    shape = operation_model.input_shape
    if shape is None:
        return {}
    if not body:
        raise NeedsMoto("empty body")
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NeedsMoto("not JSON") from exc
    return _reader(shape)(parsed)


def plain_json_for_dynamodb() -> None:
    """Patches moto's DynamoDB handler once per process."""
    from moto import settings
    from moto.core.responses import ActionResult, get_service_model
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.serialized, "_maestro_patched", False):
        return
    moto_serialized, moto_parse = DynamoHandler.serialized, DynamoHandler.parse_parameters

    def serialized(self: Any, action_result: ActionResult) -> Any:
        if isinstance(action_result.result, Exception) or self.RESPONSE_KEY_PATH_TO_TRANSFORMER:
            return moto_serialized(self, action_result)
        try:
            operation = get_service_model(self.boto3_service_name).operation_model(self._get_action())
            status, headers, body = write_response(
                operation, action_result.result, 4 if settings.PRETTIFY_RESPONSES else None
            )
        except NeedsMoto:
            return moto_serialized(self, action_result)
        headers.update(self.response_headers)
        return status, headers, body

    def parse_parameters(self: Any, request: Any) -> None:
        if not request.content_type.startswith("application/x-amz-json"):
            return moto_parse(self, request)
        try:
            operation = get_service_model(self.boto3_service_name).operation_model(self._get_action())
            self.params = read_request(operation, request.data)
        except NeedsMoto:
            moto_parse(self, request)
        return None

    serialized._maestro_patched = True  # type: ignore[attr-defined]
    DynamoHandler.serialized = serialized  # type: ignore[method-assign]
    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
