"""Where a job's model and data come from: a registered model version resolved to its MLflow model
directory in the registry's artifacts, with the checksum of each file the worker will read, and datasets
inside the tenant's prefix. Must never point at anything outside the tenant's registry artifacts: the
worker unpickles only what this module resolved, and only if the bytes match the checksum recorded here."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from maestro.core.aws import error_code, is_missing
from maestro.core.errors import ValidationError
from maestro.core.object_store import Objects
from maestro.core.tenancy import tenant_prefix
from maestro.registry.interface import PROXY_SCHEME, safe_path

FLAVORS = ("sklearn", "xgboost", "lightgbm")
MAX_DATASET_BYTES = 2 * 1024**3
HEADER_BYTES = 64 * 1024
RUNS_URI = "runs:/"


def sha256_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None = None
    sha256: str | None = None
    size: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> S3Object:
        return cls(**data)


def head(tenant: str, bucket: str, key: str, field: str) -> S3Object:
    """The object's metadata, read with `tenant`'s credentials (the tenant the job or caller belongs to,
    never one read off the key)."""
    try:
        found = Objects.of_tenant(bucket, tenant).head(key)
    except Exception as exc:
        if is_missing(exc) or error_code(exc) in ("403", "AccessDenied"):
            raise ValidationError(field, f"s3://{bucket}/{key} cannot be read ({error_code(exc)})") from exc
        raise
    return S3Object(bucket, key, found.get("VersionId"), found.get("ChecksumSHA256"), found["ContentLength"])


def read_verified(tenant: str, obj: S3Object) -> bytes:
    """The object's bytes at the recorded version, refused unless their SHA-256 is the recorded one."""
    body = Objects.of_tenant(obj.bucket, tenant).get(obj.key, version_id=obj.version_id, checked=True)
    if not obj.sha256 or sha256_b64(body) != obj.sha256:
        raise ChecksumMismatch(
            f"s3://{obj.bucket}/{obj.key} does not match the checksum recorded at submission"
        )
    return body


class ChecksumMismatch(Exception):
    """A model file's bytes differ from what the registry recorded: never deserialize them."""


def tenant_object(uri: str, bucket: str, tenant: str, field: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI that must lie in the artifacts bucket under the tenant's prefix."""
    if not uri.startswith("s3://"):
        raise ValidationError(field, "must be an s3:// URI")
    target, _, key = uri[5:].partition("/")
    prefix, rest = tenant_prefix(tenant), key[len(tenant_prefix(tenant)) :].rstrip("/")
    if target != bucket or not key.startswith(prefix) or not rest or safe_path(rest, field) != rest:
        raise ValidationError(field, f"must be under s3://{bucket}/{prefix}")
    return target, key


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    version: int
    flavor: str
    root: str  # the model directory's key prefix (ends with /)
    files: dict[str, S3Object]  # "MLmodel" and the flavor's model file, with their checksums
    mlmodel: dict[str, Any]

    @property
    def features(self) -> list[str] | int | None:
        """The signature's column names, or its tensor width, or None when the model has no signature."""
        inputs = (self.mlmodel.get("signature") or {}).get("inputs")
        if not inputs:
            return None
        spec = json.loads(inputs)
        if spec and spec[0].get("type") == "tensor":
            shape = spec[0].get("tensor-spec", {}).get("shape", [])
            return int(shape[-1]) if len(shape) == 2 and shape[-1] > 0 else None
        names = [c.get("name") for c in spec]
        return names if all(names) else len(names)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "flavor": self.flavor,
            "root": self.root,
            "files": {k: v.to_json() for k, v in self.files.items()},
            "mlmodel": self.mlmodel,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResolvedModel:
        files = {k: S3Object.from_json(v) for k, v in data["files"].items()}
        return cls(data["name"], data["version"], data["flavor"], data["root"], files, data["mlmodel"])


class ModelResolver:
    """Registered model (name + version or alias) -> the checksummed files of its MLflow model directory."""

    def __init__(self, registry_table: str, bucket: str, tenant: str) -> None:
        from maestro.registry.interface import ModelLookup  # deferred: only submissions resolve models

        self.registry = ModelLookup(tenant, registry_table)
        self.bucket, self.tenant = bucket, tenant

    def resolve(self, name: str, version: int | None, alias: str | None) -> ResolvedModel:
        model = self.registry.registered_model(name)
        if model is None:
            raise ValidationError("model.name", f"no registered model is named {name!r}")
        if alias is not None:
            number = (model.get("aliases") or {}).get(alias)
            if number is None:
                raise ValidationError("model.alias", f"model {name!r} has no alias {alias!r}")
            version = int(number)
        assert version is not None  # the request model requires a version or an alias
        found = self.registry.version(model, version)
        if found is None:
            raise ValidationError("model.version", f"model {name!r} has no version {version}")
        root = self._root(found.get("source", ""), found.get("run_id") or "")
        registered: dict[str, str] = found.get("checksums") or {}
        mlmodel_file = head(self.tenant, self.bucket, root + "MLmodel", "model")
        mlmodel = self._mlmodel(mlmodel_file)
        flavor = next((f for f in FLAVORS if f in (mlmodel.get("flavors") or {})), None)
        if flavor is None:
            raise ValidationError(
                "model",
                f"version {version} of {name!r} has flavors {sorted(mlmodel.get('flavors') or {})}; "
                f"explanations need one of {list(FLAVORS)}",
            )
        conf = mlmodel["flavors"][flavor]
        path = conf.get("pickled_model") if flavor == "sklearn" else conf.get("data")
        if not path:
            raise ValidationError("model", f"the MLmodel file names no {flavor} model file")
        model_file = head(self.tenant, self.bucket, root + safe_path(path, "model"), "model")
        for label, obj in (("MLmodel", mlmodel_file), (safe_path(path, "model"), model_file)):
            if not registered.get(label):
                raise ValidationError(
                    "model",
                    f"version {version} of {name!r} has no SHA-256 of {label} recorded at registration: only "
                    "files uploaded whole through Maestro's artifact API carry one (not files sent in "
                    "presigned multipart parts, nor versions registered before checksums were recorded)",
                )
            if obj.sha256 != registered[label]:
                raise ValidationError(
                    "model",
                    f"{label} of version {version} of {name!r} changed after it was registered; it will not "
                    "be loaded",
                )
        return ResolvedModel(
            name, version, flavor, root, {"MLmodel": mlmodel_file, "model": model_file}, mlmodel
        )

    def _root(self, source: str, run_id: str) -> str:
        from maestro.registry.interface import MODEL_URI

        match = MODEL_URI.match(source)
        if match:
            logged = self.registry.logged_model(match.group("model_id"))
            if logged is None:
                raise ValidationError("model", f"the logged model {match.group('model_id')} is gone")
            source = logged["artifact_location"]
        elif source.startswith(RUNS_URI):
            run_part, _, path = source[len(RUNS_URI) :].partition("/")
            run = self.registry.run(run_part or run_id)
            if run is None:
                raise ValidationError("model", f"the run of {source} is gone")
            source = f"{run['artifact_uri'].rstrip('/')}/{path}"
        prefix = tenant_prefix(self.tenant) + "artifacts/"
        if source.startswith(PROXY_SCHEME):
            return prefix + safe_path(source[len(PROXY_SCHEME) :].lstrip("/"), "model").rstrip("/") + "/"
        if source.startswith("s3://"):
            _, key = tenant_object(source, self.bucket, self.tenant, "model")
            if key.startswith(prefix):
                return key.rstrip("/") + "/"
        raise ValidationError(
            "model", f"{source} is not in the registry's artifacts; only those models are ever loaded"
        )

    def _mlmodel(self, obj: S3Object) -> dict[str, Any]:
        import yaml  # deferred: only submissions read MLmodel files

        try:
            parsed = yaml.safe_load(Objects.of_tenant(obj.bucket, self.tenant).get(obj.key))
        except yaml.YAMLError as exc:
            raise ValidationError("model", f"the MLmodel file is not valid YAML: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ValidationError("model", "the MLmodel file is not a mapping")
        return parsed


def csv_header(tenant: str, obj: S3Object) -> list[str]:
    """The first line of a CSV object, read with one ranged GET."""
    body = Objects.of_tenant(obj.bucket, tenant).get(obj.key, first_bytes=HEADER_BYTES)
    first = body.split(b"\n", 1)[0].decode("utf-8", "replace").strip("\r\ufeff")
    return [c.strip().strip('"') for c in first.split(",")] if first else []


def dataset_format(key: str, given: str | None) -> str:
    if given:
        return given
    lowered = key.lower()
    if lowered.endswith((".parquet", ".pq")):
        return "parquet"
    if lowered.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    raise ValidationError("dataset.format", "cannot tell from the file name; give csv or parquet")


def check_columns(
    features: list[str] | int | None, columns: list[str], target: str | None, field: str
) -> None:
    """The dataset's columns against the model's signature (names, or a width when it has none)."""
    if target is not None and target not in columns:
        raise ValidationError("dataset.target", f"no column is named {target!r} (columns: {columns[:20]})")
    feature_columns = [c for c in columns if c != target]
    if isinstance(features, list):
        missing = [f for f in features if f not in feature_columns]
        if missing:
            raise ValidationError(field, f"the model needs columns {missing} that the dataset lacks")
    elif isinstance(features, int) and features != len(feature_columns):
        raise ValidationError(
            field, f"the model takes {features} features but the dataset has {len(feature_columns)}"
        )
