"""What an explanation job asks for: the registered model, the dataset, the method, the background and
the rows and outputs to explain. Must never accept a request whose result would be ambiguous: exactly one
model version selector and exactly one dataset source."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_INLINE_ROWS = 1000
MAX_SELECTED_ROWS = 200_000
MAX_SHARDS = 100  # the state machine's Map runs at most MAP_CONCURRENCY of them at once
MAX_BACKGROUND = 1000
MAX_LIME_ROWS = 50
MAX_WATERFALL_ROWS = 10

Method = Literal["auto", "tree", "linear", "kernel", "permutation", "lime"]
Aggregation = Literal["mean_abs", "median", "mean_sq"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelRef(Strict):
    name: str = Field(min_length=1, max_length=256, description="registered model name")
    version: int | None = Field(None, ge=1, description="version number (or give an alias)")
    alias: str | None = Field(None, min_length=1, max_length=256, description="alias, e.g. champion")

    @model_validator(mode="after")
    def _one_selector(self) -> ModelRef:
        if (self.version is None) == (self.alias is None):
            raise ValueError("give exactly one of version or alias")
        return self


class Dataset(Strict):
    s3_uri: str | None = Field(
        None, description="s3://<artifacts bucket>/tenants/<tenant>/... (CSV or Parquet)"
    )
    format: Literal["csv", "parquet"] | None = Field(None, description="default: from the file extension")
    rows: list[list[float]] | None = Field(
        None, max_length=MAX_INLINE_ROWS, description=f"inline rows (up to {MAX_INLINE_ROWS})"
    )
    columns: list[str] | None = Field(None, description="feature names of the inline rows")
    target: str | None = Field(
        None, description="a label column: left out of the features, used for permutation importance"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Dataset:
        if (self.s3_uri is None) == (self.rows is None):
            raise ValueError("give exactly one of s3_uri or rows")
        if self.rows is not None:
            if not self.rows:
                raise ValueError("rows must not be empty")
            widths = {len(r) for r in self.rows}
            if len(widths) != 1:
                raise ValueError(f"every row needs the same number of values (found {sorted(widths)})")
            if self.columns is not None and len(self.columns) != widths.pop():
                raise ValueError("columns must name every value of a row")
        return self


class Background(Strict):
    strategy: Literal["sample", "kmeans"] = Field(
        "sample", description="sample rows (shap.utils.sample) or summarize them (shap.kmeans)"
    )
    size: int = Field(100, ge=1, le=MAX_BACKGROUND, description="rows or clusters in the background")
    s3_uri: str | None = Field(None, description="a separate baseline dataset (default: the dataset)")


class RowSelection(Strict):
    start: int = Field(0, ge=0)
    stop: int | None = Field(None, ge=1, description="exclusive; default: the last row")
    indices: list[int] | None = Field(
        None, max_length=MAX_SELECTED_ROWS, description="explicit row numbers (instead of start/stop)"
    )


class ExplanationRequest(Strict):
    model: ModelRef
    dataset: Dataset
    method: Method = Field(
        "auto", description="auto: tree for tree ensembles, linear for linear models, else permutation/kernel"
    )
    background: Background = Background()
    rows: RowSelection = RowSelection()
    outputs: list[int] | None = Field(None, description="model output indices to explain (default: all)")
    aggregation: Aggregation = Field(
        "mean_abs", description="global importance ranking (as SageMaker Clarify)"
    )
    nsamples: int | None = Field(None, ge=10, le=100_000, description="kernel/permutation/lime evaluations")
    lime_rows: list[int] = Field(
        [], max_length=MAX_LIME_ROWS, description="rows (positions in the selection) to explain with LIME"
    )
    waterfall_rows: list[int] | None = Field(
        None, max_length=MAX_WATERFALL_ROWS, description="rows (positions) drawn as waterfalls (default: 0)"
    )
    shard_rows: int = Field(500, ge=1, le=MAX_SELECTED_ROWS, description="rows per shard")
    shards: int | None = Field(None, ge=1, le=MAX_SHARDS, description="exactly this many shards instead")
    seed: int = Field(0, ge=0, le=2**32 - 1)
